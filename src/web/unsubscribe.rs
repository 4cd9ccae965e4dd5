//! `/unsubscribe/{token}`: GET shows a page with a button and changes nothing (mail scanners
//! follow links); POST — the button, or a mail client's RFC 8058 one-click POST, with no cookies —
//! unsubscribes and answers 200. A tampered or unknown token is 400 and changes nothing.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::feed::xml::escape;
use crate::mail::token;

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n</head>\n<body style=\"font-family:sans-serif;max-width:560px;margin:40px auto;padding:0 16px;line-height:1.6\">\n<h1 style=\"font-size:22px\">{title}</h1>\n{body}\n</body>\n</html>\n"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn secret(state: &AppState) -> Option<Vec<u8>> {
    state.config().email.as_ref()?;
    state.secret()
}

fn invalid() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "链接无效",
        "<p>这个退订链接无效或已损坏。请使用邮件中的完整链接。</p>",
    )
}

/// `GET /unsubscribe/{token}`.
pub async fn confirm(State(state): State<Arc<AppState>>, Path(tok): Path<String>) -> Response {
    let Some(secret) = secret(&state) else {
        return invalid();
    };
    if token::verify_unsubscribe(&secret, &tok).is_none() {
        return invalid();
    }
    let body = format!(
        "<p>点击下面的按钮即可退订邮件摘要。退订后不会再收到邮件。</p>\n<form method=\"post\" action=\"/unsubscribe/{}\">\n<button type=\"submit\" style=\"font-size:16px;padding:8px 20px\">确认退订</button>\n</form>",
        escape(&tok)
    );
    page(StatusCode::OK, "退订邮件摘要", &body)
}

/// `POST /unsubscribe/{token}`.
pub async fn unsubscribe(State(state): State<Arc<AppState>>, Path(tok): Path<String>) -> Response {
    let Some(secret) = secret(&state) else {
        return invalid();
    };
    let Some(id) = token::verify_unsubscribe(&secret, &tok) else {
        return invalid();
    };
    let store = Arc::clone(&state.store);
    match tokio::task::spawn_blocking(move || store.unsubscribe(id)).await {
        Ok(Ok(true)) => page(
            StatusCode::OK,
            "已退订",
            "<p>您已退订邮件摘要，不会再收到邮件。</p>",
        ),
        Ok(Ok(false)) => page(
            StatusCode::NOT_FOUND,
            "找不到订阅",
            "<p>没有找到这个订阅，可能已被删除。</p>",
        ),
        _ => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "暂时无法退订",
            "<p>服务暂时不可用，请稍后再试。</p>",
        ),
    }
}
