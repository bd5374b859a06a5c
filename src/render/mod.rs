//! The plan as text: the Dockerfile, the scripts beside it, the `.dockerignore`, the quoting they need, and the CI
//! workflow.
//!
//! Takes `&Plan` and gives strings. Pure and deterministic: the same plan gives the same bytes, and nothing here
//! decides anything — every choice is in the plan. Writing the text to disk is the business of `files`, after this
//! step; reading a `.dockerignore` that is there, the context packer's ([`crate::engine::ignore`]).

mod builder;
mod dockerfile;
mod dockerignore;
mod gitlab;
mod install;
mod quote;
mod recipe;
mod runtime;
mod scripts;
mod secrets;
mod workflow;

pub use dockerfile::{render, render_for};
pub use dockerignore::{dockerignore, SECRETS};
pub use gitlab::pipeline;
pub use scripts::{scripts, Script};
pub use secrets::KNOWN_HOSTS_ID;
pub use workflow::workflow;

pub use crate::model::GENERATED_MARKER;
