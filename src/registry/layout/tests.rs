use super::normalise::{normalise, normalise_layer, Image};
use super::*;
use crate::text::rfc3339;

const EPOCH: u64 = 1_700_000_000;

/// One entry of a hand-made layer: path, type, mode as the engine writes it, mtime, user name, content.
struct Entry {
    path: &'static str,
    kind: tar::EntryType,
    mode: u32,
    mtime: u64,
    uname: &'static str,
    data: &'static [u8],
}

fn entry(path: &'static str, kind: tar::EntryType, mode: u32, mtime: u64) -> Entry {
    Entry {
        path,
        kind,
        mode,
        mtime,
        uname: "",
        data: b"",
    }
}

/// The layer of the `scratch` image: parent directories and the binary, as BuildKit 0.13 writes them.
fn binary_layer(mtime: u64) -> Vec<Entry> {
    use tar::EntryType::{Directory, Regular};
    vec![
        entry("usr/", Directory, 0o755, mtime),
        entry("usr/local/", Directory, 0o755, mtime),
        entry("usr/local/bin/", Directory, 0o755, mtime),
        Entry {
            data: b"\x7fELF a binary",
            ..entry("usr/local/bin/api", Regular, 0o755, mtime)
        },
    ]
}

/// A header with every numeric field set (a new header's are empty, which tar readers refuse).
fn header_of(kind: tar::EntryType) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(0);
    header
}

fn tar_of(entries: &[Entry], pax: bool) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for e in entries {
        if pax {
            tar.append_pax_extensions([("atime", &b"1764790000.5"[..]), ("ctime", b"1764790001")])
                .unwrap();
        }
        let mut header = header_of(e.kind);
        header.set_mode(e.mode);
        header.set_mtime(e.mtime);
        header.set_size(e.data.len() as u64);
        header.set_username(e.uname).unwrap();
        header.set_groupname(e.uname).unwrap();
        tar.append_data(&mut header, e.path, e.data).unwrap();
    }
    tar.into_inner().unwrap()
}

/// The engine's config for the image, `created` at `time`, with what each engine adds.
fn engine_config(time: &str, floor: bool) -> Vec<u8> {
    let extra = if floor { r#","OnBuild":null"# } else { "" };
    format!(
        r#"{{"architecture":"amd64","os":"linux","created":"{time}","container_config":{{"Hostname":"x"}},
        "config":{{"User":"65532:65532","Env":["PATH=/usr/bin"],"Entrypoint":["/usr/local/bin/api"],"Cmd":null,
        "WorkingDir":"/","Labels":{{"b":"2","a":"1"}}{extra}}},
        "history":[{{"created":"{time}","created_by":"COPY /out/api /usr/local/bin/api # buildkit","comment":"buildkit.dockerfile.v0"}},
        {{"created":"{time}","created_by":"USER 65532:65532","empty_layer":true}}],
        "rootfs":{{"type":"layers","diff_ids":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]}}}}"#
    )
    .into_bytes()
}

/// A docker-archive of one image: Engine 20.10's shape (`<id>/layer.tar`) or 25's (`blobs/sha256/...`).
fn docker_archive(layers: &[Vec<u8>], config: &[u8], floor: bool) -> Vec<u8> {
    let (config_path, layer_path): (String, fn(usize) -> String) = if floor {
        ("abc.json".into(), |i| format!("{i}{i}/layer.tar"))
    } else {
        ("blobs/sha256/c0".into(), |i| format!("blobs/sha256/l{i}"))
    };
    let layer_paths: Vec<String> = (0..layers.len()).map(layer_path).collect();
    let manifest = serde_json::json!([{
        "Config": config_path, "RepoTags": ["api:1"], "Layers": layer_paths,
    }])
    .to_string();
    let mut files: Vec<(String, &[u8])> = vec![
        ("manifest.json".into(), manifest.as_bytes()),
        (config_path.clone(), config),
    ];
    files.extend(
        layer_paths
            .iter()
            .cloned()
            .zip(layers.iter().map(Vec::as_slice)),
    );
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = header_of(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, path, bytes).unwrap();
    }
    tar.into_inner().unwrap()
}

/// The image as BuildKit 0.13 saves it, built at `time` (after the epoch).
fn current_image() -> Image {
    let layer = tar_of(&binary_layer(EPOCH + 5000), false);
    let archive = docker_archive(
        &[layer],
        &engine_config("2026-12-03T18:09:59.85Z", false),
        false,
    );
    normalise(&archive, EPOCH).expect("the archive normalises")
}

/// The same content as BuildKit 0.8 saves it, built later: entries in another order, the file type in the mode,
/// user names, PAX times, its own config fields.
fn floor_image() -> Image {
    let mut entries = binary_layer(EPOCH + 9999);
    entries.reverse();
    entries.rotate_left(1);
    for e in &mut entries {
        e.uname = "root";
        e.mode |= if e.kind == tar::EntryType::Directory {
            0o040_000
        } else {
            0o100_000
        };
    }
    let layer = tar_of(&entries, true);
    let archive = docker_archive(
        &[layer],
        &engine_config("2026-12-03T18:09:43.71Z", true),
        true,
    );
    normalise(&archive, EPOCH).expect("the archive normalises")
}

#[test]
fn a_hand_made_archive_gives_a_known_digest() {
    let image = current_image();
    assert_eq!(
        image.manifest.digest,
        "sha256:3df66a34028a762f09a375e341159f98796b1578ec6bc0cdba30db1cb381b317",
        "a change of this digest changes every user's image digest: say so in the changelog"
    );
    assert_eq!(image.blobs.len(), 3, "config, one layer, manifest");
}

#[test]
fn reordered_entries_later_times_names_and_engine_fields_give_the_same_digest() {
    let (floor, current) = (floor_image(), current_image());
    assert_eq!(floor.manifest.digest, current.manifest.digest);
    assert_eq!(floor.blobs, current.blobs);
}

#[test]
fn a_different_binary_or_epoch_gives_another_digest() {
    let mut entries = binary_layer(EPOCH + 1);
    entries[3].data = b"\x7fELF another binary";
    let archive = docker_archive(
        &[tar_of(&entries, false)],
        &engine_config("2026-12-03T00:00:00Z", false),
        false,
    );
    let other = normalise(&archive, EPOCH).unwrap();
    assert_ne!(other.manifest.digest, current_image().manifest.digest);
    let layer = tar_of(&binary_layer(EPOCH + 5000), false);
    let archive = docker_archive(&[layer], &engine_config("x", false), false);
    let later = normalise(&archive, EPOCH + 1).unwrap();
    assert_ne!(later.manifest.digest, current_image().manifest.digest);
}

#[test]
fn times_are_clamped_and_older_ones_kept() {
    use tar::EntryType::Regular;
    let layer = tar_of(
        &[
            entry("old", Regular, 0o644, 1000),
            entry("new", Regular, 0o644, EPOCH + 1),
        ],
        true,
    );
    let normal = normalise_layer(&layer, EPOCH).unwrap();
    let mut archive = tar::Archive::new(normal.as_slice());
    let seen: Vec<(String, u64, String)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            assert!(e.pax_extensions().unwrap().is_none(), "no PAX times");
            let h = e.header();
            let name = h.username().unwrap().unwrap_or_default().to_string();
            (
                e.path().unwrap().display().to_string(),
                h.mtime().unwrap(),
                name,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("new".to_string(), EPOCH, String::new()),
            ("old".to_string(), 1000, String::new())
        ]
    );
}

#[test]
fn hard_links_come_after_their_targets() {
    use tar::EntryType::Regular;
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = header_of(tar::EntryType::Link);
    tar.append_link(&mut header, "a-link", "z-file").unwrap();
    let mut header = header_of(Regular);
    header.set_size(1);
    tar.append_data(&mut header, "z-file", &b"x"[..]).unwrap();
    let normal = normalise_layer(&tar.into_inner().unwrap(), EPOCH).unwrap();
    let paths: Vec<String> = tar::Archive::new(normal.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(paths, ["z-file", "a-link"]);
}

#[test]
fn the_config_keeps_how_the_image_runs_and_takes_the_epoch() {
    let image = current_image();
    let manifest: serde_json::Value =
        serde_json::from_slice(&image.blobs[&image.manifest.digest]).unwrap();
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config: serde_json::Value = serde_json::from_slice(&image.blobs[config_digest]).unwrap();
    assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/api");
    assert_eq!(config["config"]["Labels"]["a"], "1");
    assert!(config["config"].get("Cmd").is_none());
    assert!(config.get("container_config").is_none());
    let history = config["history"].as_array().unwrap();
    assert!(history
        .iter()
        .all(|h| h["created"] == "2023-11-14T22:13:20Z"));
    assert_eq!(history[1]["empty_layer"], true);
    let layer_digest = manifest["layers"][0]["digest"].as_str().unwrap();
    let layer = &image.blobs[layer_digest];
    assert_eq!(&layer[..4], &[0x1f, 0x8b, 8, 0], "gzip, no name");
    assert_eq!(&layer[4..8], &[0, 0, 0, 0], "time 0 in the gzip header");
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&layer[..]), &mut tar).unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        crate::registry::index::digest_of(&tar)
    );
    assert_eq!(image.platform.architecture.to_string(), "amd64");
}

#[test]
fn an_archive_without_its_files_is_refused_by_name() {
    let archive = docker_archive(&[], b"{}", true);
    let err = normalise(&archive, EPOCH).unwrap_err().to_string();
    assert!(err.contains("abc.json"), "{err}");
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = header_of(tar::EntryType::Regular);
    header.set_size(2);
    tar.append_data(&mut header, "x", &b"{}"[..]).unwrap();
    let err = normalise(&tar.into_inner().unwrap(), EPOCH)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "the engine's archive has no `manifest.json`");
}

#[test]
fn epoch_seconds_read_as_rfc3339() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(EPOCH), "2023-11-14T22:13:20Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
}

#[test]
fn one_layout_names_each_image_and_indexes_several_platforms() {
    let amd64 = current_image();
    let mut arm64 = current_image();
    arm64.platform.architecture = "arm64".into();
    arm64.manifest.digest = format!("sha256:{}", "a".repeat(64));
    let images = vec![
        ("api".to_string(), vec![amd64.clone()]),
        ("worker".to_string(), vec![arm64, amd64.clone()]),
    ];
    let layout = layout(&images).unwrap();
    assert_eq!(layout.images[0].digest, amd64.manifest.digest);
    let index: serde_json::Value = serde_json::from_slice(&layout.files["index.json"]).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0]["annotations"]["org.opencontainers.image.ref.name"],
        "api"
    );
    assert_eq!(
        entries[1]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let hex = layout.images[1].digest.trim_start_matches("sha256:");
    let nested: serde_json::Value =
        serde_json::from_slice(&layout.files[&format!("blobs/sha256/{hex}")]).unwrap();
    let arches: Vec<&str> = nested["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"], "sorted by platform");
    assert_eq!(
        layout.files["oci-layout"],
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    assert_eq!(archive(&layout).unwrap(), archive(&layout).unwrap());
}

#[test]
fn only_a_new_path_an_empty_directory_or_a_layout_takes_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap();
    let output = |path: Utf8PathBuf, format| Output { format, path };
    assert!(check(&output(root.join("new"), OutputFormat::Oci)).is_ok());
    std::fs::create_dir(root.join("empty")).unwrap();
    assert!(check(&output(root.join("empty"), OutputFormat::Oci)).is_ok());
    std::fs::create_dir(root.join("src")).unwrap();
    std::fs::write(root.join("src/main.rs"), "").unwrap();
    let err = check(&output(root.join("src"), OutputFormat::Oci)).unwrap_err();
    assert!(matches!(err, LayoutError::NotALayout { .. }), "{err}");
    assert!(check(&output(root.join("src"), OutputFormat::OciArchive)).is_err());
    assert!(check(&output(root.join("no/such/dir"), OutputFormat::Oci)).is_err());

    // Written, then written again over itself: the second replaces the first, nothing left beside.
    let image = current_image();
    let layout = layout(&[("api".to_string(), vec![image])]).unwrap();
    let target = output(root.join("layout"), OutputFormat::Oci);
    write(&layout, &target).unwrap();
    write(&layout, &target).unwrap();
    assert!(check(&target).is_ok());
    let left: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary paths left: {left:?}");
    assert_eq!(
        std::fs::read(root.join("layout/index.json")).unwrap(),
        layout.files["index.json"]
    );
    let tar = output(root.join("layout.tar"), OutputFormat::OciArchive);
    write(&layout, &tar).unwrap();
    assert_eq!(
        std::fs::read(root.join("layout.tar")).unwrap(),
        archive(&layout).unwrap()
    );
}
