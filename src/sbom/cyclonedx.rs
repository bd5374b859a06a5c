//! CycloneDX 1.6 JSON: the image as the BOM's subject, a component per crate, Debian package, base image and the
//! executable, and the dependency graph.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::ids::{content_uuid, is_sha256, license_expression, rfc3339};
use super::{Inventory, Parts};

const IMAGE: &str = "image";
const EXECUTABLE: &str = "executable";
const BASE: &str = "base-image";

/// The CycloneDX 1.6 document of `inventory`, pretty-printed JSON.
pub fn cyclonedx(inventory: &Inventory) -> String {
    let parts = Parts::of(inventory);
    let mut components = vec![executable(inventory)];
    components.extend(parts.crates.iter().map(|(id, purl, krate)| {
        let mut component = json!({
            "type": if krate.root { "application" } else { "library" },
            "bom-ref": id,
            "name": krate.name,
            "version": krate.version,
            "scope": if krate.build_only { "excluded" } else { "required" },
        });
        if let Some(sum) = krate.checksum.as_deref().filter(|s| is_sha256(s)) {
            component["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
        }
        if let Some(license) = &krate.license {
            component["licenses"] = match license_expression(license) {
                Some(expression) => json!([{ "expression": expression }]),
                None => json!([{ "license": { "name": license } }]),
            };
        }
        if let Some(purl) = purl {
            component["purl"] = purl.clone().into();
        }
        if krate.build_only {
            component["properties"] =
                json!([{ "name": "cargo-dockerize:build-only", "value": "true" }]);
        }
        component
    }));
    if let Some(base) = inventory.base {
        let mut component = json!({ "type": "container", "bom-ref": BASE, "name": base.reference });
        if let Some(digest) = base.digest {
            component["version"] = digest.into();
        }
        if let Some(purl) = &parts.base_purl {
            component["purl"] = purl.clone().into();
        }
        components.push(component);
    }
    components.extend(parts.debian.iter().map(|(purl, p)| {
        let mut component =
            json!({ "type": "library", "bom-ref": purl, "name": p.name, "purl": purl });
        if let Some(version) = p.version {
            component["version"] = version.into();
        }
        component
    }));
    let mut document = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "",
        "version": 1,
        "metadata": {
            "timestamp": rfc3339(inventory.created),
            "tools": { "components": [{
                "type": "application",
                "name": "cargo-dockerize",
                "version": inventory.tool_version,
            }] },
            "component": {
                "type": "container",
                "bom-ref": IMAGE,
                "name": inventory.image,
                "properties": [{ "name": "cargo-dockerize:platform", "value": inventory.platform }],
            },
        },
        "components": components,
        "dependencies": dependencies(&parts),
    });
    let uuid = content_uuid("cyclonedx", document.to_string().as_bytes());
    document["serialNumber"] = format!("urn:uuid:{uuid}").into();
    serde_json::to_string_pretty(&document).expect("a JSON value serialises") + "\n"
}

fn executable(inventory: &Inventory) -> Value {
    let exe = &inventory.executable;
    let mut component = json!({
        "type": "application",
        "bom-ref": EXECUTABLE,
        "name": exe.name,
        "properties": [
            { "name": "cargo-dockerize:target", "value": inventory.crates.triple },
            { "name": "cargo-dockerize:path", "value": exe.path },
        ],
    });
    if let Some(root) = inventory.crates.root() {
        component["version"] = root.version.clone().into();
    }
    if let Some(sum) = exe.sha256.filter(|s| is_sha256(s)) {
        component["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
    }
    component
}

/// Every component with what it depends on: the image on the executable, its Debian packages and its base; the
/// executable on its package's crate; each crate on its dependencies (build-only ones are `excluded` in scope,
/// CycloneDX's edges have no kind). Sorted, each listed once.
fn dependencies(parts: &Parts) -> Vec<Value> {
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut image = vec![EXECUTABLE.to_string()];
    image.extend(parts.debian.iter().map(|(purl, _)| purl.clone()));
    if parts.inventory.base.is_some() {
        image.push(BASE.into());
        graph.insert(BASE.into(), Vec::new());
    }
    for (purl, _) in &parts.debian {
        graph.insert(purl.clone(), Vec::new());
    }
    graph.insert(IMAGE.into(), image);
    graph.insert(
        EXECUTABLE.into(),
        parts
            .root()
            .map(|root| vec![parts.crates[root].0.clone()])
            .unwrap_or_default(),
    );
    for (id, _, krate) in &parts.crates {
        let on = krate
            .dependencies
            .iter()
            .map(|d| parts.crates[d.index].0.clone());
        graph.entry(id.clone()).or_default().extend(on);
    }
    graph
        .into_iter()
        .map(|(id, mut on)| {
            on.sort();
            on.dedup();
            json!({ "ref": id, "dependsOn": on })
        })
        .collect()
}
