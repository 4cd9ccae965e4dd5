//! portalfeed turns a government portal into feeds and mail.
//!
//! Data flows one way: [`fetch`] → [`extract`] → [`store`], with [`schedule`] driving a poll pass
//! and [`config`] saying what to read. `main.rs` only parses the command line and calls [`cli`].

pub mod cli;
pub mod config;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod mail;
pub mod schedule;
pub mod store;
pub mod web;
