//! SPDX 2.3 JSON: one package per crate, Debian package, base image, the executable and the image, and the
//! relationships between them.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::ids::{content_uuid, is_sha256, license_expression, rfc3339, spdx_id_part};
use super::{download_location, Inventory, Parts};
use crate::workspace::DependencyKind;

const IMAGE: &str = "SPDXRef-image";
const EXECUTABLE: &str = "SPDXRef-executable";
const BASE: &str = "SPDXRef-base-image";
const NOASSERTION: &str = "NOASSERTION";

/// The SPDX 2.3 document of `inventory`, pretty-printed JSON.
pub fn spdx(inventory: &Inventory) -> String {
    let parts = Parts::of(inventory);
    let crate_ids = crate_ids(&parts);
    let mut packages = vec![image(inventory), executable(inventory)];
    packages.extend(parts.crates.iter().zip(&crate_ids).map(|((_, purl, krate), id)| {
        let mut package = json!({
            "SPDXID": id,
            "name": krate.name,
            "versionInfo": krate.version,
            "downloadLocation": download_location(krate).unwrap_or_else(|| NOASSERTION.into()),
            "filesAnalyzed": false,
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": krate.license.as_deref().and_then(license_expression)
                .unwrap_or_else(|| NOASSERTION.into()),
            "copyrightText": NOASSERTION,
            "primaryPackagePurpose": if krate.root { "SOURCE" } else { "LIBRARY" },
        });
        if let Some(sum) = krate.checksum.as_deref().filter(|s| is_sha256(s)) {
            package["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sum }]);
        }
        if let Some(purl) = purl {
            package["externalRefs"] = purl_ref(purl);
        }
        if krate.build_only {
            package["comment"] =
                "used only to build: a build dependency, a proc macro or what they use; not linked into the executable"
                    .into();
        }
        package
    }));
    packages.extend(base(&parts));
    packages.extend(parts.debian.iter().map(|(purl, p)| {
        let mut package = json!({
            "SPDXID": format!("SPDXRef-deb-{}", spdx_id_part(p.name)),
            "name": p.name,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": false,
            "externalRefs": purl_ref(purl),
        });
        if let Some(version) = p.version {
            package["versionInfo"] = version.into();
        }
        package
    }));
    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} {}", inventory.image, inventory.platform),
        "documentNamespace": "",
        "creationInfo": {
            "created": rfc3339(inventory.created),
            "creators": [format!("Tool: cargo-dockerize-{}", inventory.tool_version)],
        },
        "packages": packages,
        "relationships": relationships(&parts, &crate_ids),
    });
    // The namespace names this document: a UUID of everything else in it.
    let uuid = content_uuid("spdx", document.to_string().as_bytes());
    document["documentNamespace"] = format!(
        "https://spdx.org/spdxdocs/cargo-dockerize/{}-{uuid}",
        spdx_id_part(inventory.image)
    )
    .into();
    serde_json::to_string_pretty(&document).expect("a JSON value serialises") + "\n"
}

/// `SPDXRef-crate-<name>-<version>` for each crate, with a suffix where two would be the same.
fn crate_ids(parts: &Parts) -> Vec<String> {
    let mut used = BTreeSet::new();
    parts
        .crates
        .iter()
        .map(|(_, _, krate)| {
            let base = format!(
                "SPDXRef-crate-{}-{}",
                spdx_id_part(&krate.name),
                spdx_id_part(&krate.version)
            );
            let mut id = base.clone();
            let mut n = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            id
        })
        .collect()
}

fn purl_ref(purl: &str) -> Value {
    json!([{ "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl }])
}

fn image(inventory: &Inventory) -> Value {
    json!({
        "SPDXID": IMAGE,
        "name": inventory.image,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "comment": format!("the image for {}", inventory.platform),
    })
}

fn executable(inventory: &Inventory) -> Value {
    let exe = &inventory.executable;
    let mut package = json!({
        "SPDXID": EXECUTABLE,
        "name": exe.name,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "primaryPackagePurpose": "APPLICATION",
        "comment": format!("{}, compiled for {}", exe.path, inventory.crates.triple),
    });
    if let Some(root) = inventory.crates.root() {
        package["versionInfo"] = root.version.clone().into();
    }
    if let Some(sum) = exe.sha256.filter(|s| is_sha256(s)) {
        package["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sum }]);
    }
    package
}

fn base(parts: &Parts) -> Option<Value> {
    let base = parts.inventory.base?;
    let mut package = json!({
        "SPDXID": BASE,
        "name": base.reference,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
    });
    if let Some(digest) = base.digest {
        package["versionInfo"] = digest.into();
    }
    if let Some(purl) = &parts.base_purl {
        package["externalRefs"] = purl_ref(purl);
    }
    Some(package)
}

/// The document describes the image; the image contains the executable and the Debian packages and descends
/// from its base; the executable is generated from its package; each crate depends on its dependencies, or is a
/// build dependency of its dependent. Sorted.
fn relationships(parts: &Parts, crate_ids: &[String]) -> Vec<Value> {
    let mut out: BTreeSet<(String, &str, String)> = BTreeSet::new();
    out.insert(("SPDXRef-DOCUMENT".into(), "DESCRIBES", IMAGE.into()));
    out.insert((IMAGE.into(), "CONTAINS", EXECUTABLE.into()));
    for (_, p) in &parts.debian {
        let id = format!("SPDXRef-deb-{}", spdx_id_part(p.name));
        out.insert((IMAGE.into(), "CONTAINS", id));
    }
    if parts.inventory.base.is_some() {
        out.insert((IMAGE.into(), "DESCENDANT_OF", BASE.into()));
    }
    if let Some(root) = parts.root() {
        out.insert((EXECUTABLE.into(), "GENERATED_FROM", crate_ids[root].clone()));
    }
    for (from, (_, _, krate)) in parts.crates.iter().enumerate() {
        for dep in &krate.dependencies {
            let to = parts.crates[dep.index].2;
            if dep.kind == DependencyKind::Build || to.proc_macro {
                out.insert((
                    crate_ids[dep.index].clone(),
                    "BUILD_DEPENDENCY_OF",
                    crate_ids[from].clone(),
                ));
            } else {
                out.insert((
                    crate_ids[from].clone(),
                    "DEPENDS_ON",
                    crate_ids[dep.index].clone(),
                ));
            }
        }
    }
    out.into_iter()
        .map(|(a, kind, b)| {
            json!({ "spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b })
        })
        .collect()
}
