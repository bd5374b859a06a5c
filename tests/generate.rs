//! `generate` and `list --format json` on every fixture, through the real binary.
//!
//! Each scenario copies a fixture to a temporary directory, generates there, and then: snapshots the
//! Dockerfile and the JSON listing (root path and tool version filtered), checks the
//! structural rules of `common::structure`, checks that the header names the command that regenerates the
//! same file (`generate --check` with the same flags passes), and asserts outright what the fixture is
//! there to test. Review snapshot changes with `cargo insta review`.

mod common;

use common::{library, listed_binaries, structure, Fixture, GENERATING_FIXTURES};
use dockerfile_parser::Dockerfile;
use serde_json::Value;

const DISTROLESS_CC: &str = "gcr.io/distroless/cc-debian12:nonroot";

/// One generated scenario.
struct Generated {
    fixture: Fixture,
    dockerfile: String,
    /// `list --format json` as printed, the root path redacted.
    list_text: String,
    list: Value,
}

impl Generated {
    /// `binaries[].<field>` of the listing, in order.
    fn binaries(&self, field: &str) -> Vec<String> {
        self.list["binaries"]
            .as_array()
            .expect("binaries")
            .iter()
            .map(|b| match &b[field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    /// The shell commands of every RUN in `stage`, continuations joined as the engine sees them (and runs of
    /// spaces as one).
    fn runs(&self, stage: &str) -> Vec<String> {
        let dockerfile = Dockerfile::parse(&self.dockerfile).expect("parses");
        let stages = dockerfile.stages();
        let stage = stages
            .get(stage)
            .unwrap_or_else(|| panic!("no stage `{stage}`"));
        stage
            .instructions
            .iter()
            .filter_map(|i| i.as_run())
            .filter_map(|r| r.as_shell().map(|s| s.to_string()))
            .map(|run| {
                without_mounts(&run)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// The `cargo build` commands of a RUN, however they are wrapped (`sh .dockerize/build.sh compile ... -- cargo build ...`).
    fn cargo_builds(run: &str) -> Vec<String> {
        run.split("&&")
            .filter_map(|step| step.find("cargo build").map(|at| &step[at..]))
            .map(|build| build.split(';').next().unwrap_or(build).trim().to_string())
            .collect()
    }

    /// The final compile's form of a cook's `cargo build`: the same words without the `--bin`s, which
    /// `build.sh compile` adds for the images wanted (`DOCKERIZE_IMAGES`).
    fn selecting(cook: &str) -> String {
        let words: Vec<&str> = cook.split(' ').collect();
        let mut kept = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if words[i] == "--bin" {
                i += 2;
                continue;
            }
            kept.push(words[i]);
            i += 1;
        }
        kept.join(" ")
    }

    /// The `FROM` line of `stage`.
    fn base_line(&self, stage: &str) -> &str {
        self.dockerfile
            .lines()
            .find(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS {stage}")))
            .unwrap_or_else(|| panic!("no `FROM ... AS {stage}` line"))
    }

    /// The image `stage` starts from, through the stages images share (`FROM runtime AS <stage>`).
    fn base_image(&self, stage: &str) -> String {
        let mut from = self.base_line(stage)["FROM ".len()..]
            .split(" AS ")
            .next()
            .unwrap_or_default()
            .to_string();
        while self
            .dockerfile
            .lines()
            .any(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS {from}")))
        {
            from = self.base_image(&from);
        }
        from
    }
}

/// The command of a RUN without its leading `--mount=...` flags, which the parser keeps in the shell text.
fn without_mounts(run: &str) -> &str {
    let mut rest = run.trim_start();
    while let Some(flag) = rest.strip_prefix("--mount=") {
        rest = flag
            .split_once(char::is_whitespace)
            .map_or("", |(_, after)| after.trim_start());
    }
    rest
}

/// Generates `fixture` with `args` and checks everything every scenario must satisfy; snapshots the
/// Dockerfile as `<name>.dockerfile` and the listing as `<name>.list`.
fn scenario(name: &str, fixture: &str, args: &[&str]) -> Generated {
    let generated = generate_and_check(fixture, args);
    let command = ["cargo dockerize generate"]
        .into_iter()
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    generated
        .fixture
        .insta_settings(&format!("`{command}` in fixtures/workspaces/{fixture}"))
        .bind(|| {
            insta::assert_snapshot!(format!("{name}.dockerfile"), generated.dockerfile);
            insta::assert_snapshot!(format!("{name}.list"), generated.list_text);
        });
    generated
}

/// Generates, lists, and checks the structure, the header and `--check`; no snapshot.
fn generate_and_check(fixture: &str, args: &[&str]) -> Generated {
    let fixture = Fixture::copy(fixture);
    let dockerfile = fixture.generate(args);
    let (list_text, list) = fixture.list_json(args);
    let context = format!("fixture `{}` with {args:?}", fixture.name);
    structure::check(&context, &dockerfile, &listed_binaries(&list));

    assert_header(&context, &dockerfile, args);
    // `.dockerignore`, or `<Dockerfile>.dockerignore` beside it for another path or a widened context.
    let ignore = list["dockerignore_path"]
        .as_str()
        .expect("`list` names the ignore file");
    assert!(
        fixture.path(ignore).is_file(),
        "{context}: `{ignore}` written"
    );
    let mut check = vec!["generate", "--check"];
    check.extend_from_slice(args);
    fixture.run(&check).assert_success(&format!(
        "{context}: `generate --check` right after `generate`"
    ));
    Generated {
        fixture,
        dockerfile,
        list_text,
        list,
    }
}

/// The header: the tool's version, and the command that regenerates the file with the same flags.
fn assert_header(context: &str, dockerfile: &str, args: &[&str]) {
    let mut lines = dockerfile.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "# Generated by cargo-dockerize {}. Do not edit: regenerate with",
                common::VERSION
            )
            .as_str()
        ),
        "{context}: header"
    );
    let regenerate = ["#   cargo dockerize generate"]
        .into_iter()
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        lines.next(),
        Some(regenerate.as_str()),
        "{context}: the header names the command"
    );
}

/// No musl target, no musl toolchain: a glibc-only Dockerfile.
fn assert_no_musl(dockerfile: &str, context: &str) {
    for word in ["x86_64-unknown-linux-musl", "musl-tools"] {
        assert!(
            !dockerfile.contains(word),
            "{context}: glibc only, but `{word}` appears"
        );
    }
}

// One test per fixture or flag variant: its snapshots, the common checks, and what the fixture is for.

#[test]
fn single_bin() {
    let g = scenario("single-bin", "single-bin", &[]);
    // The default: a static musl binary on scratch.
    assert_eq!(g.binaries("runtime"), ["scratch"]);
    assert_eq!(g.binaries("target"), ["x86_64-unknown-linux-musl"]);
    // No dependency compiles C code, so the builder needs no musl-gcc: no apt round trip at all.
    assert!(!g.runs("chef").iter().any(|r| r.contains("musl-tools")));
    assert!(g
        .runs("chef")
        .contains(&"rustup target add x86_64-unknown-linux-musl".to_string()));
    let ignore = std::fs::read_to_string(g.fixture.dockerignore_path()).unwrap();
    g.fixture
        .insta_settings("the default `.dockerignore`")
        .bind(|| insta::assert_snapshot!("single-bin.dockerignore", ignore));
}

#[test]
fn multi_bin() {
    let g = scenario("multi-bin", "multi-bin", &[]);
    assert_eq!(g.binaries("name"), ["alpha", "beta", "gamma", "multi-bin"]);
    // One cargo invocation builds all four; the cook step uses the same flags.
    let builder = g.runs("builder");
    let build = "cargo build --locked --profile release --target x86_64-unknown-linux-musl -p multi-bin --bin alpha --bin beta --bin gamma --bin multi-bin";
    assert_eq!(Generated::cargo_builds(&builder[0]), [build]);
    // The final compile takes its `--bin`s from DOCKERIZE_IMAGES: `build.sh` adds each wanted image's own.
    assert_eq!(
        Generated::cargo_builds(&builder[1]),
        [Generated::selecting(build)]
    );
    assert!(
        builder[1].contains(
            " --from x86_64-unknown-linux-musl/release --to /out alpha beta gamma multi-bin "
        ),
        "{}",
        builder[1]
    );
    assert!(g
        .dockerfile
        .contains("\nARG DOCKERIZE_IMAGES\nRUN --mount=type=cache"));
    // The builder's own check, for a plain `docker build --build-arg`, run with `sh` as the image runs it: a name
    // that is no image fails in one line naming the images, before anything else (tests/scripts.rs runs the
    // whole compile with good ones).
    let check = builder[1]
        .replace("--cache /cache", "")
        .replace("--to /out", "--to /nonexistent");
    let typo = std::process::Command::new("sh")
        .arg("-c")
        .arg(&check)
        .env("DOCKERIZE_IMAGES", "alpha gama")
        .current_dir(&g.fixture.root)
        .output()
        .expect("run sh");
    assert_eq!(typo.status.code(), Some(1), "{typo:?}");
    assert_eq!(
        String::from_utf8_lossy(&typo.stderr),
        "DOCKERIZE_IMAGES: no image gama in this Dockerfile; its images: alpha beta gamma multi-bin\n"
    );
}

#[test]
fn workspace() {
    let g = scenario("workspace", "workspace", &[]);
    assert_eq!(g.binaries("name"), ["api", "dz-cli", "worker"]);
    assert_eq!(g.binaries("package"), ["api", "cli", "worker"]);
    // `dz-cli` is the binary's name, not the package's.
    assert!(g.dockerfile.contains("\nFROM runtime AS dz-cli\n"));
    assert_eq!(g.base_image("dz-cli"), "scratch");
    // Three images on scratch share one stage: the CA bundle, the user and the labels they have in common.
    assert_eq!(g.dockerfile.matches("\nFROM scratch AS ").count(), 1);
    assert_eq!(
        g.dockerfile
            .matches("/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/")
            .count(),
        1
    );
    assert!(g
        .dockerfile
        .contains("ENTRYPOINT [\"/usr/local/bin/dz-cli\"]"));
}

#[test]
fn build_script() {
    scenario("build-script", "build-script", &[]);
}

#[test]
fn compile_error() {
    // It never compiles, but generating needs no compiler.
    scenario("compile-error", "compile-error", &[]);
}

#[test]
fn toolchain_pin() {
    let g = scenario("toolchain-pin", "toolchain-pin", &[]);
    // The pin picks the builder image.
    assert!(g.dockerfile.contains("\nARG RUST_VERSION=1.95\n"));
    assert_eq!(g.list["rust_version"], "1.95");
    // The image carries the toolchain; the file would send rustup looking for it under another name. The
    // planner never copies it; the builder, which has every file of the context, removes it.
    assert!(!g.dockerfile.contains("COPY rust-toolchain.toml"));
    assert!(
        g.runs("builder")
            .iter()
            .any(|r| r.starts_with("rm -f rust-toolchain.toml")),
        "the builder removes the toolchain file"
    );
}

#[test]
fn native_openssl_runs_on_distroless_and_builds_with_libssl_dev() {
    for (name, args) in [
        ("native-openssl", &[][..]),
        ("native-openssl-gnu", &["--libc", "gnu"][..]),
    ] {
        let g = if args.is_empty() {
            scenario(name, "native-openssl", args)
        } else {
            generate_and_check("native-openssl", args)
        };
        assert_eq!(
            g.base_line("native-openssl"),
            format!("FROM {DISTROLESS_CC} AS native-openssl"),
            "{name}"
        );
        let installs: Vec<String> = g
            .runs("chef")
            .into_iter()
            .filter(|r| r.contains("apt-get install"))
            .collect();
        assert_eq!(
            installs.len(),
            1,
            "{name}: one apt-get install in the builder base"
        );
        let words: Vec<&str> = installs[0].split_whitespace().collect();
        assert!(words.contains(&"libssl-dev"), "{name}: {}", installs[0]);
        assert!(words.contains(&"pkg-config"), "{name}: {}", installs[0]);
        assert_no_musl(&g.dockerfile, name);
        let binary = &g.list["binaries"][0];
        assert_eq!(binary["runtime"], "distroless");
        assert_eq!(binary["base_image"], DISTROLESS_CC);
        assert_eq!(binary["libc"], "gnu");
        assert_eq!(binary["linkage"], "dynamic");
        assert_eq!(binary["target"], "x86_64-unknown-linux-gnu");
        let native = binary["native_dependencies"].as_array().unwrap();
        assert!(
            native
                .iter()
                .any(|n| n["krate"] == "openssl-sys" && n["linkage"] == "dynamic"),
            "{name}: {native:?}"
        );
    }
}

#[test]
fn name_collision_gets_distinct_stages_and_two_cargo_invocations() {
    let g = scenario("name-collision", "name-collision", &[]);
    assert_eq!(g.binaries("name"), ["server", "server"]);
    assert_eq!(g.binaries("package"), ["alpha-svc", "beta-svc"]);
    assert_eq!(g.binaries("stage"), ["alpha-svc-server", "beta-svc-server"]);
    assert_eq!(g.binaries("image"), ["alpha-svc-server", "beta-svc-server"]);
    let notes = g.list["notes"].as_array().unwrap();
    let renames = notes
        .iter()
        .filter(|n| {
            n.as_str()
                .is_some_and(|n| n.contains("gets the stage and image name"))
        })
        .count();
    assert_eq!(renames, 2, "each renamed binary is explained: {notes:?}");

    let builds = Generated::cargo_builds;
    let runs = g.runs("builder");
    let expected = [
        "cargo build --locked --profile release --target x86_64-unknown-linux-musl -p alpha-svc --bin server",
        "cargo build --locked --profile release --target x86_64-unknown-linux-musl -p beta-svc --bin server",
    ];
    assert_eq!(builds(&runs[0]), expected, "dependencies: two invocations");
    let selecting: Vec<String> = expected.iter().map(|b| Generated::selecting(b)).collect();
    assert_eq!(builds(&runs[1]), selecting, "binaries: two invocations");
    // One compile a binary, each copying its binary out before the next build overwrites it (with its own
    // package's crate list); either may be named in DOCKERIZE_IMAGES.
    let compiles: Vec<&str> = runs[1].split("&&").map(str::trim).collect();
    assert_eq!(compiles.len(), 2, "{compiles:?}");
    for (compile, (stage, package)) in compiles.iter().zip([
        ("alpha-svc-server", "alpha-svc"),
        ("beta-svc-server", "beta-svc"),
    ]) {
        assert!(
            compile.contains(&format!(
                "--images 'alpha-svc-server beta-svc-server' --dep-v0 objcopy --package {stage}={package} \
                 --from x86_64-unknown-linux-musl/release --to /out {stage}=server -- "
            )) && compile.ends_with(&format!("-p {package}")),
            "{compile}"
        );
    }
}

#[test]
fn odd_names_get_valid_stage_names_and_keep_their_binaries() {
    let g = scenario("odd-names", "odd-names", &[]);
    assert_eq!(g.binaries("name"), ["2fa", "My_Tool"]);
    assert_eq!(g.binaries("stage"), ["bin-2fa", "my_tool"]);
    for stage in g.binaries("stage") {
        assert!(structure::is_valid_stage_name(&stage), "{stage}");
    }
    // The binaries themselves keep their names: Cargo builds them, the entrypoints run them.
    assert!(g.runs("builder")[0].contains("--bin 2fa --bin My_Tool"));
    assert!(g.runs("builder")[1].contains(" --to /out bin-2fa=2fa my_tool=My_Tool -- "));
    assert!(g.dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/2fa\"]"));
    assert!(g
        .dockerfile
        .contains("ENTRYPOINT [\"/usr/local/bin/My_Tool\"]"));
}

#[test]
fn required_features_skips_the_gated_binary_by_default() {
    let g = scenario("required-features", "required-features", &[]);
    assert_eq!(g.binaries("name"), ["plain"]);
    let skipped = g.list["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["name"], "extra");
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("--features required-features/extra"));
    assert!(!g.dockerfile.contains("--features"));
}

#[test]
fn required_features_enabled_by_a_flag_bring_the_binary_in() {
    let g = scenario(
        "required-features-enabled",
        "required-features",
        &["--features", "required-features/extra"],
    );
    assert_eq!(g.binaries("name"), ["extra", "plain"]);
    assert_eq!(
        g.list["binaries"][0]["required_features"],
        serde_json::json!(["required-features/extra"])
    );
    // The same flags for the dependency layer and the binaries, so nothing recompiles between them.
    let build = "cargo build --locked --profile release --target x86_64-unknown-linux-musl -p required-features --bin extra --bin plain --features required-features/extra";
    let runs = g.runs("builder");
    assert_eq!(Generated::cargo_builds(&runs[0]), [build]);
    assert_eq!(
        Generated::cargo_builds(&runs[1]),
        [Generated::selecting(build)]
    );
}

#[test]
fn libc_gnu_static_links_glibc_statically_for_scratch() {
    let g = scenario(
        "workspace-gnu-static",
        "workspace",
        &["--libc", "gnu", "--static"],
    );
    assert!(g.dockerfile.contains(
        "\nFROM chef AS builder\nENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS=\"-C target-feature=+crt-static\"\n"
    ));
    assert_eq!(g.binaries("runtime"), ["scratch"; 3]);
    assert_eq!(g.binaries("target"), ["x86_64-unknown-linux-gnu"; 3]);
    assert_eq!(g.binaries("linkage"), ["static"; 3]);
    assert_no_musl(&g.dockerfile, "workspace");
}

#[test]
fn libc_gnu_runs_on_distroless() {
    let g = scenario("workspace-gnu", "workspace", &["--libc", "gnu"]);
    assert_eq!(g.binaries("base_image"), [DISTROLESS_CC; 3]);
    assert_eq!(g.binaries("linkage"), ["dynamic"; 3]);
    assert!(!g.dockerfile.contains("crt-static"));
    assert_no_musl(&g.dockerfile, "workspace");
    for stage in g.binaries("stage") {
        assert_eq!(g.base_image(&stage), DISTROLESS_CC);
    }
}

/// The structural rules over every fixture with every flag that changes the Dockerfile's shape, in process: each
/// fixture is loaded once and planned under each flag set (none of them changes what is loaded).
fn structure_over_every_fixture(variants: &[&[&str]]) {
    for fixture in GENERATING_FIXTURES {
        let copy = Fixture::copy(fixture);
        let loaded = library::load(&copy.manifest(), &[]);
        for args in variants {
            let context = format!("fixture `{fixture}` with {args:?}");
            let rendered = loaded.render(args);
            structure::check(
                &context,
                &rendered.dockerfile,
                &listed_binaries(&rendered.list),
            );
            assert_header(&context, &rendered.dockerfile, args);
            // What `generate --check` compares: the file the header's own command writes is this one.
            let header = rendered.dockerfile.lines().nth(1).unwrap_or_default();
            let again: Vec<&str> = header.split_whitespace().skip(4).collect();
            assert_eq!(
                loaded.render(&again).dockerfile,
                rendered.dockerfile,
                "{context}: the header's command writes the same file"
            );
            assert!(
                rendered
                    .dockerignore
                    .starts_with("# Generated by cargo-dockerize"),
                "{context}: .dockerignore"
            );
        }
    }
}

#[test]
fn structure_holds_for_every_libc() {
    structure_over_every_fixture(&[
        &[],
        &["--libc", "gnu"],
        &["--libc", "gnu", "--static"],
        &["--libc", "musl"],
    ]);
}

#[test]
fn structure_holds_for_every_runtime_and_selection() {
    structure_over_every_fixture(&[
        &["--runtime", "distroless"],
        &["--runtime", "debian-slim", "--no-test-stage"],
        &["--profile", "dev"],
    ]);
}

/// Two copies of a fixture, each loaded on its own, give the same files and the same listing (in process).
#[test]
fn generating_twice_gives_identical_files() {
    for name in ["workspace", "name-collision", "odd-names"] {
        let (first, second) = (Fixture::copy(name), Fixture::copy(name));
        let one = library::load(&first.manifest(), &[]).render(&[]);
        let two = library::load(&second.manifest(), &[]).render(&[]);
        assert_eq!(one.dockerfile, two.dockerfile, "{name}: Dockerfile");
        assert_eq!(one.dockerignore, two.dockerignore, "{name}: .dockerignore");
        assert_eq!(
            first.redact(&one.list_text),
            second.redact(&two.list_text),
            "{name}: list"
        );
    }
}

/// The binary writes what the library renders, and a second `generate` leaves the files as they are.
#[test]
fn generate_writes_the_rendered_files_and_again_leaves_them() {
    let copy = Fixture::copy("workspace");
    let rendered = library::load(&copy.manifest(), &[]).render(&[]);
    assert_eq!(copy.generate(&[]), rendered.dockerfile);
    assert_eq!(copy.read(".dockerignore"), rendered.dockerignore);
    let again = copy.run(&["generate"]);
    again.assert_success("generate again");
    assert!(again.stderr.contains("Unchanged"), "{}", again.stderr);
    assert_eq!(copy.dockerfile(), rendered.dockerfile);
}

#[test]
fn fixtures_stay_clean() {
    // Tests generate into copies; a Dockerfile in a fixture means a test or a person wrote there.
    for fixture in GENERATING_FIXTURES.iter().chain(&["no-bins"]) {
        for file in ["Dockerfile", ".dockerignore"] {
            let path = common::fixtures_dir().join(fixture).join(file);
            assert!(
                !path.exists(),
                "{} must not be committed or left behind",
                path.display()
            );
        }
    }
}

#[test]
fn structure_checker_catches_broken_dockerfiles() {
    // The checker must fail where the rules are broken, or the tests above prove nothing.
    let good = GOOD_STRUCTURE;
    assert_eq!(
        structure::problems(good, &[listed("app", "scratch")]),
        Vec::<String>::new()
    );
    let broken = [
        (good.replace("--from=builder", "--from=1"), "numeric"),
        (
            good.replace("--from=builder", "--from=nowhere"),
            "which is no stage",
        ),
        (good.replace("USER 65532:65532", "USER 0"), "runs as `0`"),
        (good.replace("USER 65532:65532\n", ""), "no USER"),
        (
            good.replace(
                "ENTRYPOINT [\"/usr/local/bin/app\"]",
                "ENTRYPOINT /usr/local/bin/app",
            ),
            "shell-form",
        ),
        (
            good.replace("USER 65532", "RUN cargo build\nUSER 65532"),
            "build tool `cargo`",
        ),
        (good.replace("AS app", "AS App"), "not `[a-z]"),
        (good.replace("AS builder", "AS chef"), "more than once"),
        (
            good.replace("FROM scratch AS app", "FROM builder AS app"),
            "not scratch, distroless or Debian",
        ),
        (
            good.replace("/out/app /usr", "/out/other /usr"),
            "only its binary",
        ),
        (
            good.replace(
                "FROM chef AS builder",
                "FROM chef AS builder-amd64\nFROM builder-musl-${TARGETARCH}${TARGETVARIANT} AS builder",
            ),
            "no `builder-musl-<arch>` stage",
        ),
    ];
    for (text, expected) in broken {
        let problems = structure::problems(&text, &[listed("app", "scratch")]);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem containing `{expected}`, got {problems:?}\n{text}"
        );
    }
    let later =
        good.replace("FROM chef AS builder\nRUN cargo build\n", "") + "FROM chef AS builder\n";
    let problems = structure::problems(&later, &[listed("app", "scratch")]);
    assert!(
        problems.iter().any(|p| p.contains("defined after it")),
        "{problems:?}"
    );
}

/// The smallest Dockerfile the structure checker accepts: what `structure_checker_*` tests break.
const GOOD_STRUCTURE: &str = "ARG RUST_VERSION=1.95\nFROM rust:${RUST_VERSION}-slim-bookworm AS chef\nFROM chef AS builder\nRUN cargo build\n\
                FROM scratch AS app\nCOPY --from=builder /out/app /usr/local/bin/app\nUSER 65532:65532\nENTRYPOINT [\"/usr/local/bin/app\"]\n";

fn listed(stage: &str, base: &str) -> structure::ListedBinary {
    structure::ListedBinary {
        name: "app".into(),
        stage: stage.into(),
        builder: "builder".into(),
        base_image: base.into(),
        artifact: format!("/out/{stage}"),
        debug_stage: None,
    }
}

#[test]
fn structure_checker_catches_broken_debug_variants() {
    let good = GOOD_STRUCTURE;
    // A debug variant is checked like a runtime stage: Debian slim, its own unstripped copy, non-root.
    let debug = || structure::ListedBinary {
        debug_stage: Some("app-debug".into()),
        ..listed("app", "scratch")
    };
    let with_debug = format!(
        "{good}FROM debian:bookworm-slim AS app-debug\nCOPY --from=builder /out/debug/app /usr/local/bin/app\nUSER 65532:65532\nENTRYPOINT [\"/usr/local/bin/app\"]\n"
    );
    assert_eq!(
        structure::problems(&with_debug, &[debug()]),
        Vec::<String>::new()
    );
    for (text, expected) in [
        (
            with_debug.replace("/out/debug/app /usr", "/out/app /usr"),
            "only its binary",
        ),
        (
            with_debug.replace("AS app-debug", "AS app-dbg"),
            "runtime stages",
        ),
        (
            with_debug.replace(
                "65532:65532\nENTRYPOINT [\"/usr/local/bin/app\"]\n",
                "0\nENTRYPOINT [\"/usr/local/bin/app\"]\n",
            ),
            "runs as `0`",
        ),
    ] {
        let problems = structure::problems(&text, &[debug()]);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem containing `{expected}`, got {problems:?}\n{text}"
        );
    }
}

/// The checker follows a runtime stage through the stages images share, down from the base image.
#[test]
fn structure_checker_follows_shared_stages() {
    let listed = |stage: &str, base: &str| structure::ListedBinary {
        name: "app".into(),
        stage: stage.into(),
        builder: "builder".into(),
        base_image: base.into(),
        artifact: format!("/out/{stage}"),
        debug_stage: None,
    };
    let shared = "ARG RUST_VERSION=1.95\nFROM rust:${RUST_VERSION}-slim-bookworm AS chef\nFROM chef AS builder\nRUN cargo build\n\
                  FROM scratch AS runtime\nCOPY --from=chef /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n\
                  USER 65532:65532\nFROM runtime AS app\nCOPY --from=builder /out/app /usr/local/bin/app\nENTRYPOINT [\"/usr/local/bin/app\"]\n";
    assert_eq!(
        structure::problems(shared, &[listed("app", "scratch")]),
        Vec::<String>::new()
    );
    let other = structure::ListedBinary {
        name: "app".into(),
        ..listed("other", "scratch")
    };
    for (text, binaries, expected) in [
        (shared.replace("USER 65532:65532", "USER 0"), vec![listed("app", "scratch")], "runs as `0`"),
        (
            shared.replace("USER 65532", "RUN cargo build\nUSER 65532"),
            vec![listed("app", "scratch")],
            "build tool `cargo`",
        ),
        (
            shared.replace("FROM scratch AS runtime", "FROM debian:bookworm-slim AS runtime"),
            vec![listed("app", "scratch")],
            "but `list` says `scratch`",
        ),
        (
            format!("{shared}FROM app AS other\nCOPY --from=builder /out/other /usr/local/bin/app\nENTRYPOINT [\"/usr/local/bin/app\"]\n"),
            vec![listed("app", "scratch"), other],
            "another image",
        ),
    ] {
        let problems = structure::problems(&text, &binaries);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a problem containing `{expected}`, got {problems:?}\n{text}"
        );
    }
}

#[test]
fn path_dependency_outside_the_workspace_widens_the_context() {
    let generated = scenario("path-outside", "path-outside/app", &[]);
    assert!(
        generated
            .dockerfile
            .contains("#   docker build -f app/Dockerfile --target <binary> .."),
        "the header says how to build with the wider context"
    );
    assert!(generated.dockerfile.contains(
        "WORKDIR /app/app\nCOPY app/Cargo.toml app/Cargo.lock /app/app/\nCOPY shared-lib /app/shared-lib/\n"
    ));
    assert!(generated
        .dockerfile
        .contains("sh /dockerize/build.sh recipe /app /app/app /recipe shared-lib\n"));
    assert!(generated
        .dockerfile
        .contains("RUN --mount=type=bind,source=app/.dockerize,target=/dockerize"));
    // Docker reads the ignore file beside the Dockerfile for the wider context; its patterns are relative to it.
    let ignore = generated.fixture.read("Dockerfile.dockerignore");
    assert!(
        ignore.contains("\napp/Dockerfile\napp/Dockerfile.dockerignore\n")
            && ignore.contains("\n**/.cargo/credentials.toml\n"),
        "{ignore}"
    );
    assert!(!generated.fixture.path(".dockerignore").exists());
}

#[test]
fn non_member_path_packages_and_patches_go_into_the_recipe_whole() {
    let generated = scenario("path-inside", "path-inside", &[]);
    assert!(
        generated.dockerfile.contains(
            "sh /dockerize/build.sh recipe /app /app /recipe vendor/helper vendor/itoa-shim\n"
        ),
        "both are copied into the recipe"
    );
    assert!(
        !generated.dockerfile.contains("WORKDIR /app/"),
        "the context is the workspace"
    );
}

#[test]
fn musl_gets_musl_gcc_only_where_a_build_script_compiles_c() {
    // openssl-sys's build script uses the `cc` crate (non-bundled libsqlite3-sys does not: `cc` is optional there).
    let g = generate_and_check("native-openssl", &["--libc", "musl"]);
    assert!(g.runs("chef").iter().any(|r| r.contains("musl-tools")));
    assert!(g.dockerfile.contains(
        "# musl-tools: a build script of `native-openssl` compiles C code for the musl target"
    ));
}

#[test]
fn patches_the_resolve_leaves_out_still_go_into_the_recipe() {
    // Cargo loads every `[patch]` path, even one no resolved package uses; `cargo metadata` lists only used ones.
    let copy = Fixture::copy("path-inside");
    let unused = copy.root.join("vendor/unused-patch");
    std::fs::create_dir_all(unused.join("src")).unwrap();
    std::fs::write(
        unused.join("Cargo.toml"),
        "[package]\nname = \"unused-patch\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(unused.join("src/lib.rs"), "").unwrap();
    let manifest = std::fs::read_to_string(copy.manifest()).unwrap();
    std::fs::write(
        copy.manifest(),
        manifest.replace(
            "[patch.crates-io]\n",
            "[patch.crates-io]\nunused-patch = { path = \"vendor/unused-patch\" }\n",
        ),
    )
    .unwrap();
    // The lock records the unused patch, as the user commits it.
    copy.relock();
    let dockerfile = copy.generate(&[]);
    assert!(
        dockerfile.contains(" /recipe vendor/helper vendor/itoa-shim vendor/unused-patch\n"),
        "{dockerfile}"
    );
}

/// A `rustc` that reports `release` as its version and does everything else as the real one: another machine's
/// toolchain, as far as anything that asks can tell.
fn rustc_reporting(dir: &std::path::Path, release: &str) -> std::path::PathBuf {
    let real = common::run(std::process::Command::new("rustup").args(["which", "rustc"]));
    let real = if real.code == Some(0) {
        real.stdout.trim().to_string()
    } else {
        "rustc".to_string()
    };
    let path = dir.join(format!("rustc-{release}"));
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n  --version|-V) echo \"rustc {release} (0000000 2099-01-01)\"; exit 0 ;;\n  -vV) \"{real}\" -vV | sed -e 's/^rustc .*/rustc {release} (0000000 2099-01-01)/' -e 's/^release: .*/release: {release}/'; exit 0 ;;\nesac\nexec \"{real}\" \"$@\"\n"
    );
    std::fs::write(&path, script).expect("write the rustc wrapper");
    let mut permissions = std::fs::metadata(&path).expect("the wrapper").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&path, permissions).expect("make the wrapper executable");
    path
}

/// What `generate` writes depends on the workspace's files only: two machines with other Rust releases write the
/// same bytes, and a workspace that pins nothing builds with `rust:1` (a note says so).
#[test]
fn the_dockerfile_is_the_same_under_any_local_toolchain() {
    let tools = tempfile::tempdir().expect("a temporary directory");
    let mut dockerfiles = Vec::new();
    for release in ["1.80.0", "1.99.1"] {
        let copy = Fixture::copy("workspace");
        let mut command = copy.command(&["generate"]);
        command.env("RUSTC", rustc_reporting(tools.path(), release));
        let run = common::run(&mut command);
        run.assert_success(&format!("generate with rustc {release}"));
        assert!(
            run.stderr.contains("no toolchain is pinned"),
            "a note advises a pin\n{}",
            run.describe("generate")
        );
        dockerfiles.push(copy.dockerfile());
    }
    assert_eq!(dockerfiles[0], dockerfiles[1]);
    assert!(dockerfiles[0].contains("\nARG RUST_VERSION=1\n"));
}

/// `rust-version` in `[workspace.metadata.dockerize]` pins the builder; a toolchain file wins over it; the
/// members' `rust-version` (a minimum) does not choose the release.
#[test]
fn rust_version_in_the_workspace_table_pins_the_builder() {
    let copy = Fixture::copy("workspace");
    copy.replace_in(
        "crates/api/Cargo.toml",
        "[package]\n",
        "[package]\nrust-version = \"1.70\"\n",
    );
    copy.append_to(
        "Cargo.toml",
        "\n[workspace.metadata.dockerize]\nrust-version = \"1.95\"\n",
    );
    assert!(copy.generate(&[]).contains("\nARG RUST_VERSION=1.95\n"));
    let (_, list) = copy.list_json(&[]);
    assert_eq!(list["rust_version"], "1.95");
    assert_eq!(list["rust_version_source"]["kind"], "config");
    copy.write("rust-toolchain.toml", "[toolchain]\nchannel = \"1.95.0\"\n");
    let run = copy.run(&["generate"]);
    run.assert_success("generate with a toolchain file");
    assert!(copy.dockerfile().contains("\nARG RUST_VERSION=1.95.0\n"));
    assert!(
        run.stderr.contains("is not used: the toolchain file"),
        "{}",
        run.describe("generate")
    );
}

/// `build-env` of `[workspace.metadata.dockerize]` is the builder's `ENV`, set before the cook (dependencies'
/// build scripts read it), and never in a runtime stage; `config` shows it and where it came from. The
/// `recipe-shapes` fixture's manifests are the hard shapes of the recipe (`tests/recipe.rs`).
#[test]
fn recipe_shapes_build_env_is_the_builders_before_the_cook() {
    let g = scenario("recipe-shapes", "recipe-shapes", &[]);
    let builder = g
        .dockerfile
        .split("\nFROM ")
        .find(|s| s.starts_with("chef AS builder"))
        .expect("a builder stage");
    let env = builder
        .find("\nENV SHAPES_GREETING=\"set by build-env\"\n")
        .expect("the builder's ENV");
    let cook = builder.find("cargo build").expect("the cook");
    assert!(env < cook, "{builder}");
    for stage in ["shapes", "shapes-debug", "planner"] {
        let text = g
            .dockerfile
            .split("\nFROM ")
            .find(|s| s.contains(&format!(" AS {stage}\n")))
            .unwrap_or_else(|| panic!("no stage {stage}"));
        assert!(!text.contains("SHAPES_GREETING"), "{stage}: {text}");
    }
    let run = g.fixture.run(&["config"]);
    run.assert_success("config");
    assert!(
        run.stdout.contains("  build-env     {\"SHAPES_GREETING\":\"set by build-env\"}  `build-env` in `[workspace.metadata.dockerize]` in `Cargo.toml`"),
        "{}",
        run.stdout
    );
}

/// A binary named like another's debug variant (`api-debug` beside `api`) gets its own stage name, with a note,
/// so every image and every debug variant keeps a stage of its own.
#[test]
fn a_binary_named_like_a_debug_variant_gets_its_own_stage() {
    let copy = Fixture::copy("workspace");
    copy.append_to(
        "crates/api/Cargo.toml",
        "\n[[bin]]\nname = \"api\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"api-debug\"\npath = \"src/main.rs\"\n",
    );
    let dockerfile = copy.generate(&[]);
    let (_, list) = copy.list_json(&[]);
    let stage_of = |name: &str| {
        list["binaries"]
            .as_array()
            .expect("binaries")
            .iter()
            .find(|b| b["name"] == name)
            .and_then(|b| b["stage"].as_str())
            .unwrap_or_else(|| panic!("no binary `{name}` in {list}"))
            .to_string()
    };
    assert_eq!(stage_of("api"), "api");
    assert_ne!(stage_of("api-debug"), "api-debug");
    assert!(
        list["notes"]
            .to_string()
            .contains("another binary's debug variant"),
        "{}",
        list["notes"]
    );
    structure::check("api and api-debug", &dockerfile, &listed_binaries(&list));
}

/// Binaries named like the stages images share (`runtime`, `debug`) keep their names: the shared stages take
/// another, and every image and debug variant keeps a stage of its own.
#[test]
fn binaries_named_like_the_shared_stages_keep_their_names() {
    let copy = Fixture::copy("workspace");
    copy.append_to(
        "crates/api/Cargo.toml",
        "\n[[bin]]\nname = \"api\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"runtime\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"debug\"\npath = \"src/main.rs\"\n",
    );
    let dockerfile = copy.generate(&[]);
    let (_, list) = copy.list_json(&[]);
    let stages: Vec<&str> = list["binaries"]
        .as_array()
        .expect("binaries")
        .iter()
        .map(|b| b["stage"].as_str().expect("a stage"))
        .collect();
    assert_eq!(stages, ["api", "debug", "dz-cli", "runtime", "worker"]);
    for line in [
        "\nFROM scratch AS runtime-2\n",
        "\nFROM runtime-2 AS runtime\n",
        "\nFROM debian:bookworm-slim AS debug-2\n",
        "\nFROM debug-2 AS debug-debug\n",
        "\nFROM runtime-2 AS debug\n",
    ] {
        assert!(dockerfile.contains(line), "`{line}` in\n{dockerfile}");
    }
    structure::check("runtime and debug", &dockerfile, &listed_binaries(&list));
}

#[test]
fn native_static_reads_each_targets_graph_and_names_its_compilers() {
    let g = scenario("native-static", "native-static", &[]);
    // Every binary static on scratch: musl with musl-gcc for C, static glibc for the C++ one.
    assert!(g.binaries("runtime").iter().all(|r| r == "scratch"));
    let targets = g.binaries("target");
    let names = g.binaries("name");
    for (name, target) in names.iter().zip(&targets) {
        let expected = if name == "cpp-greet" {
            "x86_64-unknown-linux-gnu"
        } else {
            "x86_64-unknown-linux-musl"
        };
        assert_eq!(target, expected, "{name}");
    }
    assert!(g
        .dockerfile
        .contains("ENV AR_x86_64_unknown_linux_musl=ar CC_x86_64_unknown_linux_musl=musl-gcc"));
    assert!(g.dockerfile.contains(
        "ENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS=\"-C target-feature=+crt-static\""
    ));
    let chef = g.runs("chef").join("\n");
    assert!(
        chef.contains("musl-tools") && chef.contains("g++"),
        "{chef}"
    );
    // The jemalloc dependency exists for musl only: on musl it is a C compile, on glibc it is not there.
    let jemalloc = |list: &Value| {
        list["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == "jemalloc-alloc")
            .map(|b| b["compilers"]["c"].clone())
            .unwrap()
    };
    assert_eq!(jemalloc(&g.list), serde_json::json!(["tikv-jemalloc-sys"]));
    let gnu = generate_and_check("native-static", &["--libc", "gnu"]);
    assert_eq!(jemalloc(&gnu.list), serde_json::json!([]));
    assert!(
        !gnu.dockerfile.contains("musl-gcc"),
        "no musl builder, no musl-gcc"
    );
    // `static = false` in the manifest keeps glibc dynamic for C++: distroless `cc`, which ships libstdc++.
    let dynamic = Fixture::copy("native-static");
    dynamic.append_to(
        "crates/cpp-greet/Cargo.toml",
        "\n[package.metadata.dockerize]\nstatic = false\n",
    );
    let (_, list) = dynamic.list_json(&[]);
    let cpp = list["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "cpp-greet")
        .unwrap();
    assert_eq!(
        (&cpp["libc"], &cpp["linkage"], &cpp["runtime"]),
        (&"gnu".into(), &"dynamic".into(), &"distroless".into()),
        "{cpp:#}"
    );
    // Forcing musl on the C++ binary says it will not compile, instead of failing silently in the build.
    let forced = Fixture::copy("native-static").run(&["list", "-v", "--libc", "musl"]);
    forced.assert_success("list -v --libc musl");
    assert!(
        forced.stderr.contains("binary `cpp-greet` compiles C++")
            && forced
                .stderr
                .contains("Debian has no C++ compiler for musl"),
        "{}",
        forced.stderr
    );
}

#[test]
fn dev_guesses_protox_needs_no_protoc_and_what_tests_or_build_scripts_link_stays_out_of_the_image()
{
    let g = scenario("dev-guesses", "dev-guesses", &[]);
    let installs: Vec<String> = g
        .runs("chef")
        .into_iter()
        .filter(|r| r.contains("apt-get install"))
        .collect();
    assert_eq!(installs.len(), 1, "one apt-get install: {installs:?}");
    let words: Vec<&str> = installs[0].split_whitespace().collect();
    // The build script links the system zlib (a build-dependency's feature): the builder needs it.
    assert!(words.contains(&"zlib1g-dev"), "{}", installs[0]);
    assert!(g.dockerfile.contains(
        "# pkg-config, zlib1g-dev: `libz-sys` links a system library into a build script"
    ));
    // prost-build with protox: no protoc. libz-sys's C is compiled for the builder's machine: no musl-gcc.
    for absent in ["protobuf-compiler", "musl-tools"] {
        assert!(!words.contains(&absent), "{absent}: {}", installs[0]);
    }
    // Neither the tests' zlib nor the build script's reaches the binary: static musl on scratch.
    assert_eq!(g.base_line("rpc"), "FROM scratch AS rpc");
    assert_eq!(g.binaries("name"), ["rpc"]);
    let rpc = &g.list["binaries"][0];
    assert_eq!(rpc["libc"], "musl");
    assert_eq!(rpc["native_dependencies"], serde_json::json!([]));
    // xtask is a development tool: listed as left out, with the way to bring it in.
    let skipped = &g.list["skipped"];
    assert_eq!(skipped[0]["name"], "xtask", "{skipped}");
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("cargo-xtask") && reason.contains("skip = false"),
        "{reason}"
    );
}

#[test]
fn a_development_tool_is_imaged_when_a_table_says_skip_false() {
    for (manifest, table) in [
        ("xtask/Cargo.toml", "[package.metadata.dockerize]"),
        ("Cargo.toml", "[workspace.metadata.dockerize]"),
    ] {
        let copy = Fixture::copy("dev-guesses");
        copy.append_to(manifest, &format!("\n{table}\nskip = false\n"));
        copy.generate(&[]);
        let (_, list) = copy.list_json(&[]);
        let names: Vec<&str> = list["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["rpc", "xtask"], "{table}");
        assert_eq!(list["skipped"], serde_json::json!([]), "{table}");
        assert!(copy.dockerfile().contains(" AS xtask\n"), "{table}");
    }
    // `skip = true` says the same about any other package; naming the left-out tool says why it is out.
    let copy = Fixture::copy("dev-guesses");
    let run = copy.run(&["list", "--bin", "xtask"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("cargo-xtask"), "{}", run.stderr);
}

#[test]
fn what_only_the_tests_link_is_installed_for_the_test_stage_and_nowhere_else() {
    // dev-guesses without the build script's zlib: only `[dev-dependencies] flate2 = { features = ["zlib"] }`.
    let copy = Fixture::copy("dev-guesses");
    copy.replace_in(
        "rpc/Cargo.toml",
        "flate2 = { version = \"1\", default-features = false, features = [\"zlib\"] }\n\n[dev-dependencies]",
        "\n[dev-dependencies]",
    );
    copy.write(
        "rpc/build.rs",
        "fn main() {\n    let descriptors = protox::compile([\"proto/greeting.proto\"], [\"proto/\"]).unwrap();\n    prost_build::compile_fds(descriptors).unwrap();\n    println!(\"cargo:rustc-env=BUILD_ZLIB_BYTES=0\");\n}\n",
    );
    let dockerfile = copy.generate(&[]);
    assert!(
        dockerfile.contains(
            "# pkg-config, zlib1g-dev: `libz-sys` links a system library into the tests (the `test` stage)"
        ),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("FROM scratch AS rpc\n"));
    let without_tests = copy.generate(&["--no-test-stage"]);
    assert!(
        !without_tests.contains("zlib1g-dev"),
        "no test stage, no zlib: {without_tests}"
    );
}

#[test]
fn several_platforms_cross_compile_on_the_build_platform() {
    let g = scenario("cross", "cross", &[]);
    let file = &g.dockerfile;
    assert!(
        file.contains("FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-slim-bookworm AS chef"),
        "{file}"
    );
    for stage in [
        "builder-gnu-amd64",
        "builder-gnu-arm64",
        "builder-musl-amd64",
        "builder-musl-arm64",
    ] {
        assert!(file.contains(&format!("FROM chef AS {stage}\n")), "{stage}");
    }
    for kind in ["builder-gnu", "builder-musl"] {
        assert!(
            file.contains(&format!(
                "FROM {kind}-${{TARGETARCH}}${{TARGETVARIANT}} AS {kind}\n"
            )),
            "{kind}"
        );
    }
    // Target libraries and cross compilers per platform; the compilers only off the target's own architecture.
    assert!(file.contains("libssl-dev:arm64"), "{file}");
    assert!(file.contains(
        "if [ \"$(dpkg --print-architecture)\" != arm64 ]; then apt-get install -y --no-install-recommends binutils-aarch64-linux-gnu gcc-aarch64-linux-gnu libc6-dev-arm64-cross; fi"
    ));
    assert!(file.contains("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld"));
    assert!(file.contains("CC_aarch64_unknown_linux_musl=aarch64-linux-musl-gcc"));
    // Each platform adds its own Rust target; the shared base none.
    let chef = g.runs("chef").join("\n");
    assert!(!chef.contains("rustup target add"), "{chef}");
    assert!(
        !chef.contains("libssl-dev"),
        "the base has no target library: {chef}"
    );
    assert!(
        chef.contains("pkg-config"),
        "the base has the tools: {chef}"
    );
    let platforms: Vec<String> = g.list["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    // The same workspace for linux/amd64 alone is the Dockerfile every one-platform plan has always had.
    let one = generate_and_check("cross", &["--platform", "linux/amd64"]);
    assert!(!one.dockerfile.contains("BUILDPLATFORM"));
    assert!(!one.dockerfile.contains("TARGETARCH"));
    assert!(one
        .dockerfile
        .contains("RUN rustup target add x86_64-unknown-linux-musl"));
}

/// Issue 23's measure of a Dockerfile a reviewer reads in a minute, comments included: a one-binary workspace's in
/// at most 60 lines, the four-binary workspace the pipeline benchmark builds in at most 100. The machinery is in
/// `.dockerize/`, and images that start alike share their stages.
#[test]
fn the_dockerfile_fits_a_reviewers_screen() {
    for (fixture, most) in [("single-bin", 60), ("bench-services", 100)] {
        let dockerfile = Fixture::copy(fixture).generate(&[]);
        let lines = dockerfile.lines().count();
        assert!(
            lines <= most,
            "{fixture}: {lines} lines, more than {most}\n{dockerfile}"
        );
    }
}
