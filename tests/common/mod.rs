//! Helpers shared by every integration test crate (`mod common;` in each): one file per concern.
//!
//! - [`fixture`]: fixture workspaces copied into temporary directories, and the binary run on them;
//! - [`tree`]: the copier those copies use;
//! - [`library`]: the library's pipeline in process (a fixture loaded once, planned under many command lines),
//!   the one place tests call its workspace, plan and render API;
//! - [`process`]: the binary under test and every process run, each with a time limit;
//! - [`snapshots`]: insta settings that filter versions out of the snapshots;
//! - [`engine`]: the lock every engine test holds (one at a time), taken once an engine answers;
//! - [`docker`]: `docker` CLI calls: inspect, run, and the file system of an image;
//! - [`registry`]: a real registry (`docker-registry`) on loopback, its credentials, a proxy that vanishes;
//! - [`sparse_registry`]: an authenticated sparse Cargo registry on loopback (Python's standard library);
//! - [`images`]: the guard that tags a test's images uniquely and removes them, also when the test fails;
//! - [`events`]: readers of `--message-format json` output;
//! - [`remote`]: Docker contexts, a socat forwarder and an OpenSSH server, for the remote-engine tests;
//! - [`steps`]: BuildKit step names;
//! - [`structure`]: the structural rules every generated Dockerfile keeps;
//! - [`tools`]: the gate of tests that need shells, `man` or workflow linters;
//! - [`workflow`]: the GitHub workflow linters, and a step's script read out of a workflow;
//! - [`words`]: the words BuildKit's lexer and `sh` read in an instruction, for the property tests.
//!
//! Fixtures under `fixtures/workspaces` stay clean in git: every test copies its fixture into a temporary
//! directory first and generates there. The binary always runs from *outside* the copy, with
//! `--manifest-path`: the `toolchain-pin` fixture pins a toolchain by a name rustup may not have
//! (`1.95` while only `1.95.0` is installed, with auto-install off), and rustup resolves that pin from the
//! current directory of every `cargo`/`rustc` it proxies. `cargo test` sets `CARGO` (and, under rustup,
//! `RUSTUP_TOOLCHAIN`) for the test process; the binary inherits them, so `cargo metadata` runs with the
//! toolchain that runs the tests.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code, unused_imports)]

pub mod docker;
pub mod engine;
pub mod events;
pub mod fixture;
pub mod images;
pub mod library;
pub mod pipeline;
pub mod process;
pub mod registry;
pub mod remote;
pub mod snapshots;
pub mod sparse_registry;
pub mod steps;
pub mod structure;
pub mod tools;
pub mod tree;
pub mod words;
pub mod workflow;

pub use docker::{buildkit_docker, docker, docker_ok, image_entries, inspect_image, run_image};
pub use engine::{engine_lock, engine_version};
pub use events::{events_of, step_name, BuildJson};
pub use fixture::{fixtures_dir, Fixture, GENERATING_FIXTURES, VERSION};
pub use images::TestImages;
pub use process::{binary, run, tool, Run};
pub use structure::listed_binaries;
pub use tools::require_tools;
pub use tree::copy_tree;
