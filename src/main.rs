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
    /// Serve the feeds (RSS, Atom, JSON Feed, OPML) on service.listen until SIGINT or SIGTERM.
    Serve,
    /// Poll every source (or the named ones) once, store what is new, and exit.
    Poll {
        /// Poll only this source (repeatable).
        #[arg(long = "source", value_name = "ID")]
        sources: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
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
        }
    })
}
