//! `--output oci:<dir>` / `oci-archive:<file>`: the built images exported from the engine (`docker save`, which
//! every engine since 1.x answers) and written as one OCI image layout whose digests depend on the images'
//! content and `SOURCE_DATE_EPOCH` only ([`normalise`]), so that the same commit gives the same digests on Engine
//! 20.10 (BuildKit 0.8, which ignores `SOURCE_DATE_EPOCH`) and on current engines.
//!
//! The layout: `oci-layout`, `index.json` with one entry per image, in the plan's order, named by its stage
//! (`org.opencontainers.image.ref.name`, so `skopeo inspect oci:<dir>:<stage>`; with one image `oci:<dir>`
//! alone), and `blobs/sha256/`. An image built for one platform is its manifest; one built for several is an
//! image index of its platforms' manifests (sorted by platform, as the index `--push` puts).
//!
//! Takes the plan's builds (their first tag names the image in the engine) and the output; gives each image's
//! digest. Nothing half-written: the layout goes to a temporary path beside the target, renamed over it at the
//! end; a directory there that is not an OCI layout is refused before the builds.

pub mod normalise;

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use oci_client::manifest::{ImageIndexEntry, OciImageIndex, OCI_IMAGE_INDEX_MEDIA_TYPE};

use crate::config::{Output, OutputFormat};
use crate::engine::{error_chain, Engine};
use crate::plan::Build;
use crate::registry::index::{image_index, index_json};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// Why the layout was not written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("failed to export `{reference}` from the engine: {message}")]
    Export { reference: String, message: String },
    #[error("failed to read `{reference}` as the engine exported it")]
    Normalise {
        reference: String,
        #[source]
        source: normalise::NormaliseError,
    },
    #[error("failed to compose the index of `{stage}`: {message}")]
    Index { stage: String, message: String },
    #[error("`{path}` exists and is not an OCI image layout (no `oci-layout` file)")]
    NotALayout { path: Utf8PathBuf },
    #[error("failed to write `{path}`")]
    Write {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LayoutError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotALayout { .. } => Some(
                "name a new path, or an existing layout to replace: `--output oci:<dir>`".into(),
            ),
            _ => None,
        }
    }
}

/// One image of the layout: its name and the digest of its manifest (one platform) or index (several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub name: String,
    pub digest: String,
}

/// The files of a layout: path → bytes, and the entry of each image.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub files: BTreeMap<String, Vec<u8>>,
    pub images: Vec<Written>,
}

/// Before the builds: the output's place must take a layout (a missing path, an empty directory or a layout to
/// replace; for an archive, anything but a directory), and its parent must exist.
pub fn check(output: &Output) -> Result<(), LayoutError> {
    let path = &output.path;
    let parent = parent_of(path);
    if !parent.is_dir() {
        return Err(LayoutError::Write {
            path: path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no directory `{parent}`"),
            ),
        });
    }
    match output.format {
        OutputFormat::Oci if path.is_dir() => {
            let empty = path
                .read_dir()
                .map_err(|source| LayoutError::Write {
                    path: path.clone(),
                    source,
                })?
                .next()
                .is_none();
            if empty || path.join("oci-layout").is_file() {
                Ok(())
            } else {
                Err(LayoutError::NotALayout { path: path.clone() })
            }
        }
        OutputFormat::Oci | OutputFormat::OciArchive if path.exists() && !path.is_file() => {
            Err(LayoutError::NotALayout { path: path.clone() })
        }
        _ => Ok(()),
    }
}

/// Exports each image (the builds of one stage: one per platform) from the engine, normalises it with
/// `SOURCE_DATE_EPOCH` = `epoch` and writes the layout; each image's digest.
pub async fn export(
    engine: &Engine,
    images: &[(String, Vec<&Build>)],
    output: &Output,
    epoch: u64,
) -> Result<Vec<Written>, LayoutError> {
    let mut exported = Vec::new();
    for (stage, builds) in images {
        let mut platforms = Vec::new();
        for build in builds {
            platforms.push(normalised(engine, build, epoch).await?);
        }
        exported.push((stage.clone(), platforms));
    }
    let layout = layout(&exported)?;
    write(&layout, output)?;
    Ok(layout.images)
}

/// One build's image exported from the engine (by its first tag) and normalised: the one way `--output` and
/// `--push` turn the engine's image into the reproducible one.
pub async fn normalised(
    engine: &Engine,
    build: &Build,
    epoch: u64,
) -> Result<normalise::Image, LayoutError> {
    let reference = build.tags.first().cloned().unwrap_or_default();
    let archive = engine
        .export_image(&reference)
        .await
        .map_err(|e| LayoutError::Export {
            reference: reference.clone(),
            message: error_chain(&e),
        })?;
    normalise::normalise(&archive, epoch)
        .map_err(|source| LayoutError::Normalise { reference, source })
}

/// The layout of `images` (name, and one normalised image per platform), in the order given. Pure.
pub fn layout(images: &[(String, Vec<normalise::Image>)]) -> Result<Layout, LayoutError> {
    let mut blobs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut entries = Vec::new();
    let mut written = Vec::new();
    for (name, platforms) in images {
        for image in platforms {
            blobs.extend(image.blobs.clone());
        }
        let annotations = Some(BTreeMap::from([(REF_NAME.to_string(), name.clone())]));
        let entry = if let [only] = platforms.as_slice() {
            ImageIndexEntry {
                media_type: only.manifest.media_type.clone(),
                digest: only.manifest.digest.clone(),
                size: only.manifest.size,
                platform: Some(only.platform.clone()),
                annotations,
                artifact_type: None,
            }
        } else {
            let children: Vec<ImageIndexEntry> = platforms
                .iter()
                .map(|image| ImageIndexEntry {
                    media_type: image.manifest.media_type.clone(),
                    digest: image.manifest.digest.clone(),
                    size: image.manifest.size,
                    platform: Some(image.platform.clone()),
                    annotations: None,
                    artifact_type: None,
                })
                .collect();
            let index = image_index(&children).map_err(|e| LayoutError::Index {
                stage: name.clone(),
                message: error_chain(&e),
            })?;
            let bytes = index_json(&index);
            let descriptor = normalise::descriptor(OCI_IMAGE_INDEX_MEDIA_TYPE, &bytes);
            blobs.insert(descriptor.digest.clone(), bytes);
            ImageIndexEntry {
                media_type: descriptor.media_type,
                digest: descriptor.digest,
                size: descriptor.size,
                platform: None,
                annotations,
                artifact_type: None,
            }
        };
        written.push(Written {
            name: name.clone(),
            digest: entry.digest.clone(),
        });
        entries.push(entry);
    }
    let index = OciImageIndex {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_INDEX_MEDIA_TYPE.to_string()),
        manifests: entries,
        artifact_type: None,
        annotations: None,
    };
    let mut files = BTreeMap::new();
    files.insert("oci-layout".to_string(), OCI_LAYOUT.to_vec());
    files.insert("index.json".to_string(), index_json(&index));
    for (digest, bytes) in blobs {
        let hex = digest.trim_start_matches("sha256:");
        files.insert(format!("blobs/sha256/{hex}"), bytes);
    }
    Ok(Layout {
        files,
        images: written,
    })
}

/// The layout's files as one tar: sorted, every entry owned by 0:0, mode 0644 (directories 0755), time 0.
pub fn archive(layout: &Layout) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let make = |kind: tar::EntryType, mode: u32, size: usize| {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_size(size as u64);
        header
    };
    for dir in ["blobs/", "blobs/sha256/"] {
        tar.append_data(&mut make(tar::EntryType::Directory, 0o755, 0), dir, &[][..])?;
    }
    for (path, bytes) in &layout.files {
        let mut header = make(tar::EntryType::Regular, 0o644, bytes.len());
        tar.append_data(&mut header, path, bytes.as_slice())?;
    }
    tar.into_inner()
}

/// Writes the layout (a directory, or one tar) to a temporary path beside `output.path`, then renames it there.
fn write(layout: &Layout, output: &Output) -> Result<(), LayoutError> {
    check(output)?;
    let path = &output.path;
    let failed = |source| LayoutError::Write {
        path: path.clone(),
        source,
    };
    let parent = parent_of(path);
    let name = path.file_name().unwrap_or("layout");
    match output.format {
        OutputFormat::OciArchive => {
            let mut file = tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .tempfile_in(parent)
                .map_err(failed)?;
            std::io::Write::write_all(&mut file, &archive(layout).map_err(failed)?)
                .map_err(failed)?;
            file.persist(path).map_err(|e| failed(e.error))?;
        }
        OutputFormat::Oci => {
            let dir = tempfile::Builder::new()
                .prefix(&format!(".{name}."))
                .tempdir_in(parent)
                .map_err(failed)?;
            std::fs::create_dir_all(dir.path().join("blobs/sha256")).map_err(failed)?;
            for (file, bytes) in &layout.files {
                std::fs::write(dir.path().join(file), bytes).map_err(failed)?;
            }
            replace_dir(dir, path).map_err(failed)?;
        }
    }
    Ok(())
}

/// Moves the finished directory to `path`: an existing layout there is moved aside first and removed after.
fn replace_dir(dir: tempfile::TempDir, path: &Utf8Path) -> std::io::Result<()> {
    if !path.exists() {
        std::fs::rename(dir.keep(), path)?;
        return Ok(());
    }
    let old = tempfile::Builder::new()
        .prefix(".old.")
        .tempdir_in(parent_of(path))?;
    let aside = old.path().join("layout");
    std::fs::rename(path, &aside)?;
    if let Err(error) = std::fs::rename(dir.path(), path) {
        let _ = std::fs::rename(&aside, path);
        return Err(error);
    }
    let _ = dir.keep();
    Ok(())
}

/// The directory `path` is in (`.` for a bare name).
fn parent_of(path: &Utf8Path) -> &Utf8Path {
    match path.parent() {
        Some(parent) if !parent.as_str().is_empty() => parent,
        _ => Utf8Path::new("."),
    }
}

#[cfg(test)]
mod tests;
