//! How one image was built, as an in-toto Statement v1 whose predicate is SLSA provenance v1: one document per
//! build of the plan's list (image × platform).
//!
//! The static part, [`Parameters`], comes from the plan alone ([`parameters`]): the Dockerfile's path, the target
//! stage, the platform, the build arguments, the build secrets and ssh hosts **by name** (a secret's value is read
//! only by the build command, for the session, and never reaches this module), the bases the Dockerfile names and
//! the toolchain. The facts only a run knows, [`RunFacts`], come from the build's edges: the subject's digest,
//! the Dockerfile's and `Cargo.lock`'s digests, the git commit and whether the tree was dirty, the engine's name
//! and version, the start and finish times. [`provenance`] joins them into text. Pure: the same inputs give the
//! same bytes (every map is sorted, the times are the caller's).
//!
//! Decisions, made here once:
//! - `subject` is the image: its repository (`127.0.0.1:5000/api`) with the manifest digest the registry stored.
//!   Before a push there is no manifest digest; the caller may then pass the executable's SHA-256 under the
//!   executable's name, which a consumer can check against the file in the image.
//! - `buildDefinition.buildType` is this tool's documented build type (the user guide's "Provenance (v1)" in
//!   `docs/src/tasks/release-images.md`): the parameters below are what it means.
//! - `externalParameters`: `dockerfile` (`path`, `digest.sha256` of the Dockerfile as sent to the engine),
//!   `target`, `platform`, `buildArgs` (name → value: build arguments are visible in the image's history
//!   anyway), `secrets` and `ssh` (names only).
//! - `resolvedDependencies`: the workspace's git commit as `{ name: "source", digest: { gitCommit } }` with
//!   `annotations.dirty` (true when the work tree differed from the commit: the image was built from files no
//!   commit holds); `Cargo.lock` with its SHA-256; each base image by reference, with `digest.sha256` where the
//!   reference pins one; the Rust toolchain as `rust` with its image version and channel.
//! - `runDetails.builder.id` is `pkg:cargo/cargo-dockerize@<version>`; `builder.version` maps `cargo-dockerize`
//!   and the engine (`Docker Engine`) to their versions; `metadata.startedOn`/`finishedOn` in RFC 3339 UTC.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::ids::{is_sha256, rfc3339};
use crate::plan::{Build, Plan};

/// The in-toto Statement type, and the SLSA provenance predicate type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The media type of the statement as an OCI artifact.
pub const MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// What `buildType` names: the meaning of the parameters this module writes.
pub const BUILD_TYPE: &str =
    "https://github.com/cargo-dockerize/cargo-dockerize/blob/main/docs/src/tasks/release-images.md#provenance-v1";

/// What the plan says about one build: known before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    /// The Dockerfile's path, relative to the workspace root.
    pub dockerfile: String,
    /// The stage built (`--target`).
    pub target: String,
    /// Docker's name of the platform (`linux/amd64`); the engine's own when the plan leaves it.
    pub platform: Option<String>,
    pub build_args: BTreeMap<String, String>,
    /// Build secrets, by name only.
    pub secrets: Vec<String>,
    /// Hosts whose ssh agent the build forwards.
    pub ssh: Vec<String>,
    /// Every base image the Dockerfile's stages for this build name, sorted.
    pub bases: Vec<String>,
    /// The `rust` image version the builder starts from (`1.95`), and a channel it installs on top.
    pub toolchain: String,
    pub channel: Option<String>,
}

/// What one run of the build told: every digest as hex SHA-256, every time in seconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The subject's name (the image's repository) and hex SHA-256 digest.
    pub subject: (&'a str, &'a str),
    pub dockerfile_sha256: &'a str,
    pub lockfile_sha256: Option<&'a str>,
    pub git: Option<Git<'a>>,
    /// This tool's version.
    pub tool_version: &'a str,
    /// The engine as it names itself (`Docker Engine 26.1.5`).
    pub engine: &'a str,
    pub started: u64,
    pub finished: u64,
}

/// The workspace's commit.
#[derive(Debug, Clone, Copy)]
pub struct Git<'a> {
    /// The full commit hash.
    pub commit: &'a str,
    pub dirty: bool,
}

/// The static parameters of `build`, from the plan.
pub fn parameters(plan: &Plan, build: &Build) -> Parameters {
    let chef = format!("rust:{}-slim-bookworm", plan.toolchain.image_version);
    let mut bases = vec![chef, build.base.clone()];
    bases.retain(|b| b != "scratch");
    bases.sort();
    bases.dedup();
    Parameters {
        dockerfile: plan.dockerfile.path.to_string(),
        target: build.stage.clone(),
        platform: build.platform.map(|p| p.docker_name().to_string()),
        build_args: build.build_args.clone(),
        secrets: plan.build_secrets.iter().map(|s| s.name.clone()).collect(),
        ssh: plan.ssh_hosts.clone(),
        bases,
        toolchain: plan.toolchain.image_version.clone(),
        channel: plan.toolchain.install_channel.clone(),
    }
}

/// The statement, pretty-printed JSON.
pub fn provenance(parameters: &Parameters, facts: &RunFacts) -> String {
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": facts.subject.0, "digest": { "sha256": facts.subject.1 } }],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external(parameters, facts),
                "resolvedDependencies": dependencies(parameters, facts),
            },
            "runDetails": {
                "builder": {
                    "id": format!("pkg:cargo/cargo-dockerize@{}", facts.tool_version),
                    "version": versions(facts),
                },
                "metadata": {
                    "startedOn": rfc3339(facts.started),
                    "finishedOn": rfc3339(facts.finished.max(facts.started)),
                },
            },
        },
    });
    serde_json::to_string_pretty(&statement).expect("a JSON value serialises")
}

fn external(parameters: &Parameters, facts: &RunFacts) -> Value {
    let Parameters {
        dockerfile,
        target,
        platform,
        build_args,
        secrets,
        ssh,
        bases: _,
        toolchain: _,
        channel: _,
    } = parameters;
    let mut external = json!({
        "dockerfile": { "path": dockerfile, "digest": { "sha256": facts.dockerfile_sha256 } },
        "target": target,
        "buildArgs": build_args,
        "secrets": secrets,
        "ssh": ssh,
    });
    if let Some(platform) = platform {
        external["platform"] = platform.as_str().into();
    }
    external
}

fn dependencies(parameters: &Parameters, facts: &RunFacts) -> Value {
    let mut list = Vec::new();
    if let Some(git) = facts.git {
        list.push(json!({
            "name": "source",
            "digest": { "gitCommit": git.commit },
            "annotations": { "dirty": git.dirty },
        }));
    }
    if let Some(lock) = facts.lockfile_sha256 {
        list.push(json!({ "name": "Cargo.lock", "digest": { "sha256": lock } }));
    }
    for base in &parameters.bases {
        let mut entry = json!({ "name": base });
        if let Some(hex) = pinned_digest(base) {
            entry["digest"] = json!({ "sha256": hex });
        }
        list.push(entry);
    }
    let mut toolchain = Map::new();
    toolchain.insert("image".into(), parameters.toolchain.as_str().into());
    if let Some(channel) = &parameters.channel {
        toolchain.insert("channel".into(), channel.as_str().into());
    }
    list.push(json!({ "name": "rust", "annotations": toolchain }));
    Value::Array(list)
}

/// The SHA-256 a reference pins (`name@sha256:<hex>`), if it pins one.
fn pinned_digest(reference: &str) -> Option<&str> {
    reference
        .rsplit_once("@sha256:")
        .map(|(_, hex)| hex)
        .filter(|hex| is_sha256(hex))
}

/// `builder.version`: this tool's version and the engine's, the engine's name without its version as the key.
fn versions(facts: &RunFacts) -> Value {
    let mut versions = BTreeMap::new();
    versions.insert(
        "cargo-dockerize".to_string(),
        facts.tool_version.to_string(),
    );
    let (name, version) = facts
        .engine
        .rsplit_once(' ')
        .filter(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(("engine", facts.engine));
    versions.insert(name.to_string(), version.to_string());
    json!(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Parameters {
        Parameters {
            dockerfile: "Dockerfile".into(),
            target: "api".into(),
            platform: Some("linux/arm64".into()),
            build_args: BTreeMap::from([("RUST_VERSION".into(), "1.95".into())]),
            secrets: vec!["npm_token".into()],
            ssh: vec![],
            bases: vec![
                format!("debian:bookworm-slim@sha256:{}", "b".repeat(64)),
                "rust:1.95-slim-bookworm".into(),
            ],
            toolchain: "1.95".into(),
            channel: None,
        }
    }

    fn facts(engine: &'static str) -> RunFacts<'static> {
        RunFacts {
            subject: ("127.0.0.1:5000/api", "a1b2"),
            dockerfile_sha256: "d0",
            lockfile_sha256: Some("c0"),
            git: Some(Git {
                commit: "0123456789abcdef0123456789abcdef01234567",
                dirty: true,
            }),
            tool_version: "0.1.0",
            engine,
            started: 1_764_000_000,
            finished: 1_764_000_090,
        }
    }

    #[test]
    fn the_statement_names_its_inputs_and_builder() {
        let text = provenance(&params(), &facts("Docker Engine 26.1.5"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["subject"][0]["digest"]["sha256"], "a1b2");
        let p = &v["predicate"];
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["secrets"][0],
            "npm_token"
        );
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["platform"],
            "linux/arm64"
        );
        let deps = p["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap();
        assert_eq!(deps[0]["annotations"]["dirty"], true);
        assert_eq!(deps[2]["digest"]["sha256"], "b".repeat(64));
        assert!(
            deps[3].get("digest").is_none(),
            "an unpinned base: no digest"
        );
        assert_eq!(
            p["runDetails"]["builder"]["version"]["Docker Engine"],
            "26.1.5"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["finishedOn"],
            "2025-11-24T16:01:30Z"
        );
        assert_eq!(text, provenance(&params(), &facts("Docker Engine 26.1.5")));
    }

    #[test]
    fn an_engine_without_a_version_is_named_whole() {
        let v: Value = serde_json::from_str(&provenance(&params(), &facts("podman"))).unwrap();
        assert_eq!(
            v["predicate"]["runDetails"]["builder"]["version"]["engine"],
            "podman"
        );
    }
}
