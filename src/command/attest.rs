//! `--push` with documents: each pushed image gets its SBOMs (`--sbom`) and SLSA provenance (`--provenance`)
//! attached in its registry as OCI 1.1 referrers ([`crate::registry::referrers`]), per platform; an image built
//! for several platforms gets its index's own entry too (the provenance of each platform, so that the index's
//! digest alone leads to how every platform was built).
//!
//! Orchestration only. Before the builds ([`prepare`], the file and process edge): the crate sets of the builds
//! that want an SBOM (`cargo tree`, once per distinct query of [`sbom::crate_queries`]), the digest of
//! `Cargo.lock`, and the workspace's git commit with whether the tree is dirty. During them, the start and finish
//! time of each ([`Times`]). After them ([`attach_all`]): each document rendered ([`sbom`], pure) and attached,
//! one event per manifest.
//!
//! What is not known here stays out rather than guessed: the executable's own SHA-256 (the image is in the
//! registry, not read back), base images' digests unless their references pin one, Debian package versions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use crate::config::SbomFormat;
use crate::engine::{error_chain, Engine, Run};
use crate::error::Error;
use crate::events::{
    AttachOutcome, AttachedDocument, BuildEventKind, DocumentsAttached, ImageOutcome, IndexOutcome,
    Push, PushFailed, PushFailure,
};
use crate::model::BIN_DIR;
use crate::plan::{Build, Plan};
use crate::registry::credentials::Credentials;
use crate::registry::platforms::is_insecure;
use crate::registry::referrers::{self, Document};
use crate::sbom::provenance::{self, Git, RunFacts};
use crate::sbom::{self, BaseImage, DebianPackage, Executable, Inventory};
use crate::workspace::CrateSet;
use crate::{reference, render};

/// What the documents need that the plan does not hold, read before the builds.
pub(super) struct Prepared {
    /// Each build's crate set, by build name (builds that want an SBOM only).
    crates: BTreeMap<String, CrateSet>,
    lockfile_sha256: Option<String>,
    git: Option<(String, bool)>,
}

/// Reads what the documents need; `None` when nothing is pushed or no document is wanted.
pub(super) fn prepare(plan: &Plan) -> Result<Option<Prepared>, Error> {
    let pushes = plan
        .builds
        .to_run()
        .any(|b| b.push.is_some() && !b.binary.is_empty());
    if !pushes || !plan.documents.any() {
        return Ok(None);
    }
    let mut crates = BTreeMap::new();
    if !plan.documents.sbom.is_empty() {
        let builds = sbom::crate_queries(plan);
        let mut answers = Vec::new();
        for query in sbom::distinct_queries(&builds) {
            answers.push((
                query.clone(),
                crate::workspace::resolve_crates(&plan.root, query)?,
            ));
        }
        for build in builds {
            let sets = answers
                .iter()
                .find(|(q, _)| *q == build.query)
                .map(|(_, s)| s);
            if let Some(set) = sets.and_then(|s| s.get(&build.package)) {
                crates.insert(build.build, set.clone());
            }
        }
    }
    let lockfile_sha256 = std::fs::read(plan.root.join("Cargo.lock"))
        .ok()
        .map(|bytes| sbom::hex(&Sha256::digest(bytes)));
    Ok(Some(Prepared {
        crates,
        lockfile_sha256,
        git: git_state(&plan.root),
    }))
}

/// The full commit of the workspace and whether its tree differs from it; `None` outside git.
fn git_state(root: &camino::Utf8Path) -> Option<(String, bool)> {
    let commit = super::git(root, &["rev-parse", "--verify", "HEAD"])
        .filter(|c| c.len() >= 40 && c.chars().all(|c| c.is_ascii_hexdigit()))?;
    Some((commit, super::tree_dirty(root)))
}

/// When each build started and finished, in seconds since the Unix epoch, by build name.
#[derive(Clone, Default)]
pub(super) struct Times(Arc<Mutex<BTreeMap<String, (u64, u64)>>>);

impl Times {
    pub fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    pub fn record(&self, name: &str, started: u64, finished: u64) {
        if let Ok(mut times) = self.0.lock() {
            times.insert(name.to_string(), (started, finished));
        }
    }

    fn of(&self, name: &str) -> (u64, u64) {
        let now = Self::now();
        self.0
            .lock()
            .ok()
            .and_then(|t| t.get(name).copied())
            .unwrap_or((now, now))
    }
}

/// Everything [`attach_all`] reads of the run.
pub(super) struct Pushed<'a> {
    pub builds: &'a [(&'a Build, &'a ImageOutcome)],
    pub indexes: &'a [IndexOutcome],
    pub credentials: &'a Credentials,
    pub insecure: &'a [String],
    pub engine: &'a Engine,
    pub run: &'a Run,
    pub times: &'a Times,
}

/// Attaches the documents of every pushed image of `pushed`, then of every index; one outcome per manifest.
pub(super) async fn attach_all(
    plan: &Plan,
    prepared: &Prepared,
    pushed: Pushed<'_>,
) -> Vec<AttachOutcome> {
    let dockerfile = render::render_for(plan, pushed.engine.backend);
    let dockerfile_sha256 = sbom::hex(&Sha256::digest(dockerfile.as_bytes()));
    let mut outcomes = Vec::new();
    let mut by_stage: BTreeMap<&str, Vec<Document>> = BTreeMap::new();
    for (build, outcome) in pushed.builds {
        let Some(Push::Pushed(image)) = &outcome.push else {
            continue;
        };
        let Some(tag) = image.tags.first() else {
            continue;
        };
        let repository = reference::split_tag(tag).0.to_string();
        let hex = image.digest.trim_start_matches("sha256:");
        let (started, finished) = pushed.times.of(&build.name);
        let facts = RunFacts {
            subject: (&repository, hex),
            dockerfile_sha256: &dockerfile_sha256,
            lockfile_sha256: prepared.lockfile_sha256.as_deref(),
            git: prepared.git.as_ref().map(|(commit, dirty)| Git {
                commit,
                dirty: *dirty,
            }),
            tool_version: env!("CARGO_PKG_VERSION"),
            engine: &pushed.engine.description,
            started,
            finished,
        };
        let documents = documents(plan, build, prepared, &facts);
        if build.several {
            by_stage.entry(&build.stage).or_default().extend(
                documents
                    .iter()
                    .filter(|d| d.media_type == provenance::MEDIA_TYPE)
                    .cloned(),
            );
        }
        let attached = attach(
            &repository,
            &image.digest,
            build.platform,
            &documents,
            &pushed,
        )
        .await;
        pushed.run.send(&build.stage, event(&attached));
        outcomes.push(AttachOutcome {
            stage: build.stage.clone(),
            attached,
        });
    }
    for index in pushed.indexes {
        let (Ok(pushed_index), Some(documents)) =
            (&index.index, by_stage.get(index.stage.as_str()))
        else {
            continue;
        };
        let Some(tag) = pushed_index.tags.first() else {
            continue;
        };
        let repository = reference::split_tag(tag).0.to_string();
        let attached = attach(&repository, &pushed_index.digest, None, documents, &pushed).await;
        pushed.run.send(&index.stage, event(&attached));
        outcomes.push(AttachOutcome {
            stage: index.stage.clone(),
            attached,
        });
    }
    outcomes
}

fn event(attached: &Result<DocumentsAttached, PushFailed>) -> BuildEventKind {
    match attached {
        Ok(done) => BuildEventKind::DocumentsAttached(done.clone()),
        Err(failed) => BuildEventKind::AttachFailed(failed.clone()),
    }
}

/// The documents of one build: its SBOMs in the plan's formats, its provenance.
fn documents(plan: &Plan, build: &Build, prepared: &Prepared, facts: &RunFacts) -> Vec<Document> {
    let arch = build
        .platform
        .map(|p| {
            p.docker_name()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_else(|| "amd64".into());
    let file = |suffix: &str| match build.platform.filter(|_| build.several) {
        Some(_) => format!("{}-{arch}.{suffix}", build.stage),
        None => format!("{}.{suffix}", build.stage),
    };
    let mut documents = Vec::new();
    if let Some(set) = prepared.crates.get(&build.name) {
        let image = plan
            .images
            .iter()
            .find(|i| i.stage == build.stage || i.debug.stage == build.stage);
        let packages = image
            .map(|i| i.runtime_packages.as_slice())
            .unwrap_or_default();
        let platform = build.platform.map_or("linux/amd64", |p| p.docker_name());
        let path = format!("{BIN_DIR}/{}", build.binary);
        let inventory = Inventory {
            image: build
                .tags
                .first()
                .map_or(build.stage.as_str(), String::as_str),
            platform,
            executable: Executable {
                name: &build.binary,
                path: &path,
                sha256: None,
            },
            crates: set,
            base: (build.base != "scratch").then_some(BaseImage {
                reference: &build.base,
                digest: build.base.rsplit_once('@').map(|(_, d)| d),
            }),
            debian: packages
                .iter()
                .map(|name| DebianPackage {
                    name,
                    version: None,
                    arch: &arch,
                    distro: "debian-12",
                })
                .collect(),
            created: facts.finished,
            tool_version: env!("CARGO_PKG_VERSION"),
        };
        for format in &plan.documents.sbom {
            documents.push(match format {
                SbomFormat::Spdx => Document {
                    media_type: "application/spdx+json",
                    title: file("spdx.json"),
                    bytes: sbom::spdx(&inventory).into_bytes(),
                },
                SbomFormat::Cyclonedx => Document {
                    media_type: "application/vnd.cyclonedx+json",
                    title: file("cdx.json"),
                    bytes: sbom::cyclonedx(&inventory).into_bytes(),
                },
            });
        }
    }
    if plan.documents.provenance {
        let parameters = provenance::parameters(plan, build);
        documents.push(Document {
            media_type: provenance::MEDIA_TYPE,
            title: file("provenance.json"),
            bytes: provenance::provenance(&parameters, facts).into_bytes(),
        });
    }
    documents
}

/// The kind of a document, from its media type.
fn kind(media_type: &str) -> &'static str {
    match media_type {
        "application/spdx+json" => "spdx",
        "application/vnd.cyclonedx+json" => "cyclonedx",
        _ => "provenance",
    }
}

async fn attach(
    repository: &str,
    digest: &str,
    platform: Option<crate::platform::Platform>,
    documents: &[Document],
    pushed: &Pushed<'_>,
) -> Result<DocumentsAttached, PushFailed> {
    let began = Instant::now();
    let host = reference::registry_host(repository);
    let login = pushed.credentials.get(host);
    match referrers::attach(
        repository,
        digest,
        documents,
        login,
        is_insecure(host, pushed.insecure),
    )
    .await
    {
        Ok(digests) => Ok(DocumentsAttached {
            repository: repository.to_string(),
            subject: digest.to_string(),
            platform,
            referrers_tag: referrers::compose::fallback_tag(digest),
            documents: documents
                .iter()
                .zip(digests)
                .map(|(d, manifest)| AttachedDocument {
                    kind: kind(d.media_type).to_string(),
                    media_type: d.media_type.to_string(),
                    digest: manifest,
                    document_digest: crate::registry::index::digest_of(&d.bytes),
                })
                .collect(),
            seconds: began.elapsed().as_secs_f64(),
        }),
        Err(error) => Err(PushFailed {
            tag: format!("{repository}@{digest}"),
            registry: host.to_string(),
            message: match error.hint() {
                Some(hint) => format!("{}; {hint}", error_chain(&error)),
                None => error_chain(&error),
            },
            reason: PushFailure::Other,
            attempts: 1,
        }),
    }
}
