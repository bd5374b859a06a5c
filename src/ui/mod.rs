//! What the user sees: messages on stderr ([`shell`]), live build progress ([`progress`]), the closing summary
//! ([`summary`]), the kept build logs ([`logs`]), `list` output ([`listing`]), `config` output
//! ([`configuration`]), and the `--metadata-file` JSON ([`metadata`]).
//!
//! Reads the plan, the resolved configuration (for `config`) and the build events only, never the engine: the reporter and the builds meet through
//! [`crate::events`]. Text comes from pure functions over those values, written to a writer the caller gives,
//! so tests feed made-up plans and events and read a buffer.

pub mod configuration;
pub mod listing;
pub mod logs;
pub mod metadata;
pub mod progress;
pub mod shell;
pub mod summary;
