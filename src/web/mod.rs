//! The HTTP side: the public page and its email form (double opt-in), feeds, the OPML list,
//! unsubscribe and manage links, staff status and metrics, and a health check.
//!
//! `serve(listener, state, shutdown)` takes its listener and a shutdown future (tests bind
//! 127.0.0.1:0 and stop it cleanly). Web never fetches: it reads the store and renders through
//! [`crate::feed`] and askama templates; it writes only what a visitor asks for through a form or
//! a signed link (a subscription request, a confirmation, changed choices, an unsubscribe).
//! Requests are bounded: a 10 s handler timeout, a 64 KiB body limit, a header-read timeout per
//! connection; feeds are compressed (gzip, brotli) once per rendering when asked.

mod cache;
pub mod conditional;
mod encoding;
mod feeds;
mod guard;
pub mod metrics;
mod optin;
mod page;
mod server;
mod status;
mod unsubscribe;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use cache::Cache;
pub use metrics::Metrics;

use crate::config::Config;
use crate::store::Store;

/// What every handler sees.
pub struct AppState {
    /// Swapped whole when the daemon re-reads its config (SIGHUP).
    config: RwLock<Arc<Config>>,
    pub store: Arc<Store>,
    pub cache: Arc<Cache>,
    /// The key of signed links (unsubscribe), when mail is configured.
    secret: RwLock<Option<Vec<u8>>>,
    pub metrics: Arc<Metrics>,
    /// When the daemon will next poll each source (empty under `serve`).
    pub next_polls: RwLock<HashMap<String, chrono::DateTime<chrono::Utc>>>,
    /// Form submissions per client address.
    pub limiter: guard::Limiter,
    /// Told after each burst of work (a poll, a digest run): the daemon hands memory back once it
    /// has been quiet a while (`schedule::quiet`).
    pub busy: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// The state for `config` over `store`, with the link secret read (or made) once.
    pub fn new(
        config: Arc<Config>,
        store: Arc<Store>,
    ) -> Result<AppState, crate::store::StoreError> {
        let secret = link_secret(&config, &store)?;
        Ok(AppState {
            config: RwLock::new(config),
            store,
            cache: Arc::default(),
            secret: RwLock::new(secret),
            metrics: Arc::default(),
            next_polls: RwLock::default(),
            limiter: guard::Limiter::default(),
            busy: Arc::default(),
        })
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts a re-read config in force (and the link secret it implies); cached feeds are dropped.
    pub fn set_config(&self, config: Arc<Config>) -> Result<(), crate::store::StoreError> {
        let secret = link_secret(&config, &self.store)?;
        if let Ok(mut s) = self.secret.write() {
            *s = secret;
        }
        if let Ok(mut c) = self.config.write() {
            *c = config;
        }
        self.cache.invalidate();
        Ok(())
    }

    /// The key of signed links, when mail is configured.
    pub fn secret(&self) -> Option<Vec<u8>> {
        self.secret.read().ok().and_then(|s| s.clone())
    }
}

fn link_secret(
    config: &Config,
    store: &Store,
) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
    match &config.email {
        Some(email) => Ok(Some(crate::mail::token::secret(
            email.secret.as_deref(),
            store,
        )?)),
        None => Ok(None),
    }
}

/// The routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/subscribe", axum::routing::post(page::subscribe))
        .route("/confirm/{token}", get(optin::confirm))
        .route("/manage/{token}", get(optin::manage).post(optin::save))
        .route("/feeds/{file}", get(feeds::feed))
        .route("/feeds.opml", get(feeds::opml))
        .route("/healthz", get(healthz))
        .route("/status", get(status::page))
        .route("/status.json", get(status::json))
        .route("/metrics", get(status::metrics))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::confirm).post(unsubscribe::unsubscribe),
        )
        .fallback(not_found)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(10),
        ))
}

/// Serves feeds on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    server::run(listener, router(state), shutdown).await;
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let store = Arc::clone(&state.store);
    match tokio::task::spawn_blocking(move || store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "ok\n",
        )
            .into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("health check failed: {e}\n"),
        )
            .into_response(),
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "not found\n",
    )
        .into_response()
}
