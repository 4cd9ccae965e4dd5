//! `portalfeed run`: the daemon as operators deploy it — the clock, the mail side and the web server
//! in one process, with the Unix lifecycle around them.
//!
//! - SIGTERM / SIGINT: no new polls; polls in flight get a few seconds; the server drains; exit 0
//!   well within 10 s (systemd's default stop timeout is 90 s, the unit sets 15 s).
//! - SIGHUP: the config file is read again; if valid it is put in force without a restart (sources
//!   added, removed, changed); if not, the error is logged and the running config kept. Only
//!   `service.listen` and `service.database` need a restart (logged when they change).
//! - sd_notify (when started by systemd with `Type=notify`): READY=1 once the database is open and
//!   the listener bound, RELOADING=1 / READY=1 around a reload, STOPPING=1 on the way out, and
//!   WATCHDOG=1 at half the unit's `WatchdogSec` while the database answers.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::sync::{mpsc, watch};

use super::{load, open_store};
use crate::config::Config;
use crate::schedule::{daemon::Daemon, housekeeping, mailing, quiet};
use crate::web::AppState;

/// `portalfeed run`.
pub async fn run(path: &Path) -> ExitCode {
    let config = match load(path) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let listener = match tokio::net::TcpListener::bind(config.service.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "portalfeed: listen on {} (service.listen): {e}",
                config.service.listen
            );
            return ExitCode::from(1);
        }
    };
    let state = match AppState::new(Arc::clone(&config), store) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    let (events_tx, events_rx) = mpsc::channel(256);
    let daemon = match Daemon::new(Arc::clone(&state), events_tx).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (reload_tx, reload_rx) = mpsc::channel(4);
    let signals = tokio::spawn(signals(
        path.to_path_buf(),
        Arc::clone(&config),
        stop_tx,
        reload_tx,
    ));
    let server = tokio::spawn(crate::web::serve(
        listener,
        Arc::clone(&state),
        stopped(stop_rx.clone()),
    ));
    let mail = tokio::spawn(mailing::run(Arc::clone(&state), events_rx, stop_rx.clone()));
    let watchdog = tokio::spawn(watchdog(Arc::clone(&state)));
    let chores = tokio::spawn(housekeeping::run(Arc::clone(&state.store), stop_rx.clone()));
    let quiet = tokio::spawn(quiet::run(
        Arc::clone(&state.store),
        Arc::clone(&state.busy),
        stop_rx.clone(),
    ));
    tracing::info!(listen = %config.service.listen, sources = config.sources.len(), "running");
    notify(&[NotifyState::Ready, NotifyState::Status("polling")]);
    daemon.run(reload_rx, stop_rx).await;
    watchdog.abort();
    chores.abort();
    quiet.abort();
    if tokio::time::timeout(Duration::from_secs(2), mail)
        .await
        .is_err()
    {
        tracing::warn!("mail still busy at shutdown; queued mail stays queued");
    }
    let _ = server.await;
    signals.abort();
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Turns signals into a stop or a reload until the stop.
async fn signals(
    path: PathBuf,
    mut current: Arc<Config>,
    stop: watch::Sender<bool>,
    reload: mpsc::Sender<Arc<Config>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGHUP; stop with SIGINT");
        let _ = tokio::signal::ctrl_c().await;
        notify(&[NotifyState::Stopping]);
        let _ = stop.send(true);
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hup.recv() => {
                notify(&[NotifyState::Reloading]);
                if let Ok(monotonic) = sd_notify::NotifyState::monotonic_usec_now() {
                    notify(&[monotonic]);
                }
                match Config::load(&path) {
                    Ok(new) => {
                        if new.service.listen != current.service.listen || new.service.database != current.service.database {
                            tracing::warn!("service.listen and service.database take effect at the next restart");
                        }
                        let new = Arc::new(new);
                        current = Arc::clone(&new);
                        tracing::info!(path = %path.display(), "SIGHUP: config read again");
                        let _ = reload.send(new).await;
                    }
                    Err(e) => tracing::error!(error = %e, "SIGHUP: config not valid; keeping the running one"),
                }
                notify(&[NotifyState::Ready]);
            }
        }
    }
    tracing::info!("stop requested");
    notify(&[NotifyState::Stopping]);
    let _ = stop.send(true);
}

/// Resolves when `stop` turns true.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Pets systemd's watchdog while the database answers.
async fn watchdog(state: Arc<AppState>) {
    let Some(every) = sd_notify::watchdog_enabled() else {
        return;
    };
    let mut tick = tokio::time::interval(every / 2);
    loop {
        tick.tick().await;
        let store = Arc::clone(&state.store);
        match tokio::task::spawn_blocking(move || store.ping()).await {
            Ok(Ok(())) => notify(&[NotifyState::Watchdog]),
            _ => tracing::error!("database does not answer; watchdog not fed"),
        }
    }
}

fn notify(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify");
    }
}
