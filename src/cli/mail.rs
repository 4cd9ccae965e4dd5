//! `portalfeed subscribers …` and `portalfeed digest …`: managing subscribers from the command line
//! (staff's path: added here = active) and sending digests.

use std::path::Path;
use std::process::ExitCode;

use super::{BAD_INPUT, load, open_store, shown};
use crate::config::Config;
use crate::mail;
use crate::mail::address::parse_address;

fn sources_of(config: &Config, list: Option<&str>) -> Result<Vec<String>, String> {
    let Some(list) = list else {
        return Ok(config.sources.iter().map(|s| s.id.clone()).collect());
    };
    let ids: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err("--sources names no source".into());
    }
    if let Some(bad) = ids.iter().find(|id| config.source(id).is_none()) {
        let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        return Err(format!("no source {bad:?} (sources: {})", known.join(", ")));
    }
    Ok(ids)
}

fn bad(message: String) -> ExitCode {
    eprintln!("portalfeed: {message}");
    ExitCode::from(BAD_INPUT)
}

/// `subscribers add EMAIL [--sources a,b] [--schedule daily|weekly|immediate]`.
pub fn add(path: &Path, email: &str, sources: Option<&str>, schedule: &str) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let address = match parse_address(email) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let sources = match sources_of(&config, sources) {
        Ok(s) => s,
        Err(e) => return bad(e),
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.upsert_subscriber(&address, &sources, schedule, "active") {
        Ok((s, created)) => {
            println!(
                "{} {}: {} ({})",
                if created { "added" } else { "updated" },
                s.email,
                s.sources.join(","),
                s.schedule
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portalfeed: {e}");
            ExitCode::from(1)
        }
    }
}

/// `subscribers list`.
pub fn list(path: &Path) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.subscribers() {
        Ok(all) => {
            for s in all {
                let last = s
                    .last_sent
                    .map(|t| shown(t, config.service.timezone))
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}\t{}\t{}\tlast digest {last}",
                    s.email,
                    s.status,
                    s.sources.join(","),
                    s.schedule
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portalfeed: {e}");
            ExitCode::from(1)
        }
    }
}

/// `subscribers remove EMAIL`.
pub fn remove(path: &Path, email: &str) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let address = match parse_address(email) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.remove_subscriber(&address) {
        Ok(true) => {
            println!("removed {address}");
            ExitCode::SUCCESS
        }
        Ok(false) => bad(format!("no subscriber {address}")),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            ExitCode::from(1)
        }
    }
}

/// `digest send [--now] [--dry-run]`.
pub async fn send(path: &Path, now: bool, dry_run: bool) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match mail::send_digests(&config, store, now, dry_run).await {
        Ok(r) => {
            println!(
                "digests: {} composed, {} sent, {} queued for retry, {} failed",
                r.composed, r.sent, r.retrying, r.failed
            );
            if r.failed > 0 || r.retrying > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(mail::MailError::NotConfigured) => bad(mail::MailError::NotConfigured.to_string()),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            ExitCode::from(1)
        }
    }
}

/// `digest preview EMAIL`: the next digest's text, nothing recorded.
pub fn preview(path: &Path, email: &str) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let address = match parse_address(email) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let subscriber = match store.subscriber(&address) {
        Ok(Some(s)) => s,
        Ok(None) => return bad(format!("no subscriber {address}")),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    match mail::preview(&config, &store, &subscriber) {
        Ok(Some(d)) => {
            println!("Subject: {}\n\n{}", d.subject, d.text);
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("nothing new for {address}");
            ExitCode::SUCCESS
        }
        Err(mail::MailError::NotConfigured) => bad(mail::MailError::NotConfigured.to_string()),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            ExitCode::from(1)
        }
    }
}
