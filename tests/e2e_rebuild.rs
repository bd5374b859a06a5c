//! Rebuilds against a real engine, on the default path (static musl on `scratch`): the compile cache recompiles
//! only what an edit touched and never leaves a stale binary (after edits, reverts, a failed build, a changed
//! dependency, `--no-cache`, the classic builder); release images hold stripped executables; the debug variant
//! holds the unstripped one, with a shell.
//!
//! Each test is `#[ignore]`d (run: `--ignored`), holds the engine lock (an engine must answer), and tags its images
//! under a [`TestImages`] guard. Tests that share a fixture share its compile cache (the id is the workspace's),
//! so every assertion about what recompiled compares two builds of the same test, one right after the other.

mod common;

use std::collections::BTreeSet;

use common::{engine_lock, events_of, run_image, step_name, BuildJson, Fixture, TestImages};

/// The crates the final compile (the step with the compile cache) compiled, by name.
fn compiled(build: &BuildJson) -> BTreeSet<String> {
    events_of(&build.events, "step-log")
        .filter(|e| step_name(e).contains("--mount=type=cache"))
        .filter_map(|e| e["line"].as_str())
        .filter_map(|line| line.trim().strip_prefix("Compiling "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// What an engine test here starts from: the engine lock, its image guard, a fixture copy, and the `-t` template
/// that tags its images under the guard.
struct Setup {
    _engine: std::sync::MutexGuard<'static, ()>,
    images: TestImages,
    fixture: Fixture,
    tags: String,
}

fn setup(key: &str, fixture: &str) -> Setup {
    let engine = engine_lock();
    let images = TestImages::new(key);
    let tags = images.template("{version}");
    Setup {
        _engine: engine,
        images,
        fixture: Fixture::copy(fixture),
        tags,
    }
}

/// Text no earlier build has seen, so that an edit never meets a layer the engine cached in an earlier run.
fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{what} {}-{nanos}", std::process::id())
}

/// Whether the build ran the dependency step (the cook: `RUN cargo build` without the compile cache's mount).
fn cooked(build: &BuildJson) -> bool {
    build
        .steps("step-started")
        .iter()
        .any(|s| s.contains("RUN cargo build") && !s.contains("--mount"))
}

/// The first line an image prints.
fn greeting(reference: &str) -> String {
    run_image(reference)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

const WORKER_MAIN: &str = "crates/worker/src/main.rs";
const COMMON_LIB: &str = "crates/common/src/lib.rs";

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_rebuild -- --ignored"]
fn compile_cache_recompiles_what_changed_and_never_leaves_a_stale_binary() {
    let Setup {
        _engine,
        images,
        fixture,
        tags,
    } = setup("cache", "workspace");
    let build = |extra: &[&str]| {
        let mut args = vec!["-t", tags.as_str()];
        args.extend_from_slice(extra);
        fixture.build_json(&args)
    };
    let worker = images.tag("worker", "0.3.0");
    let api = images.tag("api", "0.3.0");
    // Sources no earlier run built, so this build compiles into the cache (other tests share it) and records them.
    fixture.append_to(COMMON_LIB, &format!("// {}\n", unique("this run")));
    build(&[]);

    // An edit recompiles its crate only, and the image has the edit.
    let again = unique("hello again from worker");
    fixture.replace_in(WORKER_MAIN, "hello from worker", &again);
    let edited = build(&[]);
    assert_eq!(compiled(&edited), BTreeSet::from(["worker".to_string()]));
    assert_eq!(greeting(&worker), again);

    // Back to the old text: a content the cache saw before is still an edit since the last build.
    fixture.replace_in(WORKER_MAIN, &again, "hello from worker");
    build(&[]);
    assert_eq!(greeting(&worker), "hello from worker");

    // A build that fails after compiling an edited library, then the library back as it was and a new worker (so
    // no earlier layer matches): the library is compiled again, and no image holds its failed edit.
    let original_worker = fixture.read(WORKER_MAIN);
    let v2 = unique("[common v2]");
    fixture.replace_in(COMMON_LIB, "[common]", &v2);
    fixture.append_to(WORKER_MAIN, "\nfn broken() -> u32 { \"not a number\" }\n");
    let failed = fixture.run(&["build", "-t", &tags, "--message-format", "json"]);
    failed.assert_code(4, "a build with a compile error");
    fixture.replace_in(COMMON_LIB, &v2, "[common]");
    let after_failure = unique("hello after a failure from worker");
    fixture.write(
        WORKER_MAIN,
        &original_worker.replace("hello from worker", &after_failure),
    );
    let after = build(&[]);
    assert!(
        compiled(&after).contains("common"),
        "the library compiled in the failed build is compiled again: {:?}",
        compiled(&after)
    );
    for (reference, name, first) in [
        (&worker, "worker", after_failure.as_str()),
        (&api, "api", "hello from api"),
    ] {
        let output = run_image(reference);
        assert_eq!(
            output,
            format!("{first}\n[common] {name} ({} chars)\n", name.len()),
            "`{reference}` holds the sources as they are"
        );
    }

    // `--no-cache` and the classic builder build the same sources, correctly.
    fixture.replace_in(
        "crates/api/src/main.rs",
        "hello from api",
        "hello uncached api",
    );
    build(&["--no-cache"]);
    assert_eq!(greeting(&api), "hello uncached api");
    let classic_text = unique("hello classic api");
    fixture.replace_in(
        "crates/api/src/main.rs",
        "hello uncached api",
        &classic_text,
    );
    let classic = fixture.run(&["build", "--builder", "classic", "-t", &tags]);
    classic.assert_code(0, "the classic builder");
    assert_eq!(greeting(&api), classic_text);
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_rebuild -- --ignored"]
fn a_changed_dependency_reaches_the_binary() {
    // `shared-lib` is a path package outside the workspace: a dependency, cooked from its real sources.
    let Setup {
        _engine,
        images,
        fixture,
        tags,
    } = setup("dep", "path-outside/app");
    fixture.build_json(&["-t", &tags]);
    let reference = images.tag("outside-app", "0.1.0");
    let before = run_image(&reference);
    let library = fixture.outside.join("path-outside/shared-lib/src/lib.rs");
    let text = std::fs::read_to_string(&library).expect("the library's source");
    let message = before.lines().nth(1).expect("the library's line");
    assert!(
        text.contains(message),
        "{message:?} comes from {}",
        library.display()
    );
    let new_message = unique("a new message from shared-lib");
    std::fs::write(&library, text.replace(message, &new_message)).expect("edit the library");
    let rebuilt = fixture.build_json(&["-t", &tags]);
    assert!(cooked(&rebuilt), "the dependency layer is cooked again");
    assert_eq!(
        run_image(&reference).lines().nth(1),
        Some(new_message.as_str())
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_rebuild -- --ignored"]
fn release_images_are_stripped_and_the_debug_variant_is_not() {
    let Setup {
        _engine,
        images,
        fixture,
        tags,
    } = setup("debug", "workspace");
    fixture.build_json(&["--bin", "api", "-t", &tags]);
    let debug = fixture.build_json(&["--bin", "api", "--debug", "-t", &tags]);
    let release = images.tag("api", "0.3.0");
    let variant = images.tag("api", "0.3.0-debug");
    assert_eq!(debug.summary["images"][0]["image"], "api-debug");
    assert_eq!(
        greeting(&variant),
        "hello from api",
        "the debug variant runs the binary"
    );

    // A shell, the same non-root user, and the unstripped binary with its symbol table.
    let in_shell = |script: &str| {
        common::docker::run_container(&[
            "--network",
            "none",
            "--entrypoint",
            "sh",
            &variant,
            "-c",
            script,
        ])
    };
    let shell = in_shell("id -u; wc -c < /usr/local/bin/api");
    let lines: Vec<&str> = shell.lines().collect();
    assert_eq!(lines.first().copied(), Some("65532"), "{shell}");
    let unstripped: u64 = lines[1].trim().parse().expect("a size");
    let symtab = in_shell("grep -c -a .symtab /usr/local/bin/api");
    assert_ne!(
        symtab.trim(),
        "0",
        "the debug binary keeps its symbol table"
    );

    let entries = common::image_entries(&release);
    let binary = entries
        .iter()
        .find(|e| e.path == "usr/local/bin/api")
        .unwrap_or_else(|| panic!("no binary in `{release}`: {entries:?}"));
    assert!(
        binary.size < unstripped,
        "the release binary ({} bytes) is stripped, the debug one ({unstripped} bytes) is not",
        binary.size
    );
}

/// One Dockerfile serves every image: building all of them, then one after an edit, then another, never runs the
/// dependency step again and never changes the file, so `generate --check` passes after each build.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_rebuild -- --ignored"]
fn selecting_images_never_changes_the_dockerfile_or_the_dependency_layer() {
    let Setup {
        _engine,
        images,
        fixture,
        tags,
    } = setup("select", "workspace");
    let all = fixture.build_json(&["-t", &tags]);
    assert_eq!(all.summary["images"].as_array().map(Vec::len), Some(3));
    let committed = fixture.dockerfile();

    // One image compiles its binary alone (`DOCKERIZE_IMAGES`), even after an edit every binary depends on...
    let banner = unique("[common edited]");
    fixture.replace_in(COMMON_LIB, "[common]", &banner);
    let one = fixture.build_json(&["--bin", "worker", "-t", &tags]);
    assert_eq!(
        compiled(&one),
        BTreeSet::from(["common".to_string(), "worker".to_string()]),
        "`--bin worker` after a library edit compiles the library and that binary only"
    );
    assert!(!cooked(&one), "{:?}", one.steps("step-started"));
    assert!(run_image(&images.tag("worker", "0.3.0")).contains(&banner));
    // ...and the next build of every image compiles the binaries it left behind: the cache's older ones, built
    // before the edit, are never shipped.
    let rest = fixture.build_json(&["-t", &tags]);
    assert_eq!(
        compiled(&rest),
        BTreeSet::from(["api".to_string(), "cli".to_string()])
    );
    for bin in ["api", "dz-cli", "worker"] {
        let output = run_image(&images.tag(bin, "0.3.0"));
        assert!(output.contains(&banner), "`{bin}` has the edit: {output}");
    }
    for (bin, file) in [("worker", WORKER_MAIN), ("api", "crates/api/src/main.rs")] {
        let edit = unique(&format!("hello edited {bin}"));
        fixture.replace_in(file, &format!("hello from {bin}"), &edit);
        let one = fixture.build_json(&["--bin", bin, "-t", &tags]);
        let built: Vec<&str> = one.summary["images"]
            .as_array()
            .expect("images")
            .iter()
            .filter_map(|i| i["binary"].as_str())
            .collect();
        assert_eq!(built, [bin], "`--bin {bin}` builds that image only");
        assert!(
            !cooked(&one),
            "`--bin {bin}` after an edit runs no dependency step: {:?}",
            one.steps("step-started")
        );
        assert_eq!(greeting(&images.tag(bin, "0.3.0")), edit);
        assert_eq!(
            fixture.dockerfile(),
            committed,
            "`--bin` never changes the file"
        );
        let check = fixture.run(&["generate", "--check"]);
        check.assert_code(0, "generate --check after `build --bin`");
    }
}
