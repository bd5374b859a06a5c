//! Acceptance 1 and 2 on the `workspace` fixture: three `scratch` images built, checked inside and out,
//! rebuilt after a source edit (dependencies cached, only workspace crates compiled) and rebuilt with nothing
//! changed (everything cached); the JSON events checked against the summary and the engine.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{is_internal, timed, WORKSPACE_BINS, WORKSPACE_VERSION};
use crate::common::docker::DOCKER_INIT_ENTRIES;
use crate::common::steps::parse_step;
use crate::common::{
    engine_lock, events_of, image_entries, inspect_image, run_image, step_name, BuildJson, Fixture,
    TestImages,
};

/// The packages of the `workspace` fixture: the only crates a source edit may recompile.
const WORKSPACE_CRATES: [&str; 4] = ["api", "cli", "common", "worker"];

/// The CA bundle every `scratch` image carries.
const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

/// The non-root user the generated runtime stages run as (distroless's `nonroot`).
const NONROOT: &str = "65532:65532";

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
#[ignore = "needs a Docker engine: cargo test --test e2e_build -- --ignored"]
fn workspace_images_are_small_nonroot_and_rebuild_from_cache() {
    let _engine = engine_lock();
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
