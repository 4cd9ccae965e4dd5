//! The feed endpoints: `/feeds/{source}.{rss,atom,json}`, `/feeds/all.*` and `/feeds.opml`.
//!
//! Query: `limit` (1–500, default 50; anything else is 400) and `q` (keep items whose title or body
//! contains the text). Renderings are cached ([`super::cache`]) and answered 304 when the client's
//! validators match. Headers: strong ETag, Last-Modified (the newest item's change), Cache-Control
//! `public, max-age=60`, CORS `*`, and the format's media type with `charset=utf-8`; gzip or brotli
//! bytes made once per rendering ([`super::encoding`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::cache::Rendered;
use super::conditional::{http_date, not_modified};
use super::encoding::{Coding, negotiate};
use crate::config::{Config, Source};
use crate::feed::{self, Channel, Entry, OpmlFeed};
use crate::store::FeedItem;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;
const MAX_QUERY_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "rss" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

/// `GET /feeds/{file}`.
pub async fn feed(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((id, format)) = file
        .rsplit_once('.')
        .and_then(|(id, ext)| Some((id.to_string(), Format::from_extension(ext)?)))
    else {
        return plain(StatusCode::NOT_FOUND, format!("no such feed: {file}\n"));
    };
    state.metrics.feed_requests.inc();
    if id != "all" && state.config().source(&id).is_none() {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no such feed: {file} (unknown source {id:?})\n"),
        );
    }
    let limit = match params.get("limit").map(|l| l.parse::<u32>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("limit must be a whole number from 1 to {MAX_LIMIT}\n"),
            );
        }
    };
    let query = params
        .get("q")
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    if query
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
    {
        return plain(
            StatusCode::BAD_REQUEST,
            format!("q must be at most {MAX_QUERY_CHARS} characters\n"),
        );
    }
    let key = format!("{file}?limit={limit}&q={}", query.as_deref().unwrap_or(""));
    state.cache.refresh(&state.store).await;
    let rendered = match state.cache.get(&key) {
        Some(r) => r,
        None => {
            let generation = state.cache.generation();
            let st = Arc::clone(&state);
            let path = format!("/feeds/{file}");
            let q = query.clone();
            let made = tokio::task::spawn_blocking(move || {
                render(&st, &id, format, &path, limit, q.as_deref())
            })
            .await;
            let rendered = match made {
                Ok(Ok(r)) => Arc::new(r),
                Ok(Err(e)) => {
                    return plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("database error: {e}\n"),
                    );
                }
                Err(e) => {
                    return plain(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("render failed: {e}\n"),
                    );
                }
            };
            // Searches are not cached: their keys are unbounded.
            if query.is_none() {
                state.cache.put(key, generation, Arc::clone(&rendered));
            }
            rendered
        }
    };
    counted(&state, respond(&rendered, &headers))
}

/// Counts a 304 answer.
fn counted(state: &AppState, response: Response) -> Response {
    if response.status() == StatusCode::NOT_MODIFIED {
        state.metrics.feed_not_modified.inc();
    }
    response
}

/// `GET /feeds.opml`.
pub async fn opml(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    state.metrics.feed_requests.inc();
    let key = "feeds.opml".to_string();
    let rendered = match state.cache.get(&key) {
        Some(r) => r,
        None => {
            let r = Arc::new(Rendered::new(
                opml_text(&state.config()),
                None,
                "text/x-opml; charset=utf-8",
            ));
            state
                .cache
                .put(key, state.cache.generation(), Arc::clone(&r));
            r
        }
    };
    counted(&state, respond(&rendered, &headers))
}

/// The answer to a request for `rendered`: 304 when the client's copy is current.
pub fn respond(rendered: &Rendered, request: &HeaderMap) -> Response {
    let coding = negotiate(request);
    // The strong tag names the identity bytes; a compressed representation gets its weak form.
    let etag = match coding {
        Coding::Identity => rendered.etag.clone(),
        _ => format!("W/{}", rendered.etag),
    };
    let fresh = not_modified(request, &rendered.etag, rendered.last_modified);
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        rendered.body_in(coding).into_response()
    };
    let h = response.headers_mut();
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        );
        if let Some(name) = coding.header() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
        }
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = rendered
        .last_modified
        .and_then(|t| HeaderValue::from_str(&http_date(t)).ok())
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Last-Modified"),
    );
    response
}

fn render(
    state: &AppState,
    id: &str,
    format: Format,
    path: &str,
    limit: u32,
    query: Option<&str>,
) -> Result<Rendered, crate::store::StoreError> {
    let config = &state.config();
    let source = config.source(id);
    let items = state
        .store
        .feed_items(source.map(|s| s.id.as_str()), limit, query)?;
    let entries: Vec<Entry> = items.into_iter().map(entry).collect();
    let channel = channel(config, source, path, &entries);
    let tz = config.service.timezone;
    let body = match format {
        Format::Rss => feed::rss(&channel, &entries, tz),
        Format::Atom => feed::atom(&channel, &entries, tz),
        Format::Json => feed::json_feed(&channel, &entries, tz),
    };
    Ok(Rendered::new(body, channel.updated, format.content_type()))
}

fn entry(f: FeedItem) -> Entry {
    let i = f.item;
    Entry {
        id: i.id,
        url: i.url,
        title: i.title,
        published: i.published,
        updated: i.updated,
        content_html: i.content_html,
        summary: i.summary,
        author: i.author,
        origin: i.origin,
        categories: f.sources,
        attachments: i.attachments,
    }
}

fn public(config: &Config, path: &str) -> String {
    config
        .service
        .public_url
        .join(path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_string())
}

fn channel(config: &Config, source: Option<&Source>, path: &str, entries: &[Entry]) -> Channel {
    let tz = config.service.timezone;
    let (title, link, description, ttl) = match source {
        Some(s) => (
            s.title.clone(),
            s.list_url.to_string(),
            format!("{}：{} 的最新信息", s.title, s.list_url),
            s.schedule.min_interval(tz),
        ),
        None => {
            let titles: Vec<&str> = config.sources.iter().map(|s| s.title.as_str()).collect();
            let ttl = config
                .sources
                .iter()
                .filter_map(|s| s.schedule.min_interval(tz))
                .min();
            (
                "全部信息".to_string(),
                public(config, "/"),
                format!("全部栏目的最新信息：{}", titles.join("、")),
                ttl,
            )
        }
    };
    Channel {
        title,
        link,
        description,
        self_url: public(config, path),
        home_url: public(config, "/"),
        ttl_minutes: ttl.map(|d| (d.as_secs() / 60).max(1) as u32),
        updated: entries.iter().map(|e| e.updated).max(),
    }
}

fn opml_text(config: &Config) -> String {
    let mut feeds: Vec<OpmlFeed> = config
        .sources
        .iter()
        .map(|s| OpmlFeed {
            title: s.title.clone(),
            xml_url: public(config, &format!("/feeds/{}.rss", s.id)),
            html_url: s.list_url.to_string(),
        })
        .collect();
    feeds.push(OpmlFeed {
        title: "全部信息".into(),
        xml_url: public(config, "/feeds/all.rss"),
        html_url: public(config, "/"),
    });
    feed::opml("portalfeed 订阅源", &feeds)
}
