//! End-to-end: `cargo-dockerize` builds real images through a real Docker engine (BuildKit).
//!
//! Each engine test opens with the gate of [`common::engine_gate`] (skip without an engine unless
//! `DOCKERIZE_E2E=1`; engine tests run one at a time), copies its fixture to a fresh temporary directory, tags
//! its images `dz-e2e-build-<pid>-<test>-...` and removes them when it ends, failing or not
//! ([`common::TestImages`]).
//! The no-engine tests (`DOCKER_HOST` pointing nowhere, `--dry-run`) always run.
//!
//! Builds are the expensive part (2 cores, one CI budget), so they are few: one test builds the `workspace`
//! fixture once and checks everything about those images, then edits a source file and rebuilds, then
//! rebuilds with nothing changed. The stand-in toolchain has no musl target, so static images are glibc
//! linked statically (`--libc gnu --static`) on `scratch`, dynamic ones glibc on the distroless stand-in.
//!
//! Run: `DOCKERIZE_E2E=1 cargo test --test e2e_build -- --nocapture --test-threads=1`.

mod common;

use common::steps::parse_step;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use cargo_dockerize::events::Step;
use common::process::{wait_or_kill, RUN_LIMIT};
use common::{
    engine_gate, events_of, image_entries, inspect_image, run, run_image, step_name, BuildJson,
    Fixture, Run, TestImages,
};
use serde_json::Value;

/// The binaries of the `workspace` fixture (stage names equal binary names there) and their version.
const WORKSPACE_BINS: [&str; 3] = ["api", "dz-cli", "worker"];
const WORKSPACE_VERSION: &str = "0.3.0";
/// The packages of the `workspace` fixture: the only crates a source edit may recompile.
const WORKSPACE_CRATES: [&str; 4] = ["api", "cli", "common", "worker"];

/// What Docker itself puts into every container's file system (moby's `daemon/initlayer`, plus
/// `.dockerenv`), and so into every `docker export`: found by exporting a container of a `scratch` image on
/// Engine 20.10. Anything else in an exported image came from the image.
const DOCKER_INIT_ENTRIES: [&str; 12] = [
    ".dockerenv",
    "dev",
    "dev/console",
    "dev/pts",
    "dev/shm",
    "etc",
    "etc/hostname",
    "etc/hosts",
    "etc/mtab",
    "etc/resolv.conf",
    "proc",
    "sys",
];

/// The CA bundle every `scratch` image carries.
const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

/// The non-root user the generated runtime stages run as (distroless's `nonroot`).
const NONROOT: &str = "65532:65532";

fn timed(what: &str, out: &Run) {
    eprintln!("[e2e] {what}: {:.1}s (exit {:?})", out.seconds, out.code);
}

fn is_internal(name: &str) -> bool {
    Step {
        id: String::new(),
        name: name.to_string(),
    }
    .is_internal()
}

/// The first line an image's entrypoint prints.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The JSON events agree with the summary line: one `build-started` and one `image-built` per image, no
/// failure, and the summary names the same images with the same ids, tags, sizes and step counts. Returns
/// the `image-built` events by image.
fn assert_summary_agrees<'a>(
    events: &'a [Value],
    summary: &Value,
    stages: &[&str],
    what: &str,
) -> BTreeMap<String, &'a Value> {
    let expected: BTreeSet<String> = stages.iter().map(|s| s.to_string()).collect();
    let started: Vec<&str> = events_of(events, "build-started")
        .map(|e| e["image"].as_str().unwrap())
        .collect();
    assert_eq!(
        started
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        expected,
        "{what}: one build-started per image"
    );
    assert_eq!(
        started.len(),
        stages.len(),
        "{what}: build-started repeated"
    );
    assert_eq!(
        events_of(events, "image-failed").count(),
        0,
        "{what}: no image fails"
    );
    let mut built = BTreeMap::new();
    for event in events_of(events, "image-built") {
        let image = event["image"].as_str().unwrap().to_string();
        assert!(
            built.insert(image.clone(), event).is_none(),
            "{what}: two image-built events for `{image}`"
        );
    }
    assert_eq!(
        built.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{what}: one image-built per image"
    );
    let images = summary["images"].as_array().expect("summary.images");
    assert_eq!(
        images
            .iter()
            .map(|i| i["image"].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>(),
        expected,
        "{what}: the summary names the images that were built\n{summary}"
    );
    assert_eq!(images.len(), stages.len(), "{what}: summary rows repeated");
    for row in images {
        let image = row["image"].as_str().unwrap();
        let event = built[image];
        assert_eq!(row["status"], "built", "{what}: summary of `{image}`");
        for field in ["id", "tags", "size", "steps_total", "steps_cached"] {
            assert_eq!(
                row[field], event[field],
                "{what}: the summary's `{field}` of `{image}` differs from its image-built event"
            );
        }
        assert!(
            row["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("sha256:")),
            "{what}: id of `{image}`: {row}"
        );
        assert!(
            row["size"].as_u64().is_some_and(|s| s > 0),
            "{what}: size of `{image}`: {row}"
        );
    }
    built
}

/// Each built image's id, as the events report it, is the id the engine holds under every tag.
fn assert_ids_match_engine(built: &BTreeMap<String, &Value>, what: &str) {
    for (image, event) in built {
        for tag in event["tags"].as_array().expect("tags") {
            let tag = tag.as_str().unwrap();
            let inspected = inspect_image(tag)
                .unwrap_or_else(|| panic!("{what}: `{tag}` of `{image}` is not in the engine"));
            assert_eq!(
                inspected["Id"], event["id"],
                "{what}: `{tag}` is not the image the events report"
            );
        }
    }
}

/// A `scratch` image from the `workspace` fixture: both tags, runs, non-root, and holds nothing but its
/// binary and the CA bundle.
fn check_scratch_image(images: &TestImages, bin: &str) {
    let versioned = images.tag(bin, WORKSPACE_VERSION);
    let latest = images.tag(bin, "latest");
    let image = inspect_image(&versioned)
        .unwrap_or_else(|| panic!("no image `{versioned}` after the build"));
    let also =
        inspect_image(&latest).unwrap_or_else(|| panic!("no image `{latest}` after the build"));
    assert_eq!(
        image["Id"], also["Id"],
        "`{versioned}` and `{latest}` are one image"
    );

    let config = &image["Config"];
    assert_eq!(
        config["User"], NONROOT,
        "`{bin}` must run as non-root: {config}"
    );
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!([format!("/usr/local/bin/{bin}")]),
        "`{bin}`'s entrypoint"
    );
    let layers = image["RootFS"]["Layers"].as_array().expect("RootFS.Layers");
    assert!(
        !layers.is_empty() && layers.len() <= 2,
        "`{bin}`: a scratch image has the CA bundle and the binary, nothing else: {layers:?}"
    );

    let output = run_image(&versioned);
    assert_eq!(
        first_line(&output),
        format!("hello from {bin}"),
        "`{bin}` runs"
    );

    let binary = format!("usr/local/bin/{bin}");
    let mut allowed: BTreeSet<String> = DOCKER_INIT_ENTRIES.iter().map(|s| s.to_string()).collect();
    allowed.extend(
        [
            "etc/ssl",
            "etc/ssl/certs",
            CA_BUNDLE,
            "usr",
            "usr/local",
            "usr/local/bin",
            binary.as_str(),
        ]
        .map(String::from),
    );
    let entries = image_entries(&versioned);
    let unexpected: Vec<&str> = entries
        .iter()
        .map(|e| e.path.as_str())
        .filter(|p| !allowed.contains(*p))
        .collect();
    assert!(
        unexpected.is_empty(),
        "`{bin}` holds more than its binary and the CA bundle: {unexpected:?}\nall: {:?}",
        entries.iter().map(|e| &e.path).collect::<Vec<_>>()
    );
    let find = |path: &str| entries.iter().find(|e| e.path == path);
    let exe = find(&binary).unwrap_or_else(|| panic!("`{bin}` has no {binary}"));
    assert!(
        !exe.is_dir && exe.size > 0 && exe.mode & 0o111 != 0,
        "{binary} is an executable file: {exe:?}"
    );
    let ca = find(CA_BUNDLE).unwrap_or_else(|| panic!("`{bin}` has no {CA_BUNDLE}"));
    assert!(!ca.is_dir && ca.size > 0, "{CA_BUNDLE} is a file: {ca:?}");
}

/// Acceptance 1 and 2: build the multi-binary workspace; check every image; edit one binary's source and
/// rebuild (dependencies stay cached, only workspace crates compile); rebuild with nothing changed (all
/// cached). One test, so the three builds share one fixture copy and one warm cache.
#[test]
fn workspace_images_are_small_nonroot_and_rebuild_from_cache() {
    let Some(_engine) = engine_gate("workspace_images_are_small_nonroot_and_rebuild_from_cache")
    else {
        return;
    };
    let images = TestImages::new("ws");
    let fixture = Fixture::copy("workspace");
    let versioned = images.template("{version}");
    let latest = images.template("latest");
    let args = ["--libc", "gnu", "--static", "-t", &versioned, "-t", &latest];

    // 1. The first build, human output.
    let out = fixture.run(&args);
    timed("workspace: first build", &out);
    out.assert_code(0, "first build");
    assert!(
        out.stderr.contains("built 3 of 3 image(s)"),
        "{}",
        out.describe("first build")
    );
    for bin in WORKSPACE_BINS {
        check_scratch_image(&images, bin);
    }

    // 2. Edit one binary's source, rebuild with JSON events.
    let greeting = edit_api_greeting(&fixture);
    let mut json_args = args.to_vec();
    json_args.extend(["--message-format", "json"]);
    let out = fixture.run(&json_args);
    timed("workspace: rebuild after editing api", &out);
    out.assert_code(0, "rebuild after an edit");
    let BuildJson {
        events, summary, ..
    } = BuildJson::parse(&out, "rebuild after an edit");
    let built = assert_summary_agrees(&events, &summary, &WORKSPACE_BINS, "rebuild after an edit");
    assert_ids_match_engine(&built, "rebuild after an edit");
    assert_only_workspace_crates_recompiled(&events);
    assert_eq!(
        first_line(&run_image(&images.tag("api", WORKSPACE_VERSION))),
        greeting,
        "the edited binary prints its new text"
    );
    assert_eq!(
        first_line(&run_image(&images.tag("worker", "latest"))),
        "hello from worker",
        "the other binaries are unchanged"
    );

    // 3. Rebuild with nothing changed.
    let out = fixture.run(&json_args);
    timed("workspace: rebuild with nothing changed", &out);
    out.assert_code(0, "rebuild with nothing changed");
    let BuildJson {
        events, summary, ..
    } = BuildJson::parse(&out, "rebuild with nothing changed");
    let built = assert_summary_agrees(
        &events,
        &summary,
        &WORKSPACE_BINS,
        "rebuild with nothing changed",
    );
    assert_ids_match_engine(&built, "rebuild with nothing changed");
    assert_everything_cached(&events, &built);
}

/// Makes the `workspace` fixture's `api` print a new greeting, unique to this run (a rebuild of a text an
/// earlier run built would come from the cache and show nothing); returns the greeting.
fn edit_api_greeting(fixture: &Fixture) -> String {
    let main_rs = "crates/api/src/main.rs";
    let source = fixture.read(main_rs);
    let greeting = format!("hello again from api ({})", std::process::id());
    let edited = source.replace("hello from api", &greeting);
    assert_ne!(edited, source, "the fixture's api prints `hello from api`");
    fixture.write(main_rs, &edited);
    greeting
}

/// The builder's steps by number, from the events of a rebuild.
fn builder_steps(events: &[Value]) -> BTreeMap<u32, String> {
    events
        .iter()
        .filter_map(|e| {
            let (stage, n, _) = parse_step(step_name(e))?;
            (stage == "builder").then(|| (n, step_name(e).to_string()))
        })
        .collect()
}

/// After a source edit: the builder's dependency step (the `RUN cargo build` before `COPY . .`) came from
/// the cache for every image, the final build step (after `COPY . .`) ran and compiled the edited `api`, and
/// no crate but the workspace's compiled.
fn assert_only_workspace_crates_recompiled(events: &[Value]) {
    // The builder's steps, in order: COPY --from=planner, RUN cargo build (dependencies), COPY . ., the build.
    let builder_steps = builder_steps(events);
    let instruction = |name: &str| parse_step(name).map(|(_, _, i)| i.to_string()).unwrap();
    let copy_sources = builder_steps
        .iter()
        .find(|(_, name)| instruction(name) == "COPY . .")
        .map(|(n, _)| *n)
        .unwrap_or_else(|| panic!("no `[builder n/m] COPY . .` step: {builder_steps:?}"));
    let dependency_step = builder_steps
        .iter()
        .find(|(n, name)| **n < copy_sources && instruction(name).starts_with("RUN cargo build"))
        .map(|(_, name)| name.clone())
        .unwrap_or_else(|| panic!("no dependency step before `COPY . .`: {builder_steps:?}"));
    let final_step = builder_steps
        .iter()
        .rev()
        .find(|(n, name)| **n > copy_sources && instruction(name).contains("cargo build"))
        .map(|(_, name)| name.clone())
        .unwrap_or_else(|| panic!("no build step after `COPY . .`: {builder_steps:?}"));
    for bin in WORKSPACE_BINS {
        let of_image: Vec<&Value> = events
            .iter()
            .filter(|e| e["image"] == bin && step_name(e) == dependency_step)
            .collect();
        assert!(
            !of_image.is_empty() && of_image.iter().all(|e| e["event"] == "step-cached"),
            "`{bin}`: after a source edit the dependency step `{dependency_step}` must be step-cached, got {of_image:#?}"
        );
    }
    assert!(
        events_of(events, "step-started").any(|e| step_name(e) == final_step),
        "the final build step `{final_step}` must run after a source edit"
    );
    let compiled: Vec<(String, String)> = events_of(events, "step-log")
        .filter_map(|e| {
            let line = e["line"].as_str()?.trim();
            let krate = line.strip_prefix("Compiling ")?.split_whitespace().next()?;
            Some((step_name(e).to_string(), krate.to_string()))
        })
        .collect();
    let in_final: BTreeSet<&str> = compiled
        .iter()
        .filter(|(step, _)| *step == final_step)
        .map(|(_, krate)| krate.as_str())
        .collect();
    assert!(
        in_final.contains("api"),
        "the final step compiles the edited `api`: {compiled:?}"
    );
    let foreign: Vec<&(String, String)> = compiled
        .iter()
        .filter(|(_, krate)| !WORKSPACE_CRATES.contains(&krate.as_str()))
        .collect();
    assert!(
        foreign.is_empty(),
        "after a source edit only workspace crates compile, not dependencies (itoa): {foreign:?}"
    );
}

/// With nothing changed, no step ran again and every counted step of every image came from the cache.
fn assert_everything_cached(events: &[Value], built: &BTreeMap<String, &Value>) {
    // Nothing of the Dockerfile ran again. BuildKit resolves a `FROM` image anew each build and reports it
    // as run, never cached, so `FROM` is left out of this check (but not of the counts below).
    let ran: BTreeSet<String> = events_of(events, "step-started")
        .map(step_name)
        .filter(|name| !is_internal(name))
        .filter(|name| !parse_step(name).is_some_and(|(_, _, i)| i.starts_with("FROM ")))
        .map(String::from)
        .collect();
    assert!(
        ran.is_empty(),
        "with nothing changed no step may run again, but these did: {ran:#?}"
    );
    // What the user reads in the summary table: every counted step came from the cache.
    for (image, event) in built {
        let not_cached: BTreeSet<&str> = events
            .iter()
            .filter(|e| e["image"] == image.as_str())
            .filter(|e| e["event"] == "step-started" || e["event"] == "step-finished")
            .map(step_name)
            .filter(|name| !is_internal(name))
            .collect();
        assert_eq!(
            event["steps_cached"], event["steps_total"],
            "`{image}`: with nothing changed every non-internal step must count as cached \
             (image-built: {event}); steps reported as run, not cached: {not_cached:?}"
        );
    }
}

/// Acceptance 3: a binary linking the system OpenSSL gets the distroless (glibc) runtime, runs there and
/// prints the OpenSSL version, as non-root.
#[test]
fn native_openssl_runs_on_distroless() {
    let Some(_engine) = engine_gate("native_openssl_runs_on_distroless") else {
        return;
    };
    let images = TestImages::new("ossl");
    let fixture = Fixture::copy("native-openssl");
    let out = fixture.run(&["--libc", "gnu", "-t", &images.template("{version}")]);
    timed("native-openssl: build", &out);
    out.assert_code(0, "native-openssl build");
    let reference = images.tag("native-openssl", "0.1.0");
    let image = inspect_image(&reference).unwrap_or_else(|| panic!("no image `{reference}`"));

    // FROM the distroless stand-in: the generated stage names it, and the image's layers start with its layers.
    let dockerfile = std::fs::read_to_string(fixture.path("Dockerfile")).expect("the Dockerfile");
    let base = dockerfile
        .lines()
        .find_map(|l| {
            l.strip_prefix("FROM ")?
                .strip_suffix(" AS native-openssl")
                .map(str::trim)
        })
        .unwrap_or_else(|| panic!("no `FROM ... AS native-openssl` stage:\n{dockerfile}"));
    assert!(
        base.starts_with("gcr.io/distroless/cc"),
        "a glibc binary with native libraries runs on distroless cc, not `{base}`"
    );
    let base_image = inspect_image(base).unwrap_or_else(|| panic!("no base image `{base}`"));
    let base_layers = base_image["RootFS"]["Layers"].as_array().expect("layers");
    let layers = image["RootFS"]["Layers"].as_array().expect("layers");
    assert!(
        layers.len() > base_layers.len() && layers[..base_layers.len()] == base_layers[..],
        "`{reference}` is built FROM `{base}`: its layers must start with the base's"
    );

    let user = image["Config"]["User"].as_str().unwrap_or_default();
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        !matches!(uid, "" | "0" | "root"),
        "`{reference}` must run as non-root, runs as `{user}`"
    );

    let output = run_image(&reference);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("hello from native-openssl"),
        "{output}"
    );
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with("OpenSSL ")),
        "the second line is the OpenSSL version: {output}"
    );
}

/// Acceptance 4: a compile error fails the build with exit code 4 and shows the compiler's error, on stderr
/// in human mode and in the `image-failed` event's `log_tail` in JSON mode; nothing is tagged.
#[test]
fn compile_error_fails_with_the_compilers_message() {
    let Some(_engine) = engine_gate("compile_error_fails_with_the_compilers_message") else {
        return;
    };
    let images = TestImages::new("cerr");
    let fixture = Fixture::copy("compile-error");
    let template = images.template("{version}");
    let args = ["--libc", "gnu", "--static", "-t", &template];

    let out = fixture.run(&args);
    timed("compile-error: human build", &out);
    out.assert_code(4, "compile-error build");
    for needle in ["error[E0308]", "mismatched types"] {
        assert!(
            out.stderr.contains(needle),
            "stderr must show the compiler's `{needle}`\n{}",
            out.describe("compile-error build")
        );
    }
    assert!(
        out.stderr.lines().any(|l| l.starts_with("error:")),
        "an `error:` line\n{}",
        out.stderr
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--message-format", "json"]);
    let out = fixture.run(&json_args);
    timed("compile-error: JSON build", &out);
    out.assert_code(4, "compile-error build, JSON");
    let BuildJson {
        events, summary, ..
    } = BuildJson::parse(&out, "compile-error build, JSON");
    let failed: Vec<&Value> = events_of(&events, "image-failed").collect();
    assert_eq!(failed.len(), 1, "one image-failed event: {failed:#?}");
    let failed = failed[0];
    assert_eq!(failed["image"], "compile-error");
    let tail: Vec<&str> = failed["log_tail"]
        .as_array()
        .expect("log_tail")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tail.iter().any(|l| l.contains("error[E0308]"))
            && tail.iter().any(|l| l.contains("mismatched types")),
        "the image-failed event's log_tail carries the compiler's error: {failed:#}"
    );
    assert!(
        step_name(failed).contains("cargo build"),
        "the failed step is the build: {failed}"
    );
    assert_eq!(summary["images"][0]["status"], "failed", "{summary}");
    assert_eq!(
        images.existing(),
        Vec::<String>::new(),
        "a failed build tags nothing"
    );
}

/// Acceptance 5: the tool against an engine that is not there; no gate, no engine needed.
fn assert_no_engine(host: &str) -> Run {
    let fixture = Fixture::copy("workspace");
    let mut command = fixture.command(&[
        "--libc",
        "gnu",
        "--static",
        "-t",
        "dze2e-noengine-{bin}:{version}",
    ]);
    command
        .env("DOCKER_HOST", host)
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .env_remove("DOCKER_CONTEXT");
    let out = run(&mut command);
    timed(&format!("no engine at {host}"), &out);
    let what = format!("DOCKER_HOST={host} cargo-dockerize");
    let error = out.assert_one_error(5, &what);
    assert!(
        error.contains(host),
        "the error names the host `{host}`: {error}"
    );
    let dockerfile = std::fs::read_to_string(fixture.path("Dockerfile"))
        .unwrap_or_else(|e| panic!("the Dockerfile is written before the engine is tried: {e}"));
    for bin in WORKSPACE_BINS {
        assert!(
            dockerfile.contains(&format!(" AS {bin}\n")),
            "the written Dockerfile has the `{bin}` stage"
        );
    }
    assert!(
        fixture.path(".dockerignore").is_file(),
        "the .dockerignore is written too"
    );
    out
}

#[test]
fn no_engine_at_a_missing_socket_exits_5_after_writing_the_dockerfile() {
    assert_no_engine("unix:///nonexistent.sock");
}

#[test]
fn no_engine_at_a_closed_port_exits_5_after_writing_the_dockerfile() {
    assert_no_engine("tcp://127.0.0.1:1");
}

/// The cause below the `error:` line says why the engine did not answer (STYLE.md: the cause chain is
/// printed below the message). For a missing socket bollard says `Socket not found: /nonexistent.sock`.
#[test]
fn no_engine_error_shows_its_cause() {
    let out = assert_no_engine("unix:///nonexistent.sock");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.trim_start().starts_with("caused by:") && l.contains("/nonexistent.sock")),
        "a `caused by:` line must say why `unix:///nonexistent.sock` did not answer\n{}",
        out.stderr
    );
}

/// Acceptance 6: `--dry-run` prints the plan, writes nothing and needs no engine.
#[test]
fn dry_run_prints_targets_and_tags_without_files_or_engine() {
    let fixture = Fixture::copy("workspace");
    let mut command = fixture.command(&[
        "--libc",
        "gnu",
        "--static",
        "--dry-run",
        "-t",
        "dze2e-dry-{bin}:{version}",
        "-t",
        "dze2e-dry-{bin}:latest",
    ]);
    command.env("DOCKER_HOST", "unix:///nonexistent.sock");
    let out = run(&mut command);
    timed("dry run", &out);
    out.assert_code(0, "--dry-run");
    for bin in WORKSPACE_BINS {
        let line = out
            .stdout
            .lines()
            .find(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.windows(2).any(|w| w == ["--target", bin])
            })
            .unwrap_or_else(|| panic!("no `--target {bin}` line\n{}", out.describe("--dry-run")));
        for tag in [
            format!("dze2e-dry-{bin}:{WORKSPACE_VERSION}"),
            format!("dze2e-dry-{bin}:latest"),
        ] {
            assert!(line.contains(&tag), "`{bin}`'s line names `{tag}`: {line}");
        }
    }
    for file in ["Dockerfile", ".dockerignore"] {
        assert!(!fixture.path(file).exists(), "--dry-run writes no {file}");
    }
}

/// Acceptance 7: Ctrl-C in the middle of a build exits 130, and no image with the build's tags exists.
#[test]
fn interrupt_cancels_the_build_and_tags_nothing() {
    use std::io::BufRead as _;
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::Stdio;

    let Some(_engine) = engine_gate("interrupt_cancels_the_build_and_tags_nothing") else {
        return;
    };
    let images = TestImages::new("int");
    let fixture = Fixture::copy("native-openssl");
    // --no-cache: the dependency step (openssl-sys and openssl, about 25s on 2 cores) really runs, so the
    // interrupt lands in the middle of a step, not after the build.
    let mut command = fixture.command(&[
        "--libc",
        "gnu",
        "--no-cache",
        "-t",
        &images.template("{version}"),
    ]);
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cargo-dockerize");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Plain progress lines: `<image> | [builder 2/4] RUN cargo build ...` when a step starts.
    let mut seen = Vec::new();
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        let line = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(why) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "no `RUN cargo build` step started ({why:?}, exit {status:?}); stderr:\n{}",
                    seen.join("\n")
                );
            }
        };
        let started_step = line
            .split_once(" | ")
            .is_some_and(|(_, rest)| rest.starts_with('[') && rest.contains("RUN cargo build"));
        seen.push(line);
        if started_step {
            break;
        }
    }
    eprintln!(
        "[e2e] interrupt: a cargo build step started after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(1));
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -INT failed");
    let Some(status) = wait_or_kill(&mut child, Duration::from_secs(60)) else {
        panic!("cargo-dockerize did not exit within 60s of SIGINT");
    };
    eprintln!(
        "[e2e] interrupt: exited {:.1}s after SIGINT",
        signalled.elapsed().as_secs_f64()
    );
    reader.join().expect("stderr reader");
    seen.extend(rx.try_iter());
    let stderr = seen.join("\n");
    assert_eq!(
        status.code(),
        Some(130),
        "SIGINT must end the build with exit code 130 (status {status:?}, signal {:?}); stderr:\n{stderr}",
        status.signal()
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("error:") && l.contains("interrupted")),
        "an `error: interrupted` line; stderr:\n{stderr}"
    );
    assert_eq!(
        images.existing(),
        Vec::<String>::new(),
        "an interrupted build tags nothing"
    );
    // A build the engine kept running would tag its image when it ends: look again a little later.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        images.existing(),
        Vec::<String>::new(),
        "an interrupted build must be cancelled in the engine, not tagged later"
    );
}

/// The classic builder (what Podman's API offers): the same Dockerfile builds, the tool says it fell back, and
/// the plain line-per-step progress reports the classic builder's steps.
#[test]
fn classic_builder_builds_the_same_dockerfile_and_says_so() {
    let Some(_engine) = engine_gate("classic_builder_builds_the_same_dockerfile_and_says_so")
    else {
        return;
    };
    let images = TestImages::new("classic");
    let fixture = Fixture::copy("single-bin");
    let out = fixture.run(&[
        "--libc",
        "gnu",
        "--static",
        "--builder",
        "classic",
        "-t",
        &images.template("{version}"),
    ]);
    timed("single-bin: classic builder", &out);
    out.assert_code(0, "classic build");
    assert!(
        out.stderr.contains("classic builder"),
        "the fallback is announced\n{}",
        out.describe("classic build")
    );
    assert!(
        out.stderr.contains("built 1 of 1 image(s)"),
        "{}",
        out.describe("classic build")
    );
    let reference = images.tag("single-bin", "0.1.0");
    assert!(
        run_image(&reference).starts_with("hello from single-bin"),
        "the image runs"
    );
}
