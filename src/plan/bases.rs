//! The base images the Dockerfile starts from, and which are pinned by digest.
//!
//! Takes the toolchain's image tag, the images and the pins the Dockerfile on disk holds ([`Pins`], read back by
//! the command); gives every base once ([`Base`]: its reference as `FROM` names it, its digest when pinned, the
//! stages that start from it), and puts the OCI base labels (`org.opencontainers.image.base.name` /
//! `.base.digest`) on each image whose base is pinned. `scratch` is no image: it has no base and no labels.
//!
//! A pin is kept only for the reference it was made for: a new `rust-version` names another builder tag, whose
//! old pin no longer applies, so that base is unpinned again (and the note says so) rather than silently built
//! from the old release. A runtime reference that holds its own digest (`runtime = "name:tag@sha256:…"`) is
//! pinned by the manifest. Pure.

use serde::Serialize;

use super::Image;
use crate::model::{stage, DEBIAN_SLIM};
use crate::value::{Digest, Pins};

/// The label naming the base image a runtime image starts from.
pub const BASE_NAME_LABEL: &str = "org.opencontainers.image.base.name";
/// The label holding that base's digest.
pub const BASE_DIGEST_LABEL: &str = "org.opencontainers.image.base.digest";

/// One base image of the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Base {
    /// As `FROM` names it, without a digest: `rust:1.95-slim-bookworm`, `debian:bookworm-slim`.
    pub reference: String,
    /// Its digest (a manifest's, or an image index's for a multi-platform tag), when pinned.
    pub digest: Option<Digest>,
    /// Where the pin comes from.
    pub pinned_by: PinnedBy,
    /// The stages that start from it, in the order of the Dockerfile.
    pub stages: Vec<String>,
}

/// Where a base's pin comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinnedBy {
    /// Nothing: the tag is resolved when the image is built.
    Nothing,
    /// The Dockerfile's `FROM` line (`cargo dockerize pin`, or a bot's bump of it).
    Dockerfile,
    /// The configured runtime reference itself (`runtime = "name:tag@sha256:…"`).
    Reference,
}

impl Base {
    /// The image of a `FROM` line: the reference, and `@<digest>` when pinned by the Dockerfile.
    pub fn from_image(&self) -> String {
        match (&self.digest, self.pinned_by) {
            (Some(digest), PinnedBy::Dockerfile) => format!("{}@{digest}", self.reference),
            _ => self.reference.clone(),
        }
    }

    /// The OCI base labels of an image on this base: none when it is not pinned.
    fn labels(&self) -> Vec<(String, String)> {
        self.digest
            .iter()
            .flat_map(|digest| {
                [
                    (BASE_NAME_LABEL.to_string(), self.reference.clone()),
                    (BASE_DIGEST_LABEL.to_string(), digest.to_string()),
                ]
            })
            .collect()
    }
}

/// The builder base's tag for the toolchain's image version.
pub fn builder_base(image_version: &str) -> String {
    format!("rust:{image_version}-slim-bookworm")
}

/// Every base of the Dockerfile, sorted by reference, with its pin; each image gets the base labels of its
/// release base and its debug variant those of Debian slim, where pinned.
pub fn bases(image_version: &str, images: &mut [Image], pins: &Pins) -> Vec<Base> {
    let mut bases: Vec<Base> = Vec::new();
    let mut add = |image: &str, stage: &str| -> usize {
        let (reference, own) = match image.split_once('@') {
            Some((name, digest)) => (name, Digest::parse(digest).ok()),
            None => (image, None),
        };
        let index = bases
            .iter()
            .position(|b| {
                b.reference == reference && (b.pinned_by == PinnedBy::Reference) == own.is_some()
            })
            .unwrap_or_else(|| {
                let (digest, pinned_by) = match own {
                    Some(digest) => (Some(digest), PinnedBy::Reference),
                    None => match pins.get(reference) {
                        Some(digest) => (Some(digest.clone()), PinnedBy::Dockerfile),
                        None => (None, PinnedBy::Nothing),
                    },
                };
                bases.push(Base {
                    reference: reference.to_string(),
                    digest,
                    pinned_by,
                    stages: Vec::new(),
                });
                bases.len() - 1
            });
        bases[index].stages.push(stage.to_string());
        index
    };
    add(&builder_base(image_version), stage::CHEF);
    let mut release = Vec::new();
    for image in images.iter() {
        release
            .push((!image.runtime.is_scratch()).then(|| add(image.runtime.image(), &image.stage)));
    }
    let mut debug = Vec::new();
    for image in images.iter() {
        debug.push(add(DEBIAN_SLIM, &image.debug.stage));
    }
    for ((image, release), debug) in images.iter_mut().zip(release).zip(debug) {
        if let Some(index) = release {
            image.labels.extend(bases[index].labels());
        }
        image.debug.base_labels.extend(bases[debug].labels());
    }
    bases.sort_by(|a, b| (&a.reference, a.pinned_by).cmp(&(&b.reference, b.pinned_by)));
    bases
}

/// The note for bases no digest pins (one line, once), when there are any.
pub fn unpinned_note(bases: &[Base]) -> Option<String> {
    let unpinned: Vec<String> = bases
        .iter()
        .filter(|b| b.digest.is_none())
        .map(|b| format!("`{}`", b.reference))
        .collect();
    (!unpinned.is_empty()).then(|| {
        format!(
            "base image(s) {} are not pinned by digest, so a re-tagged base changes the images: `cargo dockerize pin` pins them in the Dockerfile",
            unpinned.join(", ")
        )
    })
}
