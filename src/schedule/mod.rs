//! The clock of the pipeline: when sources are polled, and the poll pass itself.
//!
//! [`poll`] runs one pass over sources (fetch → extract → store), used by `portalfeed poll` and by
//! the daemon. [`cron`] reads the users' cron expressions.

mod access;
pub mod clock;
pub mod cron;
pub mod daemon;
pub mod housekeeping;
pub mod mailing;
pub mod poll;
mod preview;
pub mod quiet;

pub use preview::Preview;
