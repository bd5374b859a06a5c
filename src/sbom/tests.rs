//! Tests of [`super`]: what the documents say of an inventory, and that they say it the same way every time.
use serde_json::Value;

use super::*;
use crate::workspace::{Dependency, DependencyKind};

fn krate(
    name: &str,
    source: CrateSource,
    build_only: bool,
    deps: &[(usize, DependencyKind)],
) -> Crate {
    Crate {
        name: name.into(),
        version: "1.0.0".into(),
        checksum: matches!(source, CrateSource::CratesIo).then(|| "ab".repeat(32)),
        source,
        license: Some("MIT/Apache-2.0".into()),
        proc_macro: name.ends_with("-macro"),
        build_only,
        root: name == "app",
        dependencies: deps
            .iter()
            .map(|&(index, kind)| Dependency { index, kind })
            .collect(),
    }
}

/// `app` links `itoa` and a git crate, uses `greet-macro` (a proc macro) and `autocfg` (a build dependency).
fn set() -> CrateSet {
    let git = CrateSource::Git {
        url: "https://github.com/acme/smol".into(),
        rev: "0123".into(),
    };
    CrateSet {
        package: "app".into(),
        triple: "x86_64-unknown-linux-musl".into(),
        crates: vec![
            krate(
                "app",
                CrateSource::Local,
                false,
                &[
                    (1, DependencyKind::Build),
                    (2, DependencyKind::Normal),
                    (3, DependencyKind::Normal),
                    (4, DependencyKind::Normal),
                ],
            ),
            krate("autocfg", CrateSource::CratesIo, true, &[]),
            krate("greet-macro", CrateSource::Local, true, &[]),
            krate("itoa", CrateSource::CratesIo, false, &[]),
            krate("smol", git, false, &[(3, DependencyKind::Normal)]),
        ],
    }
}

fn inventory<'a>(set: &'a CrateSet, debian: Vec<DebianPackage<'a>>) -> Inventory<'a> {
    Inventory {
        image: "app:1.0.0",
        platform: "linux/amd64",
        executable: Executable {
            name: "app",
            path: "/usr/local/bin/app",
            sha256: Some("0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"),
        },
        crates: set,
        base: Some(BaseImage {
            reference: "debian:bookworm-slim",
            digest: Some("sha256:1111111111111111111111111111111111111111111111111111111111111111"),
        }),
        debian,
        created: 1_764_547_200,
        tool_version: "0.1.0",
    }
}

fn deb(name: &str) -> DebianPackage<'_> {
    DebianPackage {
        name,
        version: None,
        arch: "amd64",
        distro: "debian-12",
    }
}

#[test]
fn documents_are_the_same_for_the_same_inventory_whatever_the_order() {
    let set = set();
    let one = inventory(&set, vec![deb("libssl3"), deb("ca-certificates")]);
    let other = inventory(&set, vec![deb("ca-certificates"), deb("libssl3")]);
    assert_eq!(spdx(&one), spdx(&other));
    assert_eq!(cyclonedx(&one), cyclonedx(&other));
    let mut later = one.clone();
    later.created += 1;
    let namespace =
        |text: &str| serde_json::from_str::<Value>(text).unwrap()["documentNamespace"].clone();
    assert_ne!(
        namespace(&spdx(&one)),
        namespace(&spdx(&later)),
        "the namespace follows the content"
    );
    let serial = |text: &str| serde_json::from_str::<Value>(text).unwrap()["serialNumber"].clone();
    assert_ne!(serial(&cyclonedx(&one)), serial(&cyclonedx(&later)));
}

#[test]
fn spdx_marks_build_dependencies_and_proc_macros_and_names_purls() {
    let set = set();
    let doc: Value = serde_json::from_str(&spdx(&inventory(&set, vec![deb("libssl3")]))).unwrap();
    let relations: Vec<String> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["spdxElementId"].as_str().unwrap(),
                r["relationshipType"].as_str().unwrap(),
                r["relatedSpdxElement"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "SPDXRef-DOCUMENT DESCRIBES SPDXRef-image",
        "SPDXRef-image CONTAINS SPDXRef-executable",
        "SPDXRef-image CONTAINS SPDXRef-deb-libssl3",
        "SPDXRef-image DESCENDANT_OF SPDXRef-base-image",
        "SPDXRef-executable GENERATED_FROM SPDXRef-crate-app-1.0.0",
        "SPDXRef-crate-autocfg-1.0.0 BUILD_DEPENDENCY_OF SPDXRef-crate-app-1.0.0",
        "SPDXRef-crate-greet-macro-1.0.0 BUILD_DEPENDENCY_OF SPDXRef-crate-app-1.0.0",
        "SPDXRef-crate-app-1.0.0 DEPENDS_ON SPDXRef-crate-itoa-1.0.0",
        "SPDXRef-crate-smol-1.0.0 DEPENDS_ON SPDXRef-crate-itoa-1.0.0",
    ] {
        assert!(
            relations.contains(&expected.to_string()),
            "{expected} in {relations:#?}"
        );
    }
    let package = |name: &str| {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(package("itoa")["licenseDeclared"], "MIT OR Apache-2.0");
    assert_eq!(
        package("itoa")["externalRefs"][0]["referenceLocator"],
        "pkg:cargo/itoa@1.0.0"
    );
    assert_eq!(
        package("itoa")["checksums"][0]["checksumValue"],
        "ab".repeat(32)
    );
    assert_eq!(
        package("smol")["externalRefs"][0]["referenceLocator"],
        "pkg:cargo/smol@1.0.0?vcs_url=git%2Bhttps://github.com/acme/smol%400123"
    );
    assert_eq!(
        package("smol")["downloadLocation"],
        "git+https://github.com/acme/smol@0123"
    );
    assert!(
        package("app").get("externalRefs").is_none(),
        "a local crate names no registry crate"
    );
    assert!(package("autocfg")["comment"]
        .as_str()
        .unwrap()
        .contains("only to build"));
    assert_eq!(doc["creationInfo"]["created"], "2025-12-01T00:00:00Z");
}

#[test]
fn cyclonedx_scopes_build_only_crates_out_and_keeps_the_graph() {
    let set = set();
    let doc: Value = serde_json::from_str(&cyclonedx(&inventory(&set, Vec::new()))).unwrap();
    let component = |name: &str| {
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(component("autocfg")["scope"], "excluded");
    assert_eq!(component("greet-macro")["scope"], "excluded");
    assert_eq!(component("itoa")["scope"], "required");
    assert_eq!(
        component("itoa")["licenses"][0]["expression"],
        "MIT OR Apache-2.0"
    );
    assert_eq!(
        component("app")["hashes"][0]["content"],
        "0f".repeat(32),
        "the executable's own hash"
    );
    let depends = |id: &str| {
        doc["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["ref"] == id)
            .unwrap()["dependsOn"]
            .clone()
    };
    assert_eq!(
        depends("executable"),
        serde_json::json!(["crate:app@1.0.0"])
    );
    assert_eq!(
        depends("image"),
        serde_json::json!(["base-image", "executable"])
    );
    assert_eq!(
        depends("crate:app@1.0.0"),
        serde_json::json!([
            "crate:greet-macro@1.0.0",
            "pkg:cargo/autocfg@1.0.0",
            "pkg:cargo/itoa@1.0.0",
            "pkg:cargo/smol@1.0.0?vcs_url=git%2Bhttps://github.com/acme/smol%400123"
        ])
    );
    assert!(doc["serialNumber"]
        .as_str()
        .unwrap()
        .starts_with("urn:uuid:"));
}

#[test]
fn hostile_values_stay_inside_their_strings() {
    let mut set = set();
    set.crates[3].license = Some("MIT\"}, {\"x\": \"".into());
    set.crates[3].checksum = Some("not-hex\n".into());
    let mut inv = inventory(&set, vec![deb("lib\"x\ny")]);
    inv.image = "app\n\"evil\":1";
    for text in [spdx(&inv), cyclonedx(&inv)] {
        let doc: Value = serde_json::from_str(&text).expect("still one JSON document");
        assert!(
            !text.contains("not-hex"),
            "a checksum that is not hex is left out"
        );
        let _ = doc;
    }
    let doc: Value = serde_json::from_str(&spdx(&inv)).unwrap();
    let itoa = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "itoa")
        .unwrap()
        .clone();
    assert_eq!(
        itoa["licenseDeclared"], "NOASSERTION",
        "not an expression, not claimed as one"
    );
    assert!(doc["documentNamespace"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| !c.is_whitespace() && c != '"'));
}

#[test]
fn scratch_images_have_no_base_and_unknown_digests_no_purl() {
    let set = set();
    let mut inv = inventory(&set, Vec::new());
    inv.base = None;
    let doc: Value = serde_json::from_str(&spdx(&inv)).unwrap();
    assert!(!doc.to_string().contains("base-image"));
    inv.base = Some(BaseImage {
        reference: "gcr.io/distroless/cc-debian12:nonroot",
        digest: None,
    });
    let doc: Value = serde_json::from_str(&cyclonedx(&inv)).unwrap();
    let base = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == "base-image")
        .unwrap()
        .clone();
    assert!(base.get("purl").is_none() && base.get("version").is_none());
}

#[test]
fn the_auditable_json_is_cargo_auditables_shape() {
    let json = auditable::version_info(&set());
    assert_eq!(
        json,
        concat!(
            r#"{"packages":[{"name":"app","version":"1.0.0","source":"local","dependencies":[1,2,3,4],"root":true},"#,
            r#"{"name":"autocfg","version":"1.0.0","source":"crates.io","kind":"build"},"#,
            r#"{"name":"greet-macro","version":"1.0.0","source":"local","kind":"build"},"#,
            r#"{"name":"itoa","version":"1.0.0","source":"crates.io"},"#,
            r#"{"name":"smol","version":"1.0.0","source":"git","dependencies":[3]}],"format":1}"#
        )
    );
}
