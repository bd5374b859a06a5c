//! Building the images: the build context packed as a tar, the engine driven through bollard, and the engine's
//! progress translated into [`crate::events::BuildEvent`]s.
//!
//! Takes the plan, the rendered Dockerfile and the build options; gives events on a channel and one outcome per
//! image; with `--push`, pushes each image's tags ([`push`], credentials from [`auth`]), and with `--cache-to`
//! pushes the builder stage with its inline cache ([`cache`]). The only module that talks to the engine or knows bollard's types; the reporter sees the events only.

pub mod auth;
pub mod cache;
pub mod context;
pub mod engine;
pub mod push;
mod target;
mod translate;

pub use translate::{ClassicTracker, VertexTracker};
