//! cargo-dockerize: containerize a Cargo workspace.
//!
//! The data flows one way, one module per step, and every import points up this list (a module uses only the
//! ones above it):
//!
//! ```text
//! model, platform, reference, text, paths, endpoint   shared values and pure helpers: import nothing of this crate
//! workspace   cargo metadata, toolchain files, native crates      → Workspace      (the Cargo and file edge)
//! config      [*.metadata.dockerize] tables + Settings, layered   → BinaryConfig per binary
//! plan        every decision, made once                           → Plan           (pure)
//! sbom        one image's crates, base and packages → SPDX, CycloneDX, cargo-auditable JSON   (pure)
//! render      Plan → Dockerfile, .dockerignore and CI workflow text                (pure)
//! files       the generated files on disk: write, --check, read .dockerignore       (file edge)
//! events      what a build says: BuildEvent, ImageOutcome          (plain data, imports nothing)
//! build       which engine (Docker CLI's rules), context tar, bollard, push, creds → events (the engine edge)
//! ui          shell, progress, summary, logs, listing, metadata file: plan and events only (the terminal edge)
//! cli         clap definitions → Settings                          (imports config and model)
//! error       the one top-level error, and the exit code of each failure
//! command     run: cli → workspace → config → plan → render/files/build/ui, each command to an exit code
//! ```
//!
//! `tests/architecture.rs` reads this list and fails when an import points down it.

pub mod build;
pub mod cli;
pub mod command;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod files;
pub mod model;
pub mod paths;
pub mod plan;
pub mod platform;
pub mod reference;
pub mod render;
pub mod sbom;
pub mod text;
pub mod ui;
pub mod workspace;

pub use command::run;
