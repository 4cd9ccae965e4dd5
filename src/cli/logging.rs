//! Logs: `tracing` to stderr, one line per event with its fields (the source id among them).
//!
//! Under systemd (`JOURNAL_STREAM` is set when stderr is connected to the journal) each line starts
//! with its syslog priority (`<3>` error … `<7>` debug), which journald reads as the entry's
//! priority (`SyslogLevelPrefix=`, on by default), and carries no timestamp or colours of its own:
//! the journal stamps every entry itself. Elsewhere: a timestamp, colours only on a terminal.
//! `RUST_LOG` filters as usual (default `info`).

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Installs the global subscriber.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        let format = tracing_subscriber::fmt::format()
            .without_time()
            .with_ansi(false)
            .with_level(false);
        builder
            .with_ansi(false)
            .event_format(Priority(format))
            .init();
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}

/// Prefixes each line with its syslog priority.
struct Priority<F>(F);

impl<S, N, F> FormatEvent<S, N> for Priority<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}
