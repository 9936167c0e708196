//! trainwreck: a game of debugging broken neural-network training runs.
//!
//! The engine (`sim`, `task`, `env`) is pure; the front-ends (`serve`, `repl`,
//! `replay`) are thin adapters over it.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod env;
pub mod events;
pub mod sim;
pub mod task;
pub mod vocab;
