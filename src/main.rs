//! The `portalfeed` command: parses the command line, sets up logging and hands over to
//! `portalfeed::cli`. Exit status: 0 success, 1 a source failed, 2 a bad config or command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Turns a government portal into RSS, Atom and JSON feeds and email digests.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The config file.
    #[arg(
        long,
        global = true,
        env = "PORTALFEED_CONFIG",
        default_value = "config/portalfeed.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the config and print each source.
    Check {
        /// Also fetch each source's first list page and first article, and print what would be stored.
        #[arg(long)]
        live: bool,
    },
    /// Manage email subscribers.
    Subscribers {
        #[command(subcommand)]
        action: Subscribers,
    },
    /// Compose and send email digests.
    Digest {
        #[command(subcommand)]
        action: Digest,
    },
    /// Serve the feeds (RSS, Atom, JSON Feed, OPML) on service.listen until SIGINT or SIGTERM.
    Serve,
    /// The daemon: poll each source on its schedule, serve the feeds, send digests and alerts,
    /// until SIGTERM (SIGHUP re-reads the config).
    Run,
    /// Poll every source (or the named ones) once, store what is new, and exit.
    Poll {
        /// Poll only this source (repeatable).
        #[arg(long = "source", value_name = "ID")]
        sources: Vec<String>,
    },
}

#[derive(Subcommand)]
enum Subscribers {
    /// Add a subscriber (active at once), or update an existing one's choices.
    Add {
        email: String,
        /// Comma-separated source ids (default: every source).
        #[arg(long)]
        sources: Option<String>,
        #[arg(long, value_parser = ["daily", "weekly", "immediate"], default_value = "daily")]
        schedule: String,
    },
    /// One line each: email, status, sources, schedule, last digest.
    List,
    /// Delete a subscriber.
    Remove { email: String },
}

#[derive(Subcommand)]
enum Digest {
    /// Compose due digests into the outbox and send what is queued.
    Send {
        /// Every subscriber's digest regardless of schedule, and queued retries at once.
        #[arg(long)]
        now: bool,
        /// Say what would be sent; write and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the next digest of one subscriber without sending or recording it.
    Preview { email: String },
}

fn main() -> ExitCode {
    let args = Args::parse();
    portalfeed::cli::logging::init();
    // Blocking threads (SQLite, extraction) end 2 s after their last job, so an idle daemon does
    // not keep the threads — and their malloc arenas — of its last busy poll; at most 16 exist.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_keep_alive(std::time::Duration::from_secs(2))
        .max_blocking_threads(16)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("portalfeed: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        match args.command {
            Command::Check { live } => portalfeed::cli::check(&args.config, live).await,
            Command::Poll { sources } => portalfeed::cli::poll(&args.config, &sources).await,
            Command::Serve => portalfeed::cli::serve(&args.config).await,
            Command::Run => portalfeed::cli::run::run(&args.config).await,
            Command::Subscribers { action } => match action {
                Subscribers::Add {
                    email,
                    sources,
                    schedule,
                } => {
                    portalfeed::cli::mail::add(&args.config, &email, sources.as_deref(), &schedule)
                }
                Subscribers::List => portalfeed::cli::mail::list(&args.config),
                Subscribers::Remove { email } => {
                    portalfeed::cli::mail::remove(&args.config, &email)
                }
            },
            Command::Digest { action } => match action {
                Digest::Send { now, dry_run } => {
                    portalfeed::cli::mail::send(&args.config, now, dry_run).await
                }
                Digest::Preview { email } => portalfeed::cli::mail::preview(&args.config, &email),
            },
        }
    })
}
