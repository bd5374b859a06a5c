//! What a build says while it runs: [`BuildEvent`]s, the only thing the reporter knows of the engine.
//!
//! The engine turns BuildKit's status stream (or the classic builder's text lines) into these; the progress
//! display, the JSON output and the summary read them. Plain data with no bollard types, so reporter tests feed
//! made-up events and read a buffer. `--message-format json` prints them as they are, one object per line:
//! the field names here are a documented interface (docs/src/reference/json.md) and only ever gain fields. They deserialise too,
//! so a consumer (the pipeline benchmark, a CI script in Rust) reads the stream with these same types.
//! [`ImageOutcome`] is how each image's build ended: the engine gives it, the summary reads it.

use serde::{Deserialize, Serialize};

use crate::platform::Platform;

/// One thing that happened in the build of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildEvent {
    /// The image's stage name (the `--target`).
    pub image: String,
    /// Seconds since the whole `cargo dockerize build` started.
    pub elapsed: f64,
    #[serde(flatten)]
    pub kind: BuildEventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum BuildEventKind {
    /// The engine accepted the build of this target (for `platform`, when one was asked for).
    BuildStarted {
        target: String,
        tags: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform: Option<Platform>,
    },
    /// A step began to run.
    StepStarted { step: Step },
    /// A step was served from the cache without running.
    StepCached { step: Step },
    /// A step ran to its end.
    StepFinished { step: Step, seconds: f64 },
    /// Output of a running step, one line.
    StepLog {
        step: Step,
        stream: LogStream,
        line: String,
    },
    /// The image is built and tagged.
    ImageBuilt(ImageBuilt),
    /// The build failed; `step` is the step that failed, when the engine said which.
    ImageFailed(ImageFailed),
    /// `--push`: one tag's push failed for a reason that may pass (connection reset, 5xx); it is tried again.
    PushRetried(PushRetried),
    /// `--push`: every tag of the image is in its registry; `digest` is the manifest's. With `--cache-to`, the
    /// builder stage's build and push report as an image whose `image` is the builder stage (`builder`).
    ImagePushed(ImagePushed),
    /// `--push`: a tag could not be pushed; the image stays built locally but is not published.
    PushFailed(PushFailed),
    /// `--push` of an image built for several platforms: the image index under its tags, listing each
    /// platform's pushed manifest.
    IndexPushed(IndexPushed),
    /// `--push`: the index could not be put under a tag; the per-platform images stay pushed.
    IndexFailed(PushFailed),
    /// `--push` with `--sbom`/`--provenance`: the documents of one pushed manifest are in its repository as
    /// OCI 1.1 referrers, listed under the referrers tag too.
    DocumentsAttached(DocumentsAttached),
    /// `--push`: the documents could not be attached; the image stays pushed.
    AttachFailed(PushFailed),
}

/// The documents attached to one pushed manifest (`subject`: one platform's image, or an image's index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentsAttached {
    /// `host[:port]/repository` of the image.
    pub repository: String,
    /// The `sha256:` digest of the manifest they describe.
    pub subject: String,
    /// The platform of that manifest; `None` for an image built for one platform the engine chose, or an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The tag of the referrers tag schema that lists them (`sha256-<hex>`).
    pub referrers_tag: String,
    pub documents: Vec<AttachedDocument>,
    pub seconds: f64,
}

/// One attached document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedDocument {
    /// `spdx`, `cyclonedx` or `provenance`.
    pub kind: String,
    /// The artifact's type: `application/spdx+json`, `application/vnd.cyclonedx+json`,
    /// `application/vnd.in-toto+json`.
    pub media_type: String,
    /// The artifact manifest's digest: fetch `<repository>@<digest>`.
    pub digest: String,
    /// The document's own digest (the artifact's layer).
    pub document_digest: String,
}

/// How attaching the documents of one pushed image ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachOutcome {
    pub stage: String,
    pub attached: Result<DocumentsAttached, PushFailed>,
}

/// An image index put in a registry: its digest, the tags it went under, and each platform's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexPushed {
    pub digest: String,
    pub tags: Vec<String>,
    pub registry: String,
    pub platforms: Vec<PlatformDigest>,
    pub seconds: f64,
}

/// One platform's manifest in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformDigest {
    pub platform: Platform,
    pub digest: String,
}

/// How the index of an image built for several platforms ended (`--push` only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexOutcome {
    pub stage: String,
    pub binary: String,
    pub index: Result<IndexPushed, PushFailed>,
}

/// A build step: BuildKit's vertex, or a classic builder `Step N/M`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable within one build: the vertex digest, or `step-N` for the classic builder.
    pub id: String,
    /// As BuildKit names it: `[builder 4/6] RUN cargo build ...`, `[internal] load build context`.
    pub name: String,
}

impl Step {
    /// Bookkeeping steps are not counted as build steps: `[internal] ...`, the context transfer (`copy /context /`
    /// on Engine 20.10, which reruns whenever file times differ), resolving a base image (`[chef 1/2] FROM ...`,
    /// which BuildKit never reports as cached), and the export.
    pub fn is_internal(&self) -> bool {
        self.name.starts_with("[internal]")
            || self.name.starts_with("copy /context")
            || self
                .name
                .split_once("] ")
                .is_some_and(|(_, rest)| rest.starts_with("FROM "))
            || self.name.starts_with("exporting")
            || self.name.starts_with("naming to")
            || self.name.starts_with("writing image")
    }
}

/// A Cargo registry that refused a build's token, as Cargo says it in the failing step's log: a request for its
/// index or a download answered 401 or 403 (`failed to get successful HTTP response from `<url>` (<host>), got
/// 403`), and the registry's name when Cargo gives it (`token rejected for `<name>``). Recognised from the log by
/// the reporter and the command, which then say it in one line instead of showing Cargo's screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRefusal {
    /// The URL Cargo asked for.
    pub url: String,
    /// 401 or 403.
    pub status: u16,
    /// The registry's name, when Cargo said it.
    pub name: Option<String>,
}

impl ImageFailed {
    /// The registry that refused the build's token, when the log says one did.
    pub fn registry_refusal(&self) -> Option<RegistryRefusal> {
        let quoted_after = |line: &str, marker: &str| -> Option<String> {
            let rest = &line[line.find(marker)? + marker.len()..];
            Some(rest[..rest.find('`')?].to_string())
        };
        let (url, status) = self.log_tail.iter().find_map(|line| {
            let url = quoted_after(line, "failed to get successful HTTP response from `")?;
            let rest = &line[line.rfind(", got ")? + ", got ".len()..];
            let status: u16 = rest.get(..3)?.parse().ok()?;
            matches!(status, 401 | 403).then_some((url, status))
        })?;
        let name = self
            .log_tail
            .iter()
            .find_map(|line| quoted_after(line, "token rejected for `"));
        Some(RegistryRefusal { url, status, name })
    }
}

#[cfg(test)]
mod tests {
    use super::{ImageFailed, RegistryRefusal, Step};

    #[test]
    fn a_refused_token_is_read_from_cargos_words() {
        let failed = |lines: &[&str]| ImageFailed {
            message: "exit code: 101".into(),
            step: None,
            log_tail: lines.iter().map(|l| l.to_string()).collect(),
            seconds: 1.0,
        };
        // Cargo 1.95 in the builder, the index answering 403 (as written to the build log).
        let forbidden = failed(&[
            "    Updating `dz-private` index",
            "error: failed to get `dz-private-greeting` as a dependency of package `app v0.0.0 (/app)`",
            "Caused by:",
            "  download of config.json failed",
            "Caused by:",
            "  failed to get successful HTTP response from `http://127.0.0.1:39737/index/config.json` (127.0.0.1), got 403",
            "  body:",
            "  {\"errors\":[{\"detail\":\"the token is not valid\"}]}",
        ]);
        assert_eq!(
            forbidden.registry_refusal(),
            Some(RegistryRefusal {
                url: "http://127.0.0.1:39737/index/config.json".into(),
                status: 403,
                name: None,
            })
        );
        // A download answered 401, Cargo naming the registry.
        let unauthorized = failed(&[
            "error: failed to download from `http://127.0.0.1:1/dl/a/0.1.0`",
            "  failed to get successful HTTP response from `http://127.0.0.1:1/dl/a/0.1.0` (127.0.0.1), got 401",
            "  token rejected for `corp`, please run `cargo login --registry corp`",
        ]);
        let refusal = unauthorized.registry_refusal().unwrap();
        assert_eq!(
            (refusal.status, refusal.name.as_deref()),
            (401, Some("corp"))
        );
        // Not a refusal: another status, or a compiler error.
        let missing = failed(&[
            "  failed to get successful HTTP response from `https://index.crates.io/a` (index.crates.io), got 404",
        ]);
        assert_eq!(missing.registry_refusal(), None);
        assert_eq!(
            failed(&["error[E0308]: mismatched types"]).registry_refusal(),
            None
        );
    }

    #[test]
    fn bookkeeping_steps_are_internal() {
        let step = |name: &str| Step {
            id: String::new(),
            name: name.into(),
        };
        assert!(step("[internal] load build context").is_internal());
        assert!(step("copy /context /").is_internal());
        assert!(step("[chef 1/3] FROM docker.io/library/rust:1.95-slim-bookworm").is_internal());
        assert!(!step("[builder 2/4] RUN cargo build --locked").is_internal());
        assert!(!step("[api 2/3] COPY --from=builder /out/api /usr/local/bin/api").is_internal());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBuilt {
    pub id: String,
    pub tags: Vec<String>,
    /// Bytes, as the engine reports the image's size.
    pub size: u64,
    pub seconds: f64,
    pub steps_total: usize,
    pub steps_cached: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFailed {
    pub message: String,
    pub step: Option<Step>,
    /// The last lines (at most 40) of the failing step's log, the compiler's error among them.
    pub log_tail: Vec<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagePushed {
    /// `sha256:...` of the manifest the registry stored: pull `<repository>@<digest>` for exactly this image.
    pub digest: String,
    pub tags: Vec<String>,
    /// The registry host, as Docker normalises it (`docker.io` for names without one).
    pub registry: String,
    pub seconds: f64,
    /// Set when the pushed image is the normalised one (every image of the Dockerfile; not a `--cache-to`
    /// cache image): the `SOURCE_DATE_EPOCH` its times were set to. The same commit and epoch give the same
    /// `digest` from any engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_date_epoch: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushFailed {
    /// The tag that failed (tags are pushed in order; the ones after it were not tried).
    pub tag: String,
    pub registry: String,
    /// The registry's or the engine's words.
    pub message: String,
    /// What went wrong, for scripts: `auth`, `unknown-host`, `tls`, `rejected`, `unreachable`, `server`, `other`,
    /// or `index` for an index.
    pub reason: PushFailure,
    pub attempts: u32,
}

/// Why a push failed, read from the engine's or the registry's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushFailure {
    /// 401/403: wrong or missing credentials, or no right to push there.
    Auth,
    /// The registry's host name does not resolve.
    UnknownHost,
    /// The registry speaks plain HTTP to an HTTPS client, or its certificate is not trusted.
    Tls,
    /// The registry refused the name or tag (invalid, 404, denied by policy).
    Rejected,
    /// Nothing answered, or the connection broke: the registry may be restarting.
    Unreachable,
    /// The registry answered 5xx.
    Server,
    Other,
    /// The image index of an image built for several platforms could not be put (the registry client's error
    /// is the message).
    Index,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRetried {
    pub tag: String,
    pub registry: String,
    pub message: String,
    /// The attempt that failed, from 1.
    pub attempt: u32,
}

/// How an image's push ended (`--push`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Push {
    Pushed(ImagePushed),
    Failed(PushFailed),
}

/// Lines of a failing step's log shown on failure.
pub const LOG_TAIL_LINES: usize = 40;

/// How one image's build ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Built(ImageBuilt),
    Failed(ImageFailed),
    /// Not started or stopped because another image failed (without `--keep-going`) or Ctrl-C.
    Cancelled,
}

/// One image of the plan and how its build ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageOutcome {
    pub stage: String,
    pub binary: String,
    /// The platform it was built for, when the image is built for several (each has its own outcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    pub outcome: Outcome,
    /// `None` without `--push`, or when the build did not succeed.
    #[serde(default)]
    pub push: Option<Push>,
}
