//! Shared test helpers: fixture servers, configs in temporary folders, polls in-process and as
//! the real binary.

#![allow(dead_code, unused_imports)]

pub mod daemon;
pub mod html;
pub mod public;
pub mod server;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use portalfeed::config::Config;
use portalfeed::schedule::poll::{Poller, SourceReport};
use portalfeed::store::Store;

pub use server::{Override, Site, fixtures};

/// A temporary folder holding a config file (and the database beside it).
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Setup {
    /// Writes `sources` (TOML for `[[source]]` tables) under a fast `[fetch]` section.
    pub fn new(sources: &str) -> Setup {
        Setup::with_fetch("per_host_delay_ms = 0\ntimeout_secs = 5\n", sources)
    }

    pub fn with_fetch(fetch: &str, sources: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = dir.path().join("portalfeed.toml");
        let text = format!("[service]\ndatabase = \"test.db\"\n\n[fetch]\n{fetch}\n{sources}");
        std::fs::write(&config_path, text).expect("write config");
        Setup { dir, config_path }
    }

    pub fn config(&self) -> Arc<Config> {
        Arc::new(Config::load(&self.config_path).expect("valid test config"))
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("test.db")
    }

    pub fn store(&self) -> Arc<Store> {
        Arc::new(Store::open(&self.db_path()).expect("open store"))
    }

    /// One poll of every source (or the given ones), in-process.
    pub async fn poll(&self, only: Option<&[String]>) -> Vec<SourceReport> {
        let config = self.config();
        let store = self.store();
        let sources = config
            .sources
            .iter()
            .map(|s| (s.id.as_str(), s.title.as_str(), s.list_url.as_str()));
        store.sync_sources(sources).expect("sync sources");
        let poller = Arc::new(Poller::new(config, store).expect("poller"));
        poller.poll_all(only).await
    }

    /// Runs the real binary with `args` after `--config <this config>`.
    pub async fn run(&self, args: &[&str]) -> Output {
        run_binary(&self.config_path, args).await
    }
}

pub async fn run_binary(config: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_portalfeed"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run portalfeed")
}

/// A `[[source]]` table.
pub fn source(id: &str, list_url: &str, extra: &str) -> String {
    format!("[[source]]\nid = \"{id}\"\nlist_url = \"{list_url}\"\n{extra}\n")
}

/// The one report, which must have succeeded.
pub fn ok(reports: &[SourceReport], id: &str) -> portalfeed::schedule::poll::Polled {
    let r = reports
        .iter()
        .find(|r| r.source_id == id)
        .expect("a report for the source");
    match &r.result {
        Ok(p) => *p,
        Err(e) => panic!("source {id} failed: {e}"),
    }
}

/// The error of a report, which must have failed.
pub fn failed(reports: &[SourceReport], id: &str) -> String {
    let r = reports
        .iter()
        .find(|r| r.source_id == id)
        .expect("a report for the source");
    match &r.result {
        Ok(p) => panic!("source {id} should have failed, got {p:?}"),
        Err(e) => e.to_string(),
    }
}
