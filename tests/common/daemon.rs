//! The real `portalfeed run` binary as a child process: a config in a temporary folder, its web
//! port, `/status.json` polling, signals, and a stop that reports how it exited and how long it took.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};

/// A free port on 127.0.0.1 (bound, then released for the daemon).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A folder with a config for the daemon and its database.
pub struct DaemonSetup {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub port: u16,
}

impl DaemonSetup {
    /// `service` lines go under `[service]` (database, listen and public_url are set here); `rest`
    /// follows a fast `[fetch]` section (sources, `[email]`).
    pub fn new(service: &str, rest: &str) -> DaemonSetup {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("portalfeed.toml");
        let port = free_port();
        let setup = DaemonSetup {
            dir,
            config_path,
            port,
        };
        setup.write(service, rest);
        setup
    }

    /// Rewrites the config (same port and database).
    pub fn write(&self, service: &str, rest: &str) {
        let port = self.port;
        let text = format!(
            "[service]\ndatabase = \"test.db\"\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n{service}\n\n\
             [fetch]\nper_host_delay_ms = 0\ntimeout_secs = 3\n\n{rest}"
        );
        std::fs::write(&self.config_path, text).expect("write config");
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("test.db")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts `portalfeed run` and waits until it answers on its port.
    pub async fn start(&self) -> Running {
        self.start_with(&[]).await
    }

    /// Starts `portalfeed run` with these extra environment variables.
    pub async fn start_with(&self, env: &[(&str, &str)]) -> Running {
        self.start_command("run", env).await
    }

    /// Starts `portalfeed serve` (the web server alone).
    pub async fn start_serve(&self) -> Running {
        self.start_command("serve", &[]).await
    }

    async fn start_command(&self, command: &str, env: &[(&str, &str)]) -> Running {
        let child = Command::new(env!("CARGO_BIN_EXE_portalfeed"))
            .arg("--config")
            .arg(&self.config_path)
            .arg(command)
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.dir.path().join("daemon.log")).expect("log file"),
            ))
            .kill_on_drop(true)
            .spawn()
            .expect("start portalfeed run");
        let running = Running {
            child,
            base: self.url(""),
            log: self.dir.path().join("daemon.log"),
        };
        let started = Instant::now();
        while running
            .get("/healthz")
            .await
            .is_none_or(|(code, _)| code != 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the daemon did not answer /healthz within 20 s\n{}",
                running.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        running
    }
}

/// A running daemon.
pub struct Running {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("daemon still running")
    }

    /// GETs `path` (status and body).
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let r = reqwest::get(format!("{}{path}", self.base)).await.ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().await.ok()?))
    }

    pub async fn status(&self) -> Option<Value> {
        let (code, body) = self.get("/status.json").await?;
        if code != 200 {
            return None;
        }
        serde_json::from_str(&body).ok()
    }

    /// The entry of `id` in `/status.json`.
    pub async fn source(&self, id: &str) -> Option<Value> {
        let status = self.status().await?;
        status["sources"]
            .as_array()?
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
    }

    /// Polls `/status.json` until `check` holds; panics with the last status and the log after
    /// `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        let mut last = Value::Null;
        while started.elapsed() < timeout {
            if let Some(s) = self.status().await {
                if check(&s) {
                    return s;
                }
                last = s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "waited {timeout:?} for {what}; last status: {last:#}\n--- daemon log ---\n{}",
            self.log_text()
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (e.g. "HUP", "TERM", "KILL") with kill(1).
    pub fn signal(&self, signal: &str) {
        let ok = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// SIGTERM, then waits: how it exited and how long it took.
    pub async fn stop(mut self) -> (ExitStatus, Duration) {
        self.signal("TERM");
        let started = Instant::now();
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("daemon exits within 20 s of SIGTERM")
            .expect("wait for the daemon");
        (status, started.elapsed())
    }

    /// Waits for an exit after a signal the test already sent.
    pub async fn stop_after_signal(mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("daemon exits within 20 s")
            .expect("wait for the daemon");
        (status, started.elapsed())
    }

    /// SIGKILL, and waits for the process to be gone.
    pub async fn kill9(mut self) {
        self.child.kill().await.expect("SIGKILL the daemon");
    }
}

/// The number of entries of `id` with a non-null `key` in a status.
pub fn source_of<'a>(status: &'a Value, id: &str) -> Option<&'a Value> {
    status["sources"].as_array()?.iter().find(|s| s["id"] == id)
}
