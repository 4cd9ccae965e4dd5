//! The commands behind `portalfeed check` and `portalfeed poll`: what they print and how they exit.
//!
//! Exit status: 0 when everything worked, 1 when a source failed (each failure on stderr naming the
//! source and URL), 2 for a bad config or command line.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::config::{Config, Source};
use crate::schedule::Preview;
use crate::schedule::poll::Poller;
use crate::store::Store;

pub mod logging;
pub mod mail;
pub mod run;

const BAD_INPUT: u8 = 2;

fn load(path: &Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|e| {
        eprintln!("portalfeed: {e}");
        ExitCode::from(BAD_INPUT)
    })
}

/// Opens the configured database and records the configured sources in it.
fn open_store(config: &Config) -> Result<Arc<Store>, ExitCode> {
    let fail = |e: crate::store::StoreError| {
        eprintln!("portalfeed: {e}");
        ExitCode::from(1)
    };
    let store = Store::open(&config.service.database).map_err(fail)?;
    let sources = config
        .sources
        .iter()
        .map(|s| (s.id.as_str(), s.title.as_str(), s.list_url.as_str()));
    store.sync_sources(sources).map_err(fail)?;
    Ok(Arc::new(store))
}

fn shown(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `portalfeed check [--live]`.
pub async fn check(path: &Path, live: bool) -> ExitCode {
    let config = match load(path) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let tz = config.service.timezone;
    println!(
        "config {}: ok, {} source(s)",
        path.display(),
        config.sources.len()
    );
    println!(
        "database {}; time zone {}",
        config.service.database.display(),
        tz.name()
    );
    for s in &config.sources {
        print_source(s, tz);
    }
    if !live {
        return ExitCode::SUCCESS;
    }
    // A live check stores nothing: robots.txt and pauses go to a throw-away database.
    let store = match Store::open(Path::new(":memory:")) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    let poller = match Poller::new(Arc::clone(&config), store) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    let mut failed = false;
    for s in &config.sources {
        match poller.preview(s).await {
            Ok(p) => print_preview(&p, tz),
            Err(e) => {
                failed = true;
                println!("\nsource {}: FAILED", s.id);
                eprintln!("portalfeed: check {}: {e}", s.id);
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_source(s: &Source, tz: Tz) {
    println!("\nsource {} \"{}\"", s.id, s.title);
    println!("  list_url  {}", s.list_url);
    let next = s
        .schedule
        .next_after(Utc::now(), tz)
        .map(|t| shown(t, tz))
        .unwrap_or_else(|| "never".into());
    println!("  schedule  {} (next {next})", s.schedule.as_str());
    println!(
        "  pages     {}; articles {}; robots.txt {}{}",
        s.max_pages,
        if s.fetch_articles {
            "fetched"
        } else {
            "not fetched"
        },
        if s.respect_robots {
            "respected"
        } else {
            "IGNORED"
        },
        if s.insecure_tls {
            "; TLS certificates NOT verified"
        } else {
            ""
        }
    );
    let sel = &s.select;
    let parts: Vec<String> = [
        ("item", &sel.item),
        ("link", &sel.link),
        ("title", &sel.title),
        ("date", &sel.date),
        ("next_page", &sel.next_page),
        ("content", &sel.content),
    ]
    .iter()
    .map(|(k, v)| {
        format!(
            "{k}={}",
            v.as_ref()
                .map(|x| format!("{:?}", x.as_str()))
                .unwrap_or_else(|| "auto".into())
        )
    })
    .collect();
    println!("  select    {}", parts.join(" "));
}

fn print_preview(p: &Preview, tz: Tz) {
    println!(
        "\nsource {}: {} items on {}",
        p.source_id,
        p.list.items.len(),
        p.page_url
    );
    for item in &p.list.items {
        let date = item
            .date
            .map(|d| shown(d.at, tz))
            .unwrap_or_else(|| "(no date)".into());
        let flags = format!(
            "{}{}",
            if item.pinned { " [pinned]" } else { "" },
            if item.title_cut { " [title cut]" } else { "" }
        );
        println!("  {date}  {}{flags}\n      {}", item.title, item.url);
    }
    println!(
        "  next page: {}",
        p.list
            .next_page
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|| "none".into())
    );
    match &p.article {
        None => println!("  first article: none on this site"),
        Some((url, Err(e))) => println!("  first article {url}: FAILED: {e}"),
        Some((url, Ok(a))) => {
            println!("  first article {url}");
            println!(
                "    title       {}",
                a.title.as_deref().unwrap_or("(not found)")
            );
            println!(
                "    published   {}",
                a.published
                    .map(|d| shown(d.at, tz))
                    .unwrap_or_else(|| "(not found)".into())
            );
            println!(
                "    来源        {}",
                a.origin.as_deref().unwrap_or("(not found)")
            );
            println!(
                "    author      {}",
                a.author.as_deref().unwrap_or("(not found)")
            );
            println!(
                "    body        {} characters: {}",
                a.text.chars().count(),
                crate::extract::article::short(&a.summary, 60)
            );
            for att in &a.attachments {
                println!("    attachment  {} <{}> {}", att.name, att.url, att.mime);
            }
        }
    }
}

/// `portalfeed poll [--source ID]…`.
pub async fn poll(path: &Path, only: &[String]) -> ExitCode {
    let config = match load(path) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    if let Some(unknown) = only.iter().find(|id| config.source(id).is_none()) {
        let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        eprintln!(
            "portalfeed: no source {unknown:?} in {} (sources: {})",
            path.display(),
            known.join(", ")
        );
        return ExitCode::from(BAD_INPUT);
    }
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let poller = match Poller::new(Arc::clone(&config), store) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    let reports = poller.poll_all((!only.is_empty()).then_some(only)).await;
    let mut failed = 0;
    for r in &reports {
        match &r.result {
            Ok(p) if p.not_modified => println!("{}: not modified", r.source_id),
            Ok(p) => println!(
                "{}: {} page(s), {} item(s), {} new, {} article(s) fetched",
                r.source_id,
                p.pages,
                p.counts.items_seen,
                p.counts.items_new,
                p.counts.articles_fetched
            ),
            Err(e) => {
                failed += 1;
                eprintln!("portalfeed: poll {}: {e}", r.source_id);
            }
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `portalfeed serve`: the feed server on `service.listen`, until SIGINT or SIGTERM.
pub async fn serve(path: &Path) -> ExitCode {
    let config = match load(path) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let store = match open_store(&config) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let listener = match tokio::net::TcpListener::bind(config.service.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "portalfeed: listen on {} (service.listen): {e}",
                config.service.listen
            );
            return ExitCode::from(1);
        }
    };
    tracing::info!(listen = %config.service.listen, public_url = %config.service.public_url, "serving feeds");
    let state = match crate::web::AppState::new(config, store) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("portalfeed: {e}");
            return ExitCode::from(1);
        }
    };
    crate::web::serve(listener, state, shutdown_signal()).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
