//! One image as the engine saved it (a docker-archive: `manifest.json`, the config, one tar per layer) → the
//! same image as OCI blobs whose bytes depend on the image's content and `SOURCE_DATE_EPOCH` only. Pure.
//!
//! What varies between two builds of one commit, and what is done about it (measured on Engine 20.10 with
//! BuildKit 0.8 and Engine 26.1 with BuildKit 0.13, the `single-bin` fixture built from two directories):
//! - file modification times (a `COPY` stamps its parent directories and the copied binary with the build's
//!   time): clamped to the epoch; older times (a base image's files) stay;
//! - user and group names: BuildKit 0.8 writes `root`/`root`, 0.13 none; the numeric ids are what a container
//!   uses, so names are dropped;
//! - the mode field: BuildKit 0.8 writes the file type's bits with the permissions (`0040755` for a directory),
//!   0.13 the permissions only (`0000755`): the permission bits are kept (the entry's type says the rest);
//! - the order of entries and the tar's own encoding (PAX or GNU headers, access and change times): entries are
//!   written afresh in path order (hard links last, after their targets) with GNU headers; of the PAX records
//!   only extended attributes are kept;
//! - the config's `created` and each history entry's: the epoch; fields one engine writes and the other does not
//!   (`OnBuild: null`, `container`, `container_config`, `docker_version`) are left out: the config is written
//!   from the fields the OCI image spec defines, empty ones dropped;
//! - the engine's compression: layers leave the engine uncompressed (`docker save`), and the tool compresses
//!   them with flate2 at a fixed level, with no name and time 0 in the gzip header.
//!
//! The docker-archive's own layout differs by engine (`<id>/layer.tar` on 20.10, `blobs/sha256/<digest>` on
//! 25 and later): both are read through the paths `manifest.json` gives.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read as _, Write as _};

use oci_client::manifest::{OciDescriptor, OciImageManifest, OCI_IMAGE_MEDIA_TYPE};
use serde::{Deserialize, Serialize};

use crate::registry::index::digest_of;
use crate::text::rfc3339;

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// flate2's default: a fixed level, so the same layer always compresses to the same bytes.
const GZIP_LEVEL: u32 = 6;

/// Why an exported image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NormaliseError {
    #[error("the engine's archive is not a readable tar: {0}")]
    Tar(#[source] std::io::Error),
    #[error("the engine's archive has no `{0}`")]
    Missing(String),
    #[error("the engine's archive holds {0} images in `manifest.json`, not one")]
    ImageCount(usize),
    #[error("failed to read `{file}` of the engine's archive: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to rewrite the layer `{layer}`: {source}")]
    Layer {
        layer: String,
        #[source]
        source: std::io::Error,
    },
}

/// A normalised image: its blobs (config, layers, manifest), the manifest's descriptor and its platform.
#[derive(Debug, Clone)]
pub struct Image {
    /// `sha256:<hex>` → bytes: the config, each compressed layer and the manifest.
    pub blobs: BTreeMap<String, Vec<u8>>,
    /// The manifest's descriptor (media type, digest, size).
    pub manifest: OciDescriptor,
    /// `os`, `architecture` and `variant` from the engine's config.
    pub platform: oci_client::manifest::Platform,
}

/// `manifest.json` of a docker-archive: one entry per image.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Saved {
    config: String,
    layers: Vec<String>,
}

/// The engine's image config: the fields kept (everything else is the engine's).
#[derive(Deserialize)]
struct EngineConfig {
    architecture: String,
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    config: Option<RunConfig>,
    #[serde(default)]
    history: Option<Vec<History>>,
}

/// The OCI config's `config`: how the image runs.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    volumes: Option<BTreeMap<String, Empty>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stop_signal: Option<String>,
}

/// `{}`: the value of each exposed port and volume.
#[derive(Debug, Default, Deserialize, Serialize)]
struct Empty {}

#[derive(Debug, Deserialize, Serialize)]
struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    empty_layer: Option<bool>,
}

/// The OCI image config written: field order fixed by this struct.
#[derive(Serialize)]
struct OciConfig {
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
    config: RunConfig,
    rootfs: RootFs,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<History>,
}

#[derive(Serialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: Vec<String>,
}

/// The one image of a docker-archive (`docker save` of one reference), normalised for `epoch`.
pub fn normalise(archive: &[u8], epoch: u64) -> Result<Image, NormaliseError> {
    let files = read_files(archive)?;
    let file = |name: &str| {
        files
            .get(name.trim_start_matches("./"))
            .ok_or_else(|| NormaliseError::Missing(name.to_string()))
    };
    let json = |name: &str| -> Result<&[u8], NormaliseError> { file(name).map(Vec::as_slice) };
    let saved: Vec<Saved> = parse("manifest.json", json("manifest.json")?)?;
    let [saved] = <[Saved; 1]>::try_from(saved).map_err(|s| NormaliseError::ImageCount(s.len()))?;
    let engine: EngineConfig = parse(&saved.config, json(&saved.config)?)?;
    let mut blobs = BTreeMap::new();
    let (mut layers, mut diff_ids) = (Vec::new(), Vec::new());
    for name in &saved.layers {
        let tar = normalise_layer(file(name)?, epoch).map_err(|source| NormaliseError::Layer {
            layer: name.clone(),
            source,
        })?;
        diff_ids.push(digest_of(&tar));
        let compressed = gzip(&tar).map_err(|source| NormaliseError::Layer {
            layer: name.clone(),
            source,
        })?;
        layers.push(descriptor(LAYER_MEDIA_TYPE, &compressed));
        blobs.insert(digest_of(&compressed), compressed);
    }
    let platform = oci_client::manifest::Platform {
        architecture: engine.architecture.as_str().into(),
        os: engine.os.as_str().into(),
        os_version: None,
        os_features: None,
        variant: engine.variant.clone().filter(|v| !v.is_empty()),
        features: None,
    };
    let config = config_json(engine, diff_ids, epoch);
    let config_descriptor = descriptor(CONFIG_MEDIA_TYPE, &config);
    blobs.insert(digest_of(&config), config);
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_string()),
        config: config_descriptor,
        layers,
        ..OciImageManifest::default()
    };
    let manifest = serde_json::to_vec(&manifest).expect("a manifest serialises");
    let manifest_descriptor = descriptor(OCI_IMAGE_MEDIA_TYPE, &manifest);
    blobs.insert(digest_of(&manifest), manifest);
    Ok(Image {
        blobs,
        manifest: manifest_descriptor,
        platform,
    })
}

/// The descriptor of a blob: its media type, digest and size.
pub fn descriptor(media_type: &str, bytes: &[u8]) -> OciDescriptor {
    OciDescriptor {
        media_type: media_type.to_string(),
        digest: digest_of(bytes),
        size: i64::try_from(bytes.len()).expect("a blob under 8 EiB"),
        ..OciDescriptor::default()
    }
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T, NormaliseError> {
    serde_json::from_slice(bytes).map_err(|source| NormaliseError::Json {
        file: file.to_string(),
        source,
    })
}

/// Every regular file of the archive by its path.
fn read_files(archive: &[u8]) -> Result<HashMap<String, Vec<u8>>, NormaliseError> {
    let mut files = HashMap::new();
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries().map_err(NormaliseError::Tar)? {
        let mut entry = entry.map_err(NormaliseError::Tar)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(NormaliseError::Tar)?;
        files.insert(path, bytes);
    }
    Ok(files)
}

/// The OCI config from the engine's: the run settings as they were (empty ones dropped), every time `epoch`,
/// the layers' digests recomputed.
fn config_json(engine: EngineConfig, diff_ids: Vec<String>, epoch: u64) -> Vec<u8> {
    let created = rfc3339(epoch);
    let mut run = engine.config.unwrap_or_default();
    let blank = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
    if blank(&run.user) {
        run.user = None;
    }
    if blank(&run.working_dir) {
        run.working_dir = None;
    }
    if blank(&run.stop_signal) {
        run.stop_signal = None;
    }
    run.env = run.env.filter(|v| !v.is_empty());
    run.entrypoint = run.entrypoint.filter(|v| !v.is_empty());
    run.cmd = run.cmd.filter(|v| !v.is_empty());
    run.labels = run.labels.filter(|m| !m.is_empty());
    run.exposed_ports = run.exposed_ports.filter(|m| !m.is_empty());
    run.volumes = run.volumes.filter(|m| !m.is_empty());
    let history = engine
        .history
        .unwrap_or_default()
        .into_iter()
        .map(|h| History {
            created: Some(created.clone()),
            empty_layer: h.empty_layer.filter(|e| *e),
            ..h
        })
        .collect();
    let config = OciConfig {
        created,
        author: engine.author.filter(|a| !a.is_empty()),
        architecture: engine.architecture,
        os: engine.os,
        variant: engine.variant.filter(|v| !v.is_empty()),
        config: run,
        rootfs: RootFs {
            kind: "layers",
            diff_ids,
        },
        history,
    };
    serde_json::to_vec(&config).expect("a config serialises")
}

/// One entry of a layer, read whole.
struct LayerEntry {
    path: Vec<u8>,
    link: Option<Vec<u8>>,
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    device: (Option<u32>, Option<u32>),
    /// `SCHILY.xattr.*` PAX records, sorted.
    xattrs: Vec<(String, Vec<u8>)>,
    data: Vec<u8>,
}

/// The layer's entries written afresh: sorted by path with hard links last (a hard link's target must come
/// before it), GNU headers, modification times clamped to `epoch`, no names, extended attributes only of PAX.
pub fn normalise_layer(layer: &[u8], epoch: u64) -> std::io::Result<Vec<u8>> {
    let mut entries = read_layer(layer)?;
    entries.sort_by(|a, b| {
        let link = |e: &LayerEntry| e.kind == tar::EntryType::Link;
        (link(a), &a.path).cmp(&(link(b), &b.path))
    });
    let mut out = tar::Builder::new(Vec::new());
    for entry in &entries {
        if !entry.xattrs.is_empty() {
            out.append_pax_extensions(
                entry.xattrs.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
            )?;
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(entry.kind);
        // Permission bits only: BuildKit 0.8 writes the file type's bits too (`0040755`), 0.13 does not.
        header.set_mode(entry.mode & 0o7777);
        header.set_uid(entry.uid);
        header.set_gid(entry.gid);
        header.set_mtime(entry.mtime.min(epoch));
        header.set_size(entry.data.len() as u64);
        if let (Some(major), Some(minor)) = entry.device {
            header.set_device_major(major)?;
            header.set_device_minor(minor)?;
        }
        let path = path_of(&entry.path);
        match &entry.link {
            Some(link) if matches!(entry.kind, tar::EntryType::Symlink | tar::EntryType::Link) => {
                out.append_link(&mut header, path, path_of(link))?;
            }
            _ => out.append_data(&mut header, path, entry.data.as_slice())?,
        }
    }
    out.into_inner()
}

fn read_layer(layer: &[u8]) -> std::io::Result<Vec<LayerEntry>> {
    let mut entries = Vec::new();
    let mut archive = tar::Archive::new(layer);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let mut xattrs = Vec::new();
        if let Some(records) = entry.pax_extensions()? {
            for record in records {
                let record = record?;
                let key = record.key().map_err(std::io::Error::other)?;
                if key.starts_with("SCHILY.xattr.") {
                    xattrs.push((key.to_string(), record.value_bytes().to_vec()));
                }
            }
        }
        xattrs.sort();
        let header = entry.header();
        let kind = header.entry_type();
        let (mode, uid, gid, mtime) = (
            header.mode()?,
            header.uid()?,
            header.gid()?,
            header.mtime()?,
        );
        // Device numbers mean something for device files only; other entries' fields may be blank.
        let device = if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
            (header.device_major()?, header.device_minor()?)
        } else {
            (None, None)
        };
        let path = entry.path_bytes().into_owned();
        let link = entry.link_name_bytes().map(|l| l.into_owned());
        let mut data = Vec::new();
        entry.read_to_end(&mut data)?;
        entries.push(LayerEntry {
            path,
            link,
            kind,
            mode,
            uid,
            gid,
            mtime,
            device,
            xattrs,
            data,
        });
    }
    Ok(entries)
}

/// A tar path's bytes as a path (Unix: any bytes).
fn path_of(bytes: &[u8]) -> &std::path::Path {
    use std::os::unix::ffi::OsStrExt as _;
    std::path::Path::new(std::ffi::OsStr::from_bytes(bytes))
}

/// `bytes` gzip-compressed at a fixed level, with no file name and time 0 in the header.
pub fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder =
        flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
    encoder.write_all(bytes)?;
    encoder.finish()
}
