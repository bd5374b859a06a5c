//! cargo-dockerize: containerize a Cargo workspace.
//!
//! The data flows one way, one module per step, and every import points up this list (a module uses only the
//! ones above it):
//!
//! ```text
//! model, source   shared value types, the generated files' fixed names, where each setting came from: import nothing of this crate
//! platform, reference, text, paths   pure helpers on values: platforms, image references, text, paths
//! value       values from manifests, files, names and flags, checked where they are read: types that cannot hold what a generated file forbids
//! workspace   cargo metadata and the workspace's files, then cargo tree per triple → Workspace (the Cargo and file edge)
//! config      [*.metadata.dockerize] tables + Settings, each value with its Source → Config (workspace-wide, per binary)
//! plan        every decision, made once: stages, images, builders, every build → Plan   (pure)
//! sbom        one build's crates, base and packages → SPDX, CycloneDX, cargo-auditable JSON; its provenance → in-toto/SLSA   (pure)
//! render      Plan → Dockerfile, .dockerignore and CI workflow text                (pure)
//! files       the generated files on disk: write and --check                      (file edge)
//! events      what a build says: BuildEvent, ImageOutcome          (plain data)
//! engine      which engine (Docker CLI's rules) and the connection, the context tar and its .dockerignore, build requests, status → events
//! registry    credentials, push through the engine, image index, cache image → events   (with engine: the bollard edge)
//! ui          shell, progress, summary, logs, listing, metadata file: plan and events only (the terminal edge)
//! cli         clap definitions → Settings                          (imports config and model)
//! error       the one top-level error, and the exit code of each failure
//! command     run: cli → workspace → config → plan → render/files/engine/registry/ui, each command to an exit code
//! ```
//!
//! `tests/architecture.rs` reads this list and fails when an import points down it.

pub mod cli;
pub mod command;
pub mod config;
pub mod engine;
pub mod error;
pub mod events;
pub mod files;
pub mod model;
pub mod paths;
pub mod plan;
pub mod platform;
pub mod reference;
pub mod registry;
pub mod render;
pub mod sbom;
pub mod source;
pub mod text;
pub mod ui;
pub mod value;
pub mod workspace;

pub use command::run;
