//! Rendered feeds kept in memory while the database is unchanged.
//!
//! Before a cached rendering is served, [`Cache::refresh`] asks SQLite's `PRAGMA data_version`
//! (microseconds of work) at most every [`CHECK_EVERY`]; when another process — a `portalfeed
//! poll` — has committed, the generation moves on and the cache is emptied, so new items show at
//! the next request while unchanged feeds are served without reading any items. Nothing runs
//! between requests: an idle server does not wake. Bounded: past [`MAX_ENTRIES`] renderings the
//! cache is emptied.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::store::Store;

const MAX_ENTRIES: usize = 256;
/// The longest a rendering is served without asking whether the database changed.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// One rendered representation.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    /// Strong, from the bytes: the same content always has the same tag, across restarts.
    pub etag: String,
    pub last_modified: Option<DateTime<Utc>>,
    pub content_type: &'static str,
    gzip: std::sync::OnceLock<Bytes>,
    brotli: std::sync::OnceLock<Bytes>,
}

impl Rendered {
    pub fn new(
        body: String,
        last_modified: Option<DateTime<Utc>>,
        content_type: &'static str,
    ) -> Rendered {
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!(
            "\"{}\"",
            digest
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Rendered {
            body: Bytes::from(body),
            etag,
            last_modified,
            content_type,
            gzip: std::sync::OnceLock::new(),
            brotli: std::sync::OnceLock::new(),
        }
    }

    /// The body in `coding`, compressed on first demand and kept with the rendering.
    pub fn body_in(&self, coding: super::encoding::Coding) -> Bytes {
        use super::encoding::{Coding, brotli, gzip};
        match coding {
            Coding::Identity => self.body.clone(),
            Coding::Gzip => self.gzip.get_or_init(|| gzip(&self.body)).clone(),
            Coding::Brotli => self.brotli.get_or_init(|| brotli(&self.body)).clone(),
        }
    }
}

/// The cache.
#[derive(Default)]
pub struct Cache {
    generation: AtomicU64,
    entries: RwLock<HashMap<String, (u64, Arc<Rendered>)>>,
    /// When `data_version` was last read, and what it was.
    checked: tokio::sync::Mutex<Option<(Instant, i64)>>,
}

impl Cache {
    /// The rendering cached under `key` for the current generation.
    pub fn get(&self, key: &str) -> Option<Arc<Rendered>> {
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.read().ok()?;
        entries
            .get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, r)| Arc::clone(r))
    }

    /// The generation a rendering must be started in to be stored by [`Cache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `rendered` unless the data changed while it was being rendered.
    pub fn put(&self, key: String, generation: u64, rendered: Arc<Rendered>) {
        if generation != self.generation() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (generation, rendered));
        }
    }

    /// Starts a new generation: everything cached is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Empties the cache if another connection committed since the last look, looking at most
    /// every [`CHECK_EVERY`] (concurrent requests share one look).
    pub async fn refresh(&self, store: &Arc<Store>) {
        let mut checked = self.checked.lock().await;
        if checked.is_some_and(|(at, _)| at.elapsed() < CHECK_EVERY) {
            return;
        }
        let reader = Arc::clone(store);
        match tokio::task::spawn_blocking(move || reader.data_version()).await {
            Ok(Ok(v)) => {
                if checked.is_some_and(|(_, last)| last != v) {
                    tracing::debug!(data_version = v, "database changed; feed cache emptied");
                    self.invalidate();
                }
                *checked = Some((Instant::now(), v));
            }
            // Serving what is cached is better than failing; the next request looks again.
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the database's data_version"),
            Err(e) => tracing::warn!(error = %e, "data_version task failed"),
        }
    }
}
