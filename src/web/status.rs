//! Staff endpoints: `/status.json` (a contract for monitoring scripts), `/status` (the same as a
//! page, in Chinese) and `/metrics` (Prometheus).
//!
//! Who may see them: with `service.admin_token` set, whoever presents it (`Authorization: Bearer …`
//! or `?token=…`, compared in constant time); without it, loopback clients only — and a request
//! that carries `Forwarded` / `X-Forwarded-For` is not a loopback client even when it comes from
//! 127.0.0.1, since a reverse proxy on the same host would otherwise open the door to everyone.
//! Everything shown is read from the store, so it is right after a restart and also when polls
//! run from `portalfeed poll` under cron; only `next_poll` needs the daemon.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::store::{OutboxCounts, SourceHealth};

/// One source in `/status.json`. The key names are a contract.
#[derive(Serialize)]
struct SourceStatus {
    id: String,
    title: String,
    list_url: String,
    last_poll: Option<String>,
    last_success: Option<String>,
    next_poll: Option<String>,
    consecutive_failures: u32,
    last_error: Option<String>,
    items: u64,
    new_last_poll: u32,
}

#[derive(Serialize)]
struct Status {
    sources: Vec<SourceStatus>,
    outbox: OutboxStatus,
}

#[derive(Serialize)]
struct OutboxStatus {
    queued: u64,
    sent: u64,
    failed: u64,
    oldest_queued: Option<String>,
}

/// A row of the page.
struct Row {
    id: String,
    title: String,
    list_url: String,
    last_poll: String,
    last_success: String,
    next_poll: String,
    failures: u32,
    items: u64,
    new_last_poll: u32,
    last_error: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct Page {
    generated: String,
    zone: String,
    token_query: String,
    sources: Vec<Row>,
    outbox: OutboxCounts,
    oldest_queued: String,
}

type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;
type Params = Query<HashMap<String, String>>;

/// `GET /status.json`.
pub async fn json(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    q: Params,
    h: HeaderMap,
) -> Response {
    if let Some(denied) = deny(&state, peer, &q, &h) {
        return denied;
    }
    match gather(&state).await {
        Ok((sources, outbox)) => {
            let tz = state.config().service.timezone;
            let status = Status {
                sources: sources
                    .into_iter()
                    .map(|(s, h, next)| SourceStatus {
                        id: s.id,
                        title: s.title,
                        list_url: s.list_url,
                        last_poll: h.last_poll.map(|t| rfc3339(t, tz)),
                        last_success: h.last_success.map(|t| rfc3339(t, tz)),
                        next_poll: next.map(|t| rfc3339(t, tz)),
                        consecutive_failures: h.consecutive_failures,
                        last_error: h.last_error,
                        items: h.items,
                        new_last_poll: h.new_last_poll,
                    })
                    .collect(),
                outbox: OutboxStatus {
                    queued: outbox.queued,
                    sent: outbox.sent,
                    failed: outbox.failed,
                    oldest_queued: outbox.oldest_queued.map(|t| rfc3339(t, tz)),
                },
            };
            let mut r = axum::Json(status).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /status`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    q: Params,
    h: HeaderMap,
) -> Response {
    if let Some(denied) = deny(&state, peer, &q, &h) {
        return denied;
    }
    let (sources, outbox) = match gather(&state).await {
        Ok(g) => g,
        Err(e) => return unavailable(e),
    };
    let tz = state.config().service.timezone;
    let shown = |t: Option<DateTime<Utc>>| t.map_or_else(|| "—".to_string(), |t| local(t, tz));
    let page = Page {
        generated: local(Utc::now(), tz),
        zone: tz.name().to_string(),
        token_query: q
            .get("token")
            .map(|t| format!("?token={t}"))
            .unwrap_or_default(),
        sources: sources
            .into_iter()
            .map(|(s, h, next)| Row {
                id: s.id,
                title: s.title,
                list_url: s.list_url,
                last_poll: shown(h.last_poll),
                last_success: shown(h.last_success),
                next_poll: shown(next),
                failures: h.consecutive_failures,
                items: h.items,
                new_last_poll: h.new_last_poll,
                last_error: h.last_error.unwrap_or_default(),
            })
            .collect(),
        oldest_queued: shown(outbox.oldest_queued),
        outbox,
    };
    match page.render() {
        Ok(html) => {
            let mut r = Html(html).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("render: {e}\n")).into_response(),
    }
}

/// `GET /metrics`.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    q: Params,
    h: HeaderMap,
) -> Response {
    if let Some(denied) = deny(&state, peer, &q, &h) {
        return denied;
    }
    let store = Arc::clone(&state.store);
    let read = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::store::StoreError>((store.item_count()?, store.outbox_counts()?))
    })
    .await;
    match read {
        Ok(Ok((items, outbox))) => {
            state.metrics.items_stored.set(items);
            state.metrics.outbox_queued.set(outbox.queued as i64);
            state.metrics.outbox_failed.set(outbox.failed as i64);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: cannot read the store"),
        Err(e) => tracing::warn!(error = %e, "metrics: store task failed"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// A source as configured: id, title, list URL.
struct Configured {
    id: String,
    title: String,
    list_url: String,
}

type Gathered = (
    Vec<(Configured, SourceHealth, Option<DateTime<Utc>>)>,
    OutboxCounts,
);

async fn gather(state: &Arc<AppState>) -> Result<Gathered, String> {
    let config = state.config();
    let next: HashMap<String, DateTime<Utc>> = state
        .next_polls
        .read()
        .map(|m| m.clone())
        .unwrap_or_default();
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(config.sources.len());
        for s in &config.sources {
            let health = store.source_health(&s.id).map_err(|e| e.to_string())?;
            let configured = Configured {
                id: s.id.clone(),
                title: s.title.clone(),
                list_url: s.list_url.to_string(),
            };
            out.push((configured, health, next.get(&s.id).copied()));
        }
        let outbox = store.outbox_counts().map_err(|e| e.to_string())?;
        Ok((out, outbox))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `Some(answer)` when this client may not see staff endpoints.
fn deny(state: &AppState, peer: Peer, q: &Params, headers: &HeaderMap) -> Option<Response> {
    match state.config().service.admin_token.as_deref() {
        Some(expected) => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let given = bearer.or(q.get("token").map(String::as_str));
            if given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(expected.as_bytes()))) {
                None
            } else {
                Some(
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Bearer realm=\"portalfeed\"")],
                        "this page needs service.admin_token (Authorization: Bearer … or ?token=…)\n",
                    )
                        .into_response(),
                )
            }
        }
        None => {
            let proxied =
                headers.contains_key("forwarded") || headers.contains_key("x-forwarded-for");
            let loopback = peer.is_some_and(|Extension(ConnectInfo(addr))| addr.ip().is_loopback());
            (!loopback || proxied).then(|| {
                (
                    StatusCode::FORBIDDEN,
                    "staff pages answer loopback clients only; set service.admin_token to open them to others\n",
                )
                    .into_response()
            })
        }
    }
}

fn rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

fn unavailable(e: String) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")).into_response()
}
