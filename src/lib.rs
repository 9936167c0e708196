//! trainwreck: a game of debugging broken neural-network training runs.
//!
//! The engine (`sim`, `task`, `env`) is pure; the front-ends (`serve`, `repl`,
//! `replay`) are thin adapters over it.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod env;
pub mod eval;
pub mod events;
pub mod files;
pub mod pipe;
pub mod protocol;
pub mod record;
pub mod render_text;
pub mod repl;
pub mod replay;
pub mod report;
pub mod rounding;
pub mod schema;
pub mod serve;
pub mod session;
pub mod sim;
pub mod task;
pub mod vocab;
