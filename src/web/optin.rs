//! The second half of the double opt-in and self-service: `GET /confirm/{token}` activates what
//! the signed link carries and says what was subscribed and how to leave; `GET /manage/{token}`
//! (linked from every digest) shows the subscription's choices, and `POST /manage/{token}` saves
//! them. A tampered token is 400, an expired confirmation 410, and neither changes anything.

use std::collections::HashSet;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::AppState;
use super::guard;
use super::page::{CSS, SCHEDULES, html};
use crate::mail::{optin, token};

#[derive(Template)]
#[template(path = "notice.html")]
struct Notice {
    site: String,
    css: &'static str,
    heading: String,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "manage.html")]
struct Manage {
    site: String,
    css: &'static str,
    email: String,
    token: String,
    unsubscribe_token: String,
    sources: Vec<(String, String, bool)>,
    schedule: String,
    schedules: [(&'static str, &'static str); 3],
    message: Option<String>,
    message_kind: &'static str,
}

fn notice(
    state: &AppState,
    status: StatusCode,
    heading: &str,
    paragraphs: &[String],
    links: Vec<(String, String)>,
) -> Response {
    let page = Notice {
        site: state.config().service.title.clone(),
        css: CSS,
        heading: heading.to_string(),
        paragraphs: paragraphs.to_vec(),
        links,
    };
    html(status, page.render())
}

fn invalid(state: &AppState) -> Response {
    notice(
        state,
        StatusCode::BAD_REQUEST,
        "链接无效",
        &["这个链接无效或不完整，请使用邮件中的完整链接。".into()],
        home(),
    )
}

fn unavailable(state: &AppState) -> Response {
    notice(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "暂时无法处理",
        &["服务暂时不可用，请稍后再试。".into()],
        home(),
    )
}

fn home() -> Vec<(String, String)> {
    vec![("返回首页".into(), "/".into())]
}

/// `GET /confirm/{token}`.
pub async fn confirm(State(state): State<Arc<AppState>>, Path(tok): Path<String>) -> Response {
    let config = state.config();
    let Some(secret) = state.secret().filter(|_| config.email.is_some()) else {
        return invalid(&state);
    };
    let choices = match optin::verify_confirm(&secret, &tok, Utc::now()) {
        Ok(c) => c,
        Err(true) => {
            let p = ["这个确认链接已超过 7 天有效期。请回到首页重新订阅。".to_string()];
            return notice(&state, StatusCode::GONE, "链接已过期", &p, home());
        }
        Err(false) => return invalid(&state),
    };
    let sources: Vec<String> = choices
        .sources
        .iter()
        .filter(|id| config.source(id).is_some())
        .cloned()
        .collect();
    if sources.is_empty() {
        let p = ["您选择的栏目已不再提供。请回到首页重新选择。".to_string()];
        return notice(&state, StatusCode::GONE, "栏目已停止", &p, home());
    }
    let store = Arc::clone(&state.store);
    let c = choices.clone();
    let s = sources.clone();
    let id = match tokio::task::spawn_blocking(move || {
        store.confirm_subscription(&c.email, &s, &c.schedule)
    })
    .await
    {
        Ok(Ok(id)) => id,
        _ => return unavailable(&state),
    };
    let titles: Vec<&str> = sources
        .iter()
        .filter_map(|id| config.source(id).map(|s| s.title.as_str()))
        .collect();
    let manage = optin::public_link(
        &config,
        &format!("manage/{}", optin::manage_token(&secret, id)),
    );
    let leave = optin::public_link(
        &config,
        &format!("unsubscribe/{}", token::unsubscribe_token(&secret, id)),
    );
    let p = [
        format!(
            "订阅已生效：{} 将收到{}邮件。",
            choices.email,
            optin::schedule_name(&choices.schedule)
        ),
        format!("订阅栏目：{}。", titles.join("、")),
        "每封邮件底部都有“管理订阅”和“退订”链接；也可以保存下面的链接。".to_string(),
    ];
    let links = vec![
        ("管理订阅（更改栏目或频率）".into(), manage),
        ("退订".into(), leave),
        ("返回首页".into(), "/".into()),
    ];
    notice(&state, StatusCode::OK, "订阅成功", &p, links)
}

/// `GET /manage/{token}`.
pub async fn manage(State(state): State<Arc<AppState>>, Path(tok): Path<String>) -> Response {
    manage_page(&state, &tok, None).await
}

/// `POST /manage/{token}`.
pub async fn save(
    State(state): State<Arc<AppState>>,
    Path(tok): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = state.config();
    if !guard::same_origin(&config, &headers) {
        return (
            StatusCode::FORBIDDEN,
            "forms are accepted from this site only\n",
        )
            .into_response();
    }
    let Some(id) = state.secret().and_then(|s| optin::verify_manage(&s, &tok)) else {
        return invalid(&state);
    };
    let mut sources = Vec::new();
    let mut schedule = String::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "sources" => sources.push(v.into_owned()),
            "schedule" => schedule = v.into_owned(),
            _ => {}
        }
    }
    let mut seen = HashSet::new();
    sources.retain(|s| seen.insert(s.clone()));
    let problem = if sources.is_empty() {
        Some("请至少选择一个栏目；如不再需要邮件，请使用下面的退订按钮。")
    } else if sources.iter().any(|s| config.source(s).is_none()) {
        Some("所选栏目不存在，请刷新页面后重新选择。")
    } else if !SCHEDULES.iter().any(|(v, _)| *v == schedule) {
        Some("请选择发送频率。")
    } else {
        None
    };
    if let Some(p) = problem {
        return manage_page(&state, &tok, Some(Err(p.to_string()))).await;
    }
    let store = Arc::clone(&state.store);
    match tokio::task::spawn_blocking(move || store.update_choices(id, &sources, &schedule)).await {
        Ok(Ok(true)) => manage_page(&state, &tok, Some(Ok("已保存。".into()))).await,
        Ok(Ok(false)) => {
            manage_page(
                &state,
                &tok,
                Some(Err("这个订阅已退订或尚未确认，无法修改。".into())),
            )
            .await
        }
        _ => unavailable(&state),
    }
}

async fn manage_page(
    state: &Arc<AppState>,
    tok: &str,
    message: Option<Result<String, String>>,
) -> Response {
    let config = state.config();
    let Some(secret) = state.secret() else {
        return invalid(state);
    };
    let Some(id) = optin::verify_manage(&secret, tok) else {
        return invalid(state);
    };
    let store = Arc::clone(&state.store);
    let subscriber = match tokio::task::spawn_blocking(move || store.subscriber_by_id(id)).await {
        Ok(Ok(s)) => s,
        _ => return unavailable(state),
    };
    let Some(s) = subscriber.filter(|s| s.status == "active") else {
        let p = ["这个订阅已退订或已删除。如需重新订阅，请回到首页。".to_string()];
        return notice(state, StatusCode::NOT_FOUND, "没有有效的订阅", &p, home());
    };
    let status = if matches!(message, Some(Err(_))) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (message, message_kind) = match message {
        Some(Ok(m)) => (Some(m), "ok"),
        Some(Err(m)) => (Some(m), "error"),
        None => (None, ""),
    };
    let page = Manage {
        site: config.service.title.clone(),
        css: CSS,
        email: s.email.clone(),
        token: tok.to_string(),
        unsubscribe_token: token::unsubscribe_token(&secret, id),
        sources: config
            .sources
            .iter()
            .map(|src| {
                (
                    src.id.clone(),
                    src.title.clone(),
                    s.sources.contains(&src.id),
                )
            })
            .collect(),
        schedule: s.schedule.clone(),
        schedules: SCHEDULES,
        message,
        message_kind,
    };
    html(status, page.render())
}
