//! The public page at `/`: what the service offers (each source's latest items and its feeds,
//! with autodiscovery `<link>` tags), how to subscribe in a reader, and the email form — and
//! `POST /subscribe`, the first half of the double opt-in.
//!
//! The form works without JavaScript and is answered on the page: a clear Chinese message, the
//! typed values kept, and no mail for bad input. Abuse: the form carries a signed, expiring token
//! and a foreign Origin is refused; a few submissions per minute per client (429 past that); a
//! hidden honeypot field that, when filled, is silently dropped. The answer to a valid submission
//! is the same whether the address is new, pending or active, so the page never tells who is
//! subscribed; a confirmation mail goes out at most once an hour per address.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;

use super::AppState;
use super::guard;
use crate::config::Config;
use crate::mail::optin::{self, Choices};
use crate::store::StoredItem;

/// The stylesheet every page inlines (no extra request, works offline from the mail link).
pub const CSS: &str = include_str!("../../templates/base.css");
/// Latest items shown per source.
const LATEST: u32 = 8;
/// Confirmation mails per address at most this often.
const CONFIRM_GAP: chrono::Duration = chrono::Duration::hours(1);
/// The schedules a subscriber can choose, as the form shows them.
pub const SCHEDULES: [(&str, &str); 3] =
    [("daily", "每日"), ("weekly", "每周"), ("immediate", "即时")];

struct ItemView {
    url: String,
    title: String,
    date: String,
    datetime: String,
}

struct SourceView {
    id: String,
    title: String,
    updated: String,
    items: Vec<ItemView>,
    rss: String,
    atom: String,
    json: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "index.html")]
struct Index {
    title: String,
    css: &'static str,
    home: String,
    all_rss: String,
    all_atom: String,
    all_json: String,
    opml: String,
    sources: Vec<SourceView>,
    mail_enabled: bool,
    message: Option<String>,
    message_kind: &'static str,
    form_token: String,
    form_email: String,
    form_schedule: String,
    schedules: [(&'static str, &'static str); 3],
}

/// What the form held, to show it again.
#[derive(Default)]
struct Form {
    email: String,
    sources: Vec<String>,
    schedule: String,
    token: String,
    honeypot: String,
}

impl Form {
    fn parse(body: &[u8]) -> Form {
        let mut f = Form::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "email" => f.email = v.into_owned(),
                "sources" => f.sources.push(v.into_owned()),
                "schedule" => f.schedule = v.into_owned(),
                "token" => f.token = v.into_owned(),
                "website" => f.honeypot = v.into_owned(),
                _ => {}
            }
        }
        f
    }
}

/// `GET /`.
pub async fn index(State(state): State<Arc<AppState>>) -> Response {
    render(&state, StatusCode::OK, None, None).await
}

/// `POST /subscribe`.
pub async fn subscribe(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = state.config();
    let form = Form::parse(&body);
    let peer = peer.map(|Extension(ConnectInfo(a))| a);
    if let Some(client) = guard::client(peer, &headers)
        && !state.limiter.allow(client)
    {
        let msg = "提交过于频繁，请一分钟后再试。";
        return render(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&form),
            Some(Err(msg.into())),
        )
        .await;
    }
    if !guard::same_origin(&config, &headers) {
        return (
            StatusCode::FORBIDDEN,
            "forms are accepted from this site only\n",
        )
            .into_response();
    }
    let Some(secret) = state.secret().filter(|_| config.email.is_some()) else {
        let msg = "本站暂未开通邮件订阅。";
        return render(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&form),
            Some(Err(msg.into())),
        )
        .await;
    };
    let now = Utc::now();
    if !optin::verify_form(&secret, &form.token, now) {
        let msg = "页面已过期，请重新提交。";
        return render(
            &state,
            StatusCode::BAD_REQUEST,
            Some(&form),
            Some(Err(msg.into())),
        )
        .await;
    }
    let sent =
        "确认邮件已发送，请在 7 天内打开邮件中的链接完成订阅。如果没有收到，请查看垃圾邮件文件夹。";
    if !form.honeypot.is_empty() {
        tracing::info!("subscription form: honeypot filled; dropped");
        return render(&state, StatusCode::OK, None, Some(Ok(sent.into()))).await;
    }
    let choices = match validate(&config, &form) {
        Ok(c) => c,
        Err(msg) => {
            return render(&state, StatusCode::BAD_REQUEST, Some(&form), Some(Err(msg))).await;
        }
    };
    let store = Arc::clone(&state.store);
    let c = choices.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        store.request_subscription(&c.email, &c.sources, &c.schedule)?;
        store.claim_confirmation(&c.email, now, CONFIRM_GAP)
    })
    .await;
    match recorded {
        Ok(Ok(true)) => {
            let (config, choices) = (Arc::clone(&config), choices);
            let store = Arc::clone(&state.store);
            tokio::spawn(async move {
                if let Err(e) = optin::send_confirmation(&config, &secret, &choices).await {
                    tracing::warn!(error = %e, "confirmation mail not sent; the address may ask again at once");
                    let email = choices.email;
                    let _ = tokio::task::spawn_blocking(move || store.release_confirmation(&email))
                        .await;
                }
            });
        }
        Ok(Ok(false)) => tracing::info!("confirmation mail withheld: one was sent within the hour"),
        _ => {
            let msg = "服务暂时不可用，请稍后再试。";
            return render(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&form),
                Some(Err(msg.into())),
            )
            .await;
        }
    }
    render(&state, StatusCode::OK, None, Some(Ok(sent.into()))).await
}

/// The choices of a valid form, or what is wrong with it (in Chinese).
fn validate(config: &Config, form: &Form) -> Result<Choices, String> {
    let raw = form.email.trim();
    if raw.is_empty() {
        return Err("请填写电子邮箱。".into());
    }
    if form.email.contains(['\r', '\n']) {
        return Err("电子邮箱不能包含换行。".into());
    }
    if raw.chars().count() > 254 {
        return Err("电子邮箱过长（最多 254 个字符）。".into());
    }
    let email = crate::mail::address::parse_address(raw)
        .map_err(|_| format!("“{raw}”不是有效的电子邮箱地址，请检查后重新填写。"))?;
    if form.sources.is_empty() {
        return Err("请至少选择一个栏目。".into());
    }
    if form.sources.iter().any(|id| config.source(id).is_none()) {
        return Err("所选栏目不存在，请刷新页面后重新选择。".into());
    }
    if !SCHEDULES.iter().any(|(v, _)| *v == form.schedule) {
        return Err("请选择发送频率。".into());
    }
    let mut seen = HashSet::new();
    let sources = form
        .sources
        .iter()
        .filter(|s| seen.insert(*s))
        .cloned()
        .collect();
    Ok(Choices {
        email,
        sources,
        schedule: form.schedule.clone(),
        expires: (Utc::now() + optin::CONFIRM_FOR).timestamp(),
    })
}

/// The page, with the form as typed (or fresh) and a message.
async fn render(
    state: &Arc<AppState>,
    status: StatusCode,
    form: Option<&Form>,
    message: Option<Result<String, String>>,
) -> Response {
    let config = state.config();
    let store = Arc::clone(&state.store);
    let ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
    let latest = tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| store.source_items(id, LATEST))
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    let latest = match latest {
        Ok(Ok(l)) => l,
        _ => return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response(),
    };
    let tz = config.service.timezone;
    let link = |p: &str| optin::public_link(&config, p);
    let chosen: Option<HashSet<&str>> =
        form.map(|f| f.sources.iter().map(String::as_str).collect());
    let sources = config
        .sources
        .iter()
        .zip(latest)
        .map(|(s, items)| SourceView {
            id: s.id.clone(),
            title: s.title.clone(),
            updated: items
                .iter()
                .map(|i| i.first_seen.max(i.updated))
                .max()
                .map_or_else(
                    || "—".into(),
                    |t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                ),
            items: items.iter().map(|i| item_view(i, tz)).collect(),
            rss: link(&format!("feeds/{}.rss", s.id)),
            atom: link(&format!("feeds/{}.atom", s.id)),
            json: link(&format!("feeds/{}.json", s.id)),
            checked: chosen.as_ref().is_none_or(|c| c.contains(s.id.as_str())),
        })
        .collect();
    let (message, message_kind) = match message {
        Some(Ok(m)) => (Some(m), "ok"),
        Some(Err(m)) => (Some(m), "error"),
        None => (None, ""),
    };
    let page = Index {
        title: config.service.title.clone(),
        css: CSS,
        home: link(""),
        all_rss: link("feeds/all.rss"),
        all_atom: link("feeds/all.atom"),
        all_json: link("feeds/all.json"),
        opml: link("feeds.opml"),
        sources,
        mail_enabled: config.email.is_some(),
        message,
        message_kind,
        form_token: state
            .secret()
            .map(|s| optin::form_token(&s, Utc::now()))
            .unwrap_or_default(),
        form_email: form.map(|f| f.email.clone()).unwrap_or_default(),
        form_schedule: form
            .map(|f| f.schedule.clone())
            .filter(|s| SCHEDULES.iter().any(|(v, _)| v == s))
            .unwrap_or_else(|| "daily".into()),
        schedules: SCHEDULES,
    };
    html(status, page.render())
}

fn item_view(i: &StoredItem, tz: chrono_tz::Tz) -> ItemView {
    let at = i.published.unwrap_or(i.first_seen).with_timezone(&tz);
    ItemView {
        url: i.url.clone(),
        title: i.title.clone(),
        date: at.format("%Y-%m-%d").to_string(),
        datetime: at.to_rfc3339(),
    }
}

/// An HTML answer that no cache keeps (it carries a form token).
pub fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => {
            let mut r = (status, Html(body)).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("render: {e}\n")).into_response(),
    }
}
