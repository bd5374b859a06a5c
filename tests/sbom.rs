//! SBOMs of the `sbom` fixture: the crate set of each binary is Cargo's own answer (`cargo tree`) for its target
//! and features, both documents validate against their official JSON schemas, and the dependency section the
//! builder's script writes is cargo-auditable's, byte for byte what the host computes, and readable from a
//! binary by `rust-audit-info`.
//!
//! Tools beyond Rust: `check-jsonschema` (PyPI) and `rust-audit-info` (crates.io), which `.ci/run` installs;
//! perl, gzip and binutils' `objcopy`, as in the builder image. A missing one fails the test with the command
//! that installs it.
//!
//! The schemas are vendored under `tests/schemas/` (see the README there): the official files, at a known
//! revision, so the tests need nothing but `check-jsonschema` and never the network.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use camino::Utf8PathBuf;
use cargo_dockerize::sbom::{self, auditable, BaseImage, DebianPackage, Executable, Inventory};
use cargo_dockerize::workspace::{resolve_crates, CrateQuery, CrateSet, DependencyKind};
use common::{fixtures_dir, library, run};

const TRIPLES: &[&str] = &[
    "x86_64-unknown-linux-musl",
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
];

fn root() -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(fixtures_dir().join("sbom")).expect("a UTF-8 path")
}

fn query(triple: &str, packages: &[&str], features: &[&str]) -> CrateQuery {
    CrateQuery {
        triple: triple.into(),
        packages: packages.iter().map(|p| p.to_string()).collect(),
        features: features.iter().map(|f| f.to_string()).collect(),
        all_features: false,
        no_default_features: false,
    }
}

fn resolve(triple: &str, packages: &[&str], features: &[&str]) -> Vec<CrateSet> {
    resolve_crates(&root(), &query(triple, packages, features))
        .expect("cargo tree answers")
        .into_values()
        .collect()
}

/// `(name, version)` of every package `cargo tree -e <edges> --target <triple> -p <package> <features>` prints,
/// and of those outside any proc macro's subtree: Cargo's own answer, read as flatly as it can be printed.
fn cargo_tree(
    edges: &str,
    triple: &str,
    package: &str,
    features: &[&str],
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .args(["tree", "--edges", edges, "--target", triple, "-p", package])
        .args([
            "--prefix",
            "depth",
            "--no-dedupe",
            "--format",
            "{p}",
            "--color",
            "never",
        ])
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"));
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let out = run(&mut command);
    out.assert_success("cargo tree");
    let (mut all, mut linked) = (BTreeSet::new(), BTreeSet::new());
    let mut inside_macro: Option<usize> = None;
    for line in out.stdout.lines() {
        let depth_len = line.chars().take_while(char::is_ascii_digit).count();
        let Ok(depth) = line[..depth_len].parse::<usize>() else {
            continue;
        };
        let mut words = line[depth_len..].split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let key = format!("{name} {}", version.trim_start_matches('v'));
        if inside_macro.is_some_and(|d| depth <= d) {
            inside_macro = None;
        }
        all.insert(key.clone());
        if line.contains("(proc-macro)") && inside_macro.is_none() {
            inside_macro = Some(depth);
        }
        if inside_macro.is_none() {
            linked.insert(key);
        }
    }
    (all, linked)
}

fn keys<'a>(set: &'a CrateSet, keep: impl Fn(usize) -> bool + 'a) -> BTreeSet<String> {
    set.crates
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, c)| format!("{} {}", c.name, c.version))
        .collect()
}

/// The crates reached from the root without going through a `[build-dependencies]` edge (a proc macro is a
/// normal dependency to Cargo): what `cargo tree -e normal` prints.
fn normal_closure(set: &CrateSet) -> BTreeSet<usize> {
    let root = set.crates.iter().position(|c| c.root).expect("a root");
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(at) = stack.pop() {
        if seen.insert(at) {
            for dep in &set.crates[at].dependencies {
                let target = &set.crates[dep.index];
                if dep.kind == DependencyKind::Normal || target.proc_macro {
                    stack.push(dep.index);
                }
            }
        }
    }
    seen
}

#[test]
fn each_binary_gets_cargo_trees_crates_for_its_target_and_features() {
    for triple in TRIPLES {
        for features in [&[][..], &["alpha/fast"][..]] {
            let together = resolve(triple, &["alpha", "beta"], features);
            for set in &together {
                let package = set.package.as_str();
                // Alone, a package takes only its own features (Cargo refuses another member's).
                let own: Vec<&str> = features
                    .iter()
                    .copied()
                    .filter(|f| f.starts_with(&format!("{package}/")))
                    .collect();
                let features = &own[..];
                let alone = resolve(triple, &[package], features);
                assert_eq!(
                    &alone[0], set,
                    "{package} {triple}: one run for both packages, or one each"
                );
                let (all, _) = cargo_tree("normal,build", triple, package, features);
                assert_eq!(
                    keys(set, |_| true),
                    all,
                    "{package} {triple} {features:?}: -e normal,build"
                );
                let (normal, linked) = cargo_tree("normal", triple, package, features);
                let closure = normal_closure(set);
                assert_eq!(
                    keys(set, |i| closure.contains(&i)),
                    normal,
                    "{package} {triple}: -e normal"
                );
                assert_eq!(
                    keys(set, |i| !set.crates[i].build_only),
                    linked,
                    "{package} {triple}: linked = -e normal without proc macros' subtrees"
                );
            }
        }
    }
}

#[test]
fn targets_features_build_dependencies_and_proc_macros_are_told_apart() {
    let names = |set: &CrateSet, build_only: bool| -> Vec<String> {
        set.crates
            .iter()
            .filter(|c| c.build_only == build_only)
            .map(|c| c.name.clone())
            .collect()
    };
    let musl = resolve(
        "x86_64-unknown-linux-musl",
        &["alpha", "beta"],
        &["alpha/fast"],
    );
    let gnu = resolve("x86_64-unknown-linux-gnu", &["alpha", "beta"], &[]);
    assert_eq!(names(&musl[0], false), ["alpha", "fnv", "itoa", "ryu"]);
    assert_eq!(
        names(&gnu[0], false),
        ["alpha", "itoa"],
        "no musl-only ryu, no fast fnv"
    );
    assert_eq!(
        names(&musl[0], true),
        ["autocfg", "greet-macro", "unicode-ident"]
    );
    assert_eq!(names(&musl[1], false), ["beta", "hex", "itoa"]);
    assert!(names(&musl[1], true).is_empty());
    let itoa = musl[0].crates.iter().find(|c| c.name == "itoa").unwrap();
    assert_eq!(itoa.license.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(
        itoa.checksum.as_ref().map(String::len),
        Some(64),
        "from Cargo.lock"
    );
    let (alpha, beta) = (inventory(&musl[0], "alpha"), inventory(&musl[1], "beta"));
    assert_ne!(
        sbom::spdx(&alpha),
        sbom::spdx(&beta),
        "two binaries, two SBOMs"
    );
    assert_ne!(sbom::cyclonedx(&alpha), sbom::cyclonedx(&beta));
}

fn inventory<'a>(set: &'a CrateSet, binary: &'a str) -> Inventory<'a> {
    Inventory {
        image: binary,
        platform: "linux/amd64",
        executable: Executable {
            name: binary,
            path: "/usr/local/bin/x",
            sha256: Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        },
        crates: set,
        base: Some(BaseImage {
            reference: "gcr.io/distroless/cc-debian12:nonroot",
            digest: Some("sha256:6f05aba4de16e89f8d879bf2a1364de3e41aba04f1dcbba8c75494f6134b4b13"),
        }),
        debian: vec![DebianPackage {
            name: "libssl3",
            version: Some("3.0.15-1~deb12u1"),
            arch: "amd64",
            distro: "debian-12",
        }],
        created: 1_764_547_200,
        tool_version: env!("CARGO_PKG_VERSION"),
    }
}

/// The command that checks `document` against a vendored schema: refs resolve beside the schema, not online.
fn check_jsonschema(schema: &Path, document: &Path) -> common::Run {
    let present = Command::new("check-jsonschema").arg("--version").output();
    assert!(
        present.is_ok_and(|o| o.status.success()),
        "check-jsonschema is required: pip install check-jsonschema"
    );
    let base = format!("file://{}", schema.display());
    run(Command::new("check-jsonschema")
        .args(["--schemafile"])
        .arg(schema)
        .args(["--base-uri", &base])
        .arg(document))
}

fn schema(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(relative)
}

#[test]
fn both_documents_validate_against_their_official_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let spdx_schema = schema("spdx-2.3/spdx-schema.json");
    let cdx_schema = schema("cyclonedx-1.6/bom-1.6.schema.json");
    for triple in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        for set in resolve(triple, &["alpha", "beta"], &["alpha/fast"]) {
            let mut inventory = inventory(&set, &set.package);
            for (name, text, schema) in [
                ("spdx.json", sbom::spdx(&inventory), &spdx_schema),
                ("cdx.json", sbom::cyclonedx(&inventory), &cdx_schema),
            ] {
                let path = dir.path().join(format!("{}-{triple}-{name}", set.package));
                std::fs::write(&path, &text).unwrap();
                check_jsonschema(schema, &path)
                    .assert_success(&format!("check-jsonschema {}", path.display()));
            }
            // Scratch: no base, no packages, no digest yet.
            inventory.base = None;
            inventory.debian.clear();
            inventory.executable.sha256 = None;
            let path = dir.path().join("scratch.cdx.json");
            std::fs::write(&path, sbom::cyclonedx(&inventory)).unwrap();
            check_jsonschema(&cdx_schema, &path).assert_success("check-jsonschema scratch");
        }
    }
}

/// The schemas are not satisfied by anything: a document missing what they require fails (so the test above
/// can fail).
#[test]
fn the_schemas_reject_broken_documents() {
    let dir = tempfile::tempdir().unwrap();
    let set = &resolve("x86_64-unknown-linux-musl", &["beta"], &[])[0];
    let inventory = inventory(set, "beta");
    let spdx = sbom::spdx(&inventory).replace("\"spdxVersion\"", "\"spdxVersio\"");
    let cdx =
        sbom::cyclonedx(&inventory).replace("\"scope\": \"required\"", "\"scope\": \"needed\"");
    for (name, text, schema) in [
        ("spdx.json", spdx, schema("spdx-2.3/spdx-schema.json")),
        ("cdx.json", cdx, schema("cyclonedx-1.6/bom-1.6.schema.json")),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = check_jsonschema(&schema, &path);
        assert_ne!(out.code, Some(0), "{}", out.describe(name));
    }
}

/// The builder's script, run on the host on the same `cargo tree` the builder runs: for every package and
/// target, the same JSON as the host's, and a zlib stream of it.
#[test]
fn the_builder_script_writes_what_the_host_computes() {
    for triple in TRIPLES {
        let dir = tempfile::tempdir().unwrap();
        let out = builder_script(triple, &["alpha", "beta"], &["alpha/fast"], dir.path());
        for set in resolve(triple, &["alpha", "beta"], &["alpha/fast"]) {
            let written =
                std::fs::read_to_string(dir.path().join(format!("{}.json", set.package))).unwrap();
            assert_eq!(
                written,
                auditable::version_info(&set),
                "{} {triple}\n{out}",
                set.package
            );
            let section =
                std::fs::read(dir.path().join(format!("{}.dep-v0", set.package))).unwrap();
            assert_eq!(&section[..2], b"\x78\xda", "a zlib header");
        }
    }
}

/// Runs `cargo tree ... | perl auditable.pl <dir>` as `build.sh compile --dep-v0` does; gives perl's stderr.
fn builder_script(triple: &str, packages: &[&str], features: &[&str], dir: &Path) -> String {
    let mut tree = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    tree.args([
        "tree",
        "-e",
        "normal,build",
        "--target",
        triple,
        "--charset",
        "ascii",
        "--color",
        "never",
    ])
    .args(["-f", "{p}|{f}", "--manifest-path"])
    .arg(root().join("Cargo.toml"));
    for p in packages {
        tree.args(["-p", p]);
    }
    if !features.is_empty() {
        tree.args(["--features", &features.join(",")]);
    }
    let tree = run(&mut tree);
    tree.assert_success("cargo tree");
    let script =
        Utf8PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/render/dockerize/auditable.pl");
    let mut perl = Command::new("perl")
        .arg(script)
        .arg(dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("perl runs");
    use std::io::Write as _;
    perl.stdin
        .take()
        .unwrap()
        .write_all(tree.stdout.as_bytes())
        .unwrap();
    let out = perl.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "perl: {stderr}");
    stderr
}

/// The whole chain on the host: the fixture's binaries built, the section added with `objcopy` as the builder
/// adds it, stripped as the builder strips, and read back with `rust-audit-info`.
#[test]
fn rust_audit_info_reads_the_section_back_from_a_stripped_binary() {
    let present = Command::new("rust-audit-info").arg("--help").output();
    assert!(
        present.is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty()),
        "rust-audit-info is required: cargo install rust-audit-info --locked"
    );
    let host = host_triple();
    let dir = tempfile::tempdir().unwrap();
    let target_dir = dir.path().join("target");
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .args([
            "build",
            "--locked",
            "--target",
            &host,
            "-p",
            "alpha",
            "-p",
            "beta",
            "--features",
            "alpha/fast",
        ])
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir);
    run(&mut build).assert_success("cargo build of the fixture");
    let sections = dir.path().join("dep-v0");
    std::fs::create_dir(&sections).unwrap();
    builder_script(&host, &["alpha", "beta"], &["alpha/fast"], &sections);
    for set in resolve(&host, &["alpha", "beta"], &["alpha/fast"]) {
        let built = target_dir.join(&host).join("debug").join(&set.package);
        let debug = dir.path().join(format!("{}.debug", set.package));
        std::fs::copy(&built, &debug).unwrap();
        // As `build.sh compile --dep-v0 objcopy` adds it.
        run(Command::new("objcopy")
            .arg("--add-section")
            .arg(format!(
                ".dep-v0={}",
                sections.join(format!("{}.dep-v0", set.package)).display()
            ))
            .args(["--set-section-flags", ".dep-v0=readonly"])
            .arg(&debug))
        .assert_success("objcopy");
        let stripped = dir.path().join(&set.package);
        run(Command::new("strip")
            .arg("--strip-all")
            .arg("-o")
            .arg(&stripped)
            .arg(&debug))
        .assert_success("strip");
        let read = run(Command::new("rust-audit-info").arg(&stripped));
        read.assert_success("rust-audit-info");
        assert_eq!(
            read.stdout.trim_end(),
            auditable::version_info(&set),
            "{}",
            set.package
        );
        run(&mut Command::new(&stripped)).assert_success("the binary still runs");
    }
}

/// The plan's list of builds says which sets to resolve: each build (image × platform × variant) with the
/// query of the builder's `cargo build` that compiles its binary, whose sets are the ones above.
#[test]
fn each_build_of_the_plan_gives_the_query_of_its_cargo_build() {
    let settings = library::settings(&[
        "--features",
        "alpha/fast",
        "--platform",
        "linux/amd64,linux/arm64",
    ]);
    let plan = library::plan_fixture(&root().join("Cargo.toml").into_std_path_buf(), &settings);
    let builds = sbom::crate_queries(&plan);
    let names: Vec<(&str, &str, &str)> = builds
        .iter()
        .map(|b| {
            (
                b.build.as_str(),
                b.package.as_str(),
                b.query.triple.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("alpha@amd64", "alpha", "x86_64-unknown-linux-musl"),
            ("alpha@arm64", "alpha", "aarch64-unknown-linux-musl"),
            ("alpha-debug@amd64", "alpha", "x86_64-unknown-linux-musl"),
            ("alpha-debug@arm64", "alpha", "aarch64-unknown-linux-musl"),
            ("beta@amd64", "beta", "x86_64-unknown-linux-musl"),
            ("beta@arm64", "beta", "aarch64-unknown-linux-musl"),
            ("beta-debug@amd64", "beta", "x86_64-unknown-linux-musl"),
            ("beta-debug@arm64", "beta", "aarch64-unknown-linux-musl"),
        ]
    );
    let queries = sbom::distinct_queries(&builds);
    assert_eq!(queries.len(), 2, "one cargo build per target: {queries:?}");
    for query in queries {
        assert_eq!(query.packages, ["alpha", "beta"]);
        assert_eq!(query.features, ["alpha/fast"]);
        let sets = resolve_crates(&root(), query).unwrap();
        let direct = resolve(&query.triple, &["alpha", "beta"], &["alpha/fast"]);
        assert_eq!(sets.into_values().collect::<Vec<_>>(), direct);
    }
}

fn host_triple() -> String {
    let out = run(Command::new("rustc").arg("-vV"));
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

/// Runs the provenance check (`tests/schemas/slsa-provenance-1/check.py`: the in-toto attestation framework's
/// own protobuf definitions of Statement v1 and SLSA provenance v1, from PyPI's `in-toto-attestation`) on files.
fn check_provenance(documents: &[PathBuf]) -> common::Run {
    let present = Command::new("python3")
        .args(["-c", "import in_toto_attestation"])
        .output();
    assert!(
        present.is_ok_and(|o| o.status.success()),
        "the provenance check needs in-toto-attestation: pip install in-toto-attestation"
    );
    run(Command::new("python3")
        .arg(schema("slsa-provenance-1/check.py"))
        .args(documents))
}

/// The provenance of every build of a two-platform plan, with a build secret and a build argument: valid
/// in-toto/SLSA documents that name the secret and never hold its value, and a broken one is refused.
#[test]
fn provenance_validates_and_names_secrets_without_values() {
    use cargo_dockerize::sbom::provenance::{self, Git, RunFacts};
    let settings = library::settings(&[
        "--platform",
        "linux/amd64,linux/arm64",
        "--build-arg",
        "GREETING=hello \"world\"\n${{ x }}",
    ]);
    let mut plan = library::plan_fixture(&root().join("Cargo.toml").into_std_path_buf(), &settings);
    plan.build_secrets
        .push(cargo_dockerize::model::BuildSecret {
            name: "npm_token".into(),
            from: cargo_dockerize::model::SecretFrom::Env("SECRET_VALUE_NEVER_READ".into()),
        });
    let dir = tempfile::tempdir().unwrap();
    let sha = |c: char| c.to_string().repeat(64);
    let (dockerfile, lock, subject) = (sha('d'), sha('c'), sha('a'));
    let mut documents = Vec::new();
    for build in plan.builds.to_run() {
        let parameters = provenance::parameters(&plan, build);
        let facts = RunFacts {
            subject: ("127.0.0.1:5000/alpha", &subject),
            dockerfile_sha256: &dockerfile,
            lockfile_sha256: Some(&lock),
            git: Some(Git {
                commit: "0123456789abcdef0123456789abcdef01234567",
                dirty: false,
            }),
            tool_version: env!("CARGO_PKG_VERSION"),
            engine: "Docker Engine 26.1.5",
            started: 1_764_547_200,
            finished: 1_764_547_290,
        };
        let text = provenance::provenance(&parameters, &facts);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let external = &value["predicate"]["buildDefinition"]["externalParameters"];
        assert_eq!(external["secrets"], serde_json::json!(["npm_token"]));
        assert_eq!(external["target"], build.stage.as_str());
        assert_eq!(
            external["buildArgs"]["GREETING"],
            "hello \"world\"\n${{ x }}"
        );
        assert!(!text.contains("SECRET_VALUE_NEVER_READ"), "{text}");
        let path = dir.path().join(format!("{}.intoto.json", build.name));
        std::fs::write(&path, text).unwrap();
        documents.push(path);
    }
    assert_eq!(documents.len(), 4, "two images on two platforms");
    check_provenance(&documents).assert_success("the provenance check");

    // The check can fail: an unknown field, a wrong type, a missing builder each fail it.
    let good = std::fs::read_to_string(&documents[0]).unwrap();
    for (name, broken) in [
        ("unknown", good.replace("\"runDetails\"", "\"runDetail\"")),
        (
            "type",
            good.replace("\"startedOn\": \"", "\"startedOn\": \"on "),
        ),
        (
            "builder",
            good.replace(
                &format!(
                    "\"pkg:cargo/cargo-dockerize@{}\"",
                    env!("CARGO_PKG_VERSION")
                ),
                "\"\"",
            ),
        ),
        (
            "statement",
            good.replace("in-toto.io/Statement/v1", "in-toto.io/Statement/v0.1"),
        ),
    ] {
        let path = dir.path().join(format!("broken-{name}.json"));
        std::fs::write(&path, &broken).unwrap();
        assert_ne!(broken, good, "{name}: the edit applies");
        let out = check_provenance(&[path]);
        assert_ne!(out.code, Some(0), "{}", out.describe(name));
    }
}
