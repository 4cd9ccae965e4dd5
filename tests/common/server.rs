//! A real HTTP server on 127.0.0.1 serving a fixture site, with a log of every request.
//!
//! Files under `tests/fixtures/sites/<name>/` (or another fixture set's `sites/<name>/`) are
//! served at their path; the folder's `_headers` file adds response headers (`<path> <Name>:
//! <value>` per line). Every file gets a strong ETag from its bytes and a fixed Last-Modified,
//! and conditional requests are answered 304, so tests can count the 304s. Tests override single paths to model a misbehaving portal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

const LAST_MODIFIED: &str = "Tue, 19 Mar 2024 08:00:00 GMT";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub at: Instant,
    pub status: u16,
    pub user_agent: String,
    pub accept_encoding: String,
    pub conditional: bool,
}

/// How a path misbehaves.
#[derive(Debug, Clone)]
pub enum Override {
    /// This status, these headers, this body.
    Status(u16, Vec<(String, String)>, Vec<u8>),
    /// 200 with this body and content type.
    Body(Vec<u8>, String),
    /// Accept the request and never answer.
    Hang,
    /// 302 to this location.
    Redirect(String),
    /// 200 streaming this many bytes without a Content-Length.
    Endless(u64),
}

struct SiteState {
    root: Option<PathBuf>,
    headers: HashMap<String, Vec<(String, String)>>,
    overrides: Mutex<HashMap<String, Override>>,
    log: Mutex<Vec<Hit>>,
}

/// A running fixture site.
pub struct Site {
    pub addr: SocketAddr,
    state: Arc<SiteState>,
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

impl Site {
    /// Serves `tests/fixtures/sites/<name>`.
    pub async fn start(name: &str) -> Site {
        Site::serve(Some(fixtures().join("sites").join(name))).await
    }

    /// Serves the site `name` of the fixture set `set` (`tests/fixtures/{set}/sites/{name}`).
    pub async fn start_in(set: &str, name: &str) -> Site {
        Site::serve(Some(fixtures().join(set).join("sites").join(name))).await
    }

    /// Serves only what tests put in with [`Site::set`].
    pub async fn empty() -> Site {
        Site::serve(None).await
    }

    async fn serve(root: Option<PathBuf>) -> Site {
        let headers = root
            .as_ref()
            .map(|r| read_headers(&r.join("_headers")))
            .unwrap_or_default();
        let state = Arc::new(SiteState {
            root,
            headers,
            overrides: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Site { addr, state }
    }

    /// The absolute URL of `path` on this site.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Makes `path` (with its query, if any) misbehave.
    pub fn set(&self, path: &str, o: Override) {
        self.state
            .overrides
            .lock()
            .unwrap()
            .insert(path.to_string(), o);
    }

    /// Serves `path` from its file again.
    pub fn clear(&self, path: &str) {
        self.state.overrides.lock().unwrap().remove(path);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.log.lock().unwrap().clone()
    }

    /// Requests for `path` so far.
    pub fn hits_of(&self, path: &str) -> usize {
        self.hits().iter().filter(|h| h.path == path).count()
    }

    /// 304 answers so far.
    pub fn not_modified(&self) -> usize {
        self.hits().iter().filter(|h| h.status == 304).count()
    }

    pub fn reset_log(&self) {
        self.state.log.lock().unwrap().clear();
    }
}

fn read_headers(path: &std::path::Path) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let Some((p, rest)) = line.split_once(' ') else {
            continue;
        };
        let Some((name, value)) = rest.split_once(':') else {
            continue;
        };
        out.entry(p.to_string())
            .or_default()
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    out
}

fn content_type_of(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("htm" | "html") => "text/html",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain",
        Some("jpg") => "image/jpeg",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

async fn handle(State(state): State<Arc<SiteState>>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let conditional = headers.contains_key(header::IF_NONE_MATCH)
        || headers.contains_key(header::IF_MODIFIED_SINCE);
    let override_ = state.overrides.lock().unwrap().get(&path).cloned();
    if matches!(override_, Some(Override::Hang)) {
        // Logged on arrival (status 0): the answer never comes.
        state.log.lock().unwrap().push(Hit {
            path: path.clone(),
            at: Instant::now(),
            status: 0,
            user_agent: String::new(),
            accept_encoding: String::new(),
            conditional,
        });
    }
    let response = match override_ {
        Some(o) => overridden(o).await,
        None => from_file(&state, &path, &headers),
    };
    state.log.lock().unwrap().push(Hit {
        path,
        at: Instant::now(),
        status: response.status().as_u16(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        accept_encoding: headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        conditional,
    });
    response
}

async fn overridden(o: Override) -> Response {
    let mut builder = Response::builder();
    match o {
        Override::Status(status, headers, body) => {
            builder = builder.status(status);
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            builder.body(Body::from(body)).unwrap()
        }
        Override::Body(body, ct) => builder
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
        Override::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            builder.body(Body::empty()).unwrap()
        }
        Override::Redirect(to) => builder
            .status(302)
            .header(header::LOCATION, to)
            .body(Body::empty())
            .unwrap(),
        Override::Endless(total) => {
            let chunk = vec![b'x'; 64 * 1024];
            let count = total.div_ceil(chunk.len() as u64);
            let stream = futures_stream(chunk, count);
            builder
                .header(header::CONTENT_TYPE, "text/html")
                .body(Body::from_stream(stream))
                .unwrap()
        }
    }
}

fn futures_stream(
    chunk: Vec<u8>,
    count: u64,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        for _ in 0..count {
            if tx.send(Ok(chunk.clone())).await.is_err() {
                break;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn from_file(state: &SiteState, path: &str, request: &HeaderMap) -> Response {
    let plain = path.split('?').next().unwrap_or(path);
    let file = state
        .root
        .as_ref()
        .map(|r| r.join(plain.trim_start_matches('/')));
    let bytes = match file
        .filter(|f| f.is_file() && !plain.contains(".."))
        .map(std::fs::read)
    {
        Some(Ok(b)) => b,
        _ => {
            return Response::builder()
                .status(404)
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::from(
                    "<html><body><h1>404</h1>页面不存在</body></html>",
                ))
                .unwrap();
        }
    };
    let etag = format!("\"{}\"", hex(&Sha256::digest(&bytes)[..8]));
    let matches_etag = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let matches_date = request
        .get(header::IF_MODIFIED_SINCE)
        .is_some_and(|v| v == LAST_MODIFIED);
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::LAST_MODIFIED, LAST_MODIFIED);
    if matches_etag || (!request.contains_key(header::IF_NONE_MATCH) && matches_date) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap();
    }
    let extra = state.headers.get(plain).cloned().unwrap_or_default();
    if !extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type_of(plain)),
        );
    }
    for (k, v) in extra {
        builder = builder.header(k, v);
    }
    builder.body(Body::from(bytes)).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
