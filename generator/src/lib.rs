//! The `lotse` generator as a library: the pipeline load -> resolve -> check -> render -> write,
//! and the local server. The `lotse` binary is a thin command line over it; tests use it
//! directly. docs/ARCHITECTURE.md is the map.

pub mod body;
pub mod build;
pub mod check;
pub mod default_pages;
pub mod diagnostics;
pub mod feedback;
pub mod functions;
pub mod inbox;
pub mod init;
pub mod load;
pub mod mail;
pub mod markdown;
pub mod output;
pub mod render;
pub mod resolve;
pub mod search;
pub mod serve;
pub mod source;
pub mod theme;
pub mod worker_bundle;
