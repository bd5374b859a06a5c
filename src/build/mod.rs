//! Building the images: the build context packed as a tar, the engine driven through bollard, and the engine's
//! progress translated into [`crate::events::BuildEvent`]s.
//!
//! Takes the plan, the rendered Dockerfile and the build options; gives events on a channel and one outcome per
//! image. Which engine, is decided once by [`docker_config`] (as the Docker CLI decides it), and reached over its
//! socket, TCP (with TLS) or [`ssh`]. With `--push`, pushes each image's tags ([`push`], credentials from
//! [`auth`]), and with `--cache-to` pushes the builder stage with its inline cache ([`cache`]). A multi-platform
//! image's index goes to the registry directly, through `oci-client` ([`index`]): Engine 20.10 cannot push one.
//! The only module that talks to the engine or knows bollard's types; the reporter sees the events only.

pub mod auth;
pub mod cache;
pub mod context;
pub mod docker_config;
pub mod engine;
pub mod index;
pub mod platforms;
pub mod push;
mod ssh;
mod target;
mod translate;

pub use translate::{ClassicTracker, VertexTracker};
