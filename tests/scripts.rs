//! The scripts `generate` writes beside the Dockerfile (`.dockerize/`), on their own, without an engine.
//!
//! Every shell file passes shellcheck and every perl file `perl -c`. Then `build.sh compile` runs on the host in a
//! sandbox laid out as the builder stage is (the context as working directory, `CARGO_TARGET_DIR` at its top),
//! with a stand-in `cargo` and `strip` first on `PATH`: it must build the images `DOCKERIZE_IMAGES` wants and no
//! other, copy their binaries out stripped (or not) and unstripped, seed the compile cache from the cooked layer
//! when, and only when, its mark changes, and date the sources by their content. `build.sh recipe` must mark the
//! recipe with its digest (the recipe itself is `tests/recipe.rs`'s).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use common::{run, Fixture, Run};
use sha2::Digest as _;

/// The generated scripts of a fixture copy, and where they are.
fn generated() -> (Fixture, PathBuf) {
    let fixture = Fixture::copy("single-bin");
    fixture.generate(&[]);
    let dir = fixture.path(".dockerize");
    (fixture, dir)
}

#[test]
fn every_shell_script_passes_shellcheck_and_every_perl_script_compiles() {
    let (_fixture, dir) = generated();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the scripts' directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["auditable.pl", "build.sh", "date.pl", "recipe.pl"]);
    for name in &names {
        let path = dir.join(name);
        let mut check = if name.ends_with(".sh") {
            let mut shellcheck = Command::new("shellcheck");
            shellcheck
                .args(["--shell=sh", "--severity=style"])
                .arg(&path);
            shellcheck
        } else {
            let mut perl = Command::new("perl");
            perl.arg("-c").arg(&path);
            perl
        };
        let out = check.output().unwrap_or_else(|e| {
            panic!("failed to run the checker of {name} (`apt-get install shellcheck`?): {e}")
        });
        assert!(
            out.status.success(),
            "{name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A builder stage on the host: `app/` is the context and the working directory, `app/target/` the cooked target
/// directory (`CARGO_TARGET_DIR`), `cache/` the cache mount, `out/` where binaries go; `bin/` holds the stand-ins.
struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    script: PathBuf,
}

/// A `cargo` that "compiles" each `--bin` into `$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release/<bin>` and logs
/// its arguments and target directory, one line a call; as `cargo tree`, it prints a tree of two packages.
const CARGO: &str = "#!/bin/sh\nlog=\"$(dirname \"$0\")/../cargo.log\"\necho \"$* @ $CARGO_TARGET_DIR\" >> \"$log\"\n\
    if [ \"$1\" = tree ]; then printf '%s\\n' 'alpha v0.1.0 (/app/alpha)|' '`-- itoa v1.0.0|' '' \
    'beta v0.2.0 (/app/beta)|' '`-- ryu v1.0.0|'; exit 0; fi\n\
    out=\"$CARGO_TARGET_DIR/x86_64-unknown-linux-musl/release\"\nmkdir -p \"$out\"\n\
    while [ $# -gt 0 ]; do [ \"$1\" = --bin ] && echo \"binary $2\" > \"$out/$2\"; shift; done\n";

/// A `strip --strip-all -o OUT IN` that copies IN to OUT and says so in it.
const STRIP: &str = "#!/bin/sh\ncp \"$4\" \"$3\" && echo stripped >> \"$3\"\n";

/// An `objcopy --add-section .dep-v0=FILE --set-section-flags .dep-v0=readonly BIN` that appends to BIN the
/// section's name and the JSON auditable.pl wrote beside it (FILE must not be empty).
const OBJCOPY: &str = "#!/bin/sh\nfile=${2#*=}\n[ \"$1 $3 $4\" = '--add-section --set-section-flags .dep-v0=readonly' ] \
    && [ -s \"$file\" ] || exit 1\n{ printf '%s ' \"${2%%=*}\"; cat \"${file%.dep-v0}.json\"; echo; } >> \"$5\"\n";

impl Sandbox {
    fn new() -> Self {
        let (_fixture, dir) = generated();
        let tmp = tempfile::tempdir().expect("a sandbox");
        let root = tmp.path().to_path_buf();
        for dir in ["app/src", "app/target/deps", "cache", "bin"] {
            std::fs::create_dir_all(root.join(dir)).expect("a sandbox directory");
        }
        std::fs::write(root.join("app/src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(root.join("app/target/.dockerize-recipe"), "recipe-1  -\n").unwrap();
        std::fs::write(root.join("app/target/deps/libdep.rlib"), "a dependency").unwrap();
        for (name, text) in [("cargo", CARGO), ("strip", STRIP), ("objcopy", OBJCOPY)] {
            let path = root.join("bin").join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        // The scripts as the builder finds them: in the context it copied.
        common::copy_tree(&dir, &root.join("app/.dockerize"));
        Self {
            script: root.join("app/.dockerize/build.sh"),
            _tmp: tmp,
            root,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// `sh .dockerize/build.sh compile <args> -- cargo build` in the context, with `DOCKERIZE_IMAGES` set to
    /// `images` (unset for `None`).
    fn compile(&self, args: &[&str], images: Option<&str>) -> Run {
        self.compile_with(args, images, &[])
    }

    /// As [`Self::compile`], the `cargo build` given `words` after `build`.
    fn compile_with(&self, args: &[&str], images: Option<&str>, words: &[&str]) -> Run {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut sh = Command::new("sh");
        sh.arg(&self.script)
            .arg("compile")
            .args(args)
            .args(["--", "cargo", "build"])
            .args(words)
            .env("PATH", path)
            .env("CARGO_TARGET_DIR", self.path("app/target"))
            .env_remove("DOCKERIZE_IMAGES")
            .current_dir(self.path("app"));
        if let Some(images) = images {
            sh.env("DOCKERIZE_IMAGES", images);
        }
        let _ = std::fs::remove_dir_all(self.path("out"));
        let _ = std::fs::remove_file(self.path("cargo.log"));
        run(&mut sh)
    }

    fn cargo_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("cargo.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.replace(&self.root.display().to_string(), "<root>"))
            .collect()
    }

    /// The files in `out/` (not its directories), each with its text.
    fn out(&self) -> Vec<(String, String)> {
        let mut files = Vec::new();
        for dir in ["out", "out/debug"] {
            let Ok(entries) = std::fs::read_dir(self.path(dir)) else {
                continue;
            };
            for entry in entries {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_file() {
                    let name = format!("{dir}/{}", entry.file_name().to_string_lossy());
                    files.push((name, std::fs::read_to_string(entry.path()).unwrap()));
                }
            }
        }
        files.sort();
        files
    }

    fn mtime(&self, relative: &str) -> SystemTime {
        std::fs::metadata(self.path(relative))
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{relative}: {e}"))
    }
}

const IMAGES: &[&str] = &[
    "--from",
    "x86_64-unknown-linux-musl/release",
    "--to",
    "../out",
    "alpha",
    "beta=Beta",
    "gamma",
];

fn file(name: &str, text: &str) -> (String, String) {
    (name.to_string(), text.to_string())
}

#[test]
fn compile_builds_and_copies_out_the_images_wanted_and_no_other() {
    let sandbox = Sandbox::new();
    // Unset: every image of this builder; `beta`'s binary is `Beta`.
    sandbox
        .compile(IMAGES, None)
        .assert_success("compile, every image");
    assert_eq!(
        sandbox.cargo_calls(),
        ["build --bin alpha --bin Beta --bin gamma @ <root>/app/target"]
    );
    assert_eq!(
        sandbox.out(),
        [
            file("out/alpha", "binary alpha\nstripped\n"),
            file("out/beta", "binary Beta\nstripped\n"),
            file("out/debug/alpha", "binary alpha\n"),
            file("out/debug/beta", "binary Beta\n"),
            file("out/debug/gamma", "binary gamma\n"),
            file("out/gamma", "binary gamma\nstripped\n"),
        ]
    );
    assert!(
        sandbox.path("out/.empty").is_dir(),
        "the runtime stages' empty working directory"
    );

    // One image: its binary alone is built and copied, so no other image can get a binary left from before.
    sandbox
        .compile(IMAGES, Some("gamma"))
        .assert_success("compile gamma");
    assert_eq!(
        sandbox.cargo_calls(),
        ["build --bin gamma @ <root>/app/target"]
    );
    assert_eq!(
        sandbox.out(),
        [
            file("out/debug/gamma", "binary gamma\n"),
            file("out/gamma", "binary gamma\nstripped\n"),
        ]
    );

    // An image another builder compiles: valid, and nothing to do here.
    let mut others = vec!["--images", "alpha beta gamma delta"];
    others.extend_from_slice(IMAGES);
    sandbox
        .compile(&others, Some("delta"))
        .assert_success("compile delta");
    assert_eq!(sandbox.cargo_calls(), Vec::<String>::new());
    assert_eq!(sandbox.out(), []);

    // A name that is no image: one line naming the images, before anything runs.
    let typo = sandbox.compile(&others, Some("alpha gama"));
    assert_eq!(typo.code, Some(1), "{}", typo.stderr);
    assert_eq!(
        typo.stderr,
        "DOCKERIZE_IMAGES: no image gama in this Dockerfile; its images: alpha beta gamma delta\n"
    );
    assert_eq!(sandbox.cargo_calls(), Vec::<String>::new());

    // As Cargo built it: the same binary in both places.
    let mut kept = vec!["--no-strip"];
    kept.extend_from_slice(IMAGES);
    sandbox
        .compile(&kept, Some("alpha"))
        .assert_success("compile --no-strip");
    assert_eq!(
        sandbox.out(),
        [
            file("out/alpha", "binary alpha\n"),
            file("out/debug/alpha", "binary alpha\n"),
        ]
    );
    // Another strip program (a cross builder's `<triplet>-strip`).
    let mut cross = vec!["--strip", "strip"];
    cross.extend_from_slice(IMAGES);
    sandbox
        .compile(&cross, Some("alpha"))
        .assert_success("compile --strip");
    assert_eq!(
        sandbox.out()[0],
        file("out/alpha", "binary alpha\nstripped\n")
    );
}

/// cargo-auditable's JSON of a root package `name` at `version` that uses one crates.io crate.
fn version_info(name: &str, version: &str, dependency: &str) -> String {
    format!(
        "{{\"packages\":[{{\"name\":\"{name}\",\"version\":\"{version}\",\"source\":\"local\",\
         \"dependencies\":[1],\"root\":true}},{{\"name\":\"{dependency}\",\"version\":\"1.0.0\",\
         \"source\":\"crates.io\"}}],\"format\":1}}"
    )
}

#[test]
fn compile_embeds_each_wanted_binarys_crate_list_before_the_strip() {
    let sandbox = Sandbox::new();
    let build = [
        "--locked",
        "--profile",
        "release",
        "--target",
        "x86_64-unknown-linux-musl",
        "-p",
        "alpha",
        "-p",
        "beta",
        "--features",
        "alpha/fast",
    ];
    let mut args = vec![
        "--dep-v0",
        "objcopy",
        "--package",
        "alpha=alpha",
        "--package",
        "beta=beta",
        "--package",
        "gamma=alpha",
    ];
    args.extend_from_slice(IMAGES);
    sandbox
        .compile_with(&args, Some("beta gamma"), &build)
        .assert_success("compile --dep-v0");
    // The tree of the build's own words, but the profile and the `--bin`s.
    assert_eq!(
        sandbox.cargo_calls(),
        [
            "build --locked --profile release --target x86_64-unknown-linux-musl -p alpha -p beta \
             --features alpha/fast --bin Beta --bin gamma @ <root>/app/target",
            "tree --offline --locked --target x86_64-unknown-linux-musl -p alpha -p beta --features alpha/fast \
             -e normal,build --charset ascii --color never -f {p}|{f} @ <root>/app/target",
        ]
    );
    // Each binary its own package's list, in the unstripped binary and so in the stripped one; none for `alpha`,
    // which was not wanted.
    let alpha = format!(".dep-v0 {}\n", version_info("alpha", "0.1.0", "itoa"));
    let beta = format!(".dep-v0 {}\n", version_info("beta", "0.2.0", "ryu"));
    assert_eq!(
        sandbox.out(),
        [
            file("out/beta", &format!("binary Beta\n{beta}stripped\n")),
            file("out/debug/beta", &format!("binary Beta\n{beta}")),
            file("out/debug/gamma", &format!("binary gamma\n{alpha}")),
            file("out/gamma", &format!("binary gamma\n{alpha}stripped\n")),
        ]
    );

    // An image without its package: one line naming it, and no binary left half-made.
    let mut missing = vec!["--dep-v0", "objcopy", "--package", "alpha=alpha"];
    missing.extend_from_slice(IMAGES);
    let run = sandbox.compile_with(&missing, Some("beta"), &build);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .ends_with("build.sh compile: --dep-v0 without --package beta=PACKAGE\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        sandbox.cargo_calls(),
        Vec::<String>::new(),
        "before anything compiles"
    );
    assert_eq!(sandbox.out(), []);
}

#[test]
fn the_cache_is_seeded_from_the_cooked_layer_when_its_mark_changes_and_only_then() {
    let sandbox = Sandbox::new();
    let mut cached = vec!["--cache", "../cache"];
    cached.extend_from_slice(IMAGES);
    sandbox
        .compile(&cached, Some("alpha"))
        .assert_success("first compile into the cache");
    assert_eq!(
        sandbox.cargo_calls(),
        ["build --bin alpha @ ../cache"],
        "Cargo compiles into the cache"
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.path("cache/deps/libdep.rlib")).unwrap(),
        "a dependency",
        "seeded from the cooked layer"
    );
    assert_eq!(
        std::fs::read_to_string(sandbox.path("cache/.dockerize-recipe")).unwrap(),
        "recipe-1  -\n"
    );
    assert_eq!(
        sandbox.out()[0],
        file("out/alpha", "binary alpha\nstripped\n"),
        "copied from the cache"
    );

    // The same cooked layer: the cache keeps what earlier compiles left.
    std::fs::write(sandbox.path("cache/deps/libearlier.rlib"), "kept").unwrap();
    sandbox
        .compile(&cached, Some("alpha"))
        .assert_success("same recipe");
    assert!(sandbox.path("cache/deps/libearlier.rlib").exists());

    // Another recipe: the cache starts again from the cooked layer.
    std::fs::write(
        sandbox.path("app/target/.dockerize-recipe"),
        "recipe-2  -\n",
    )
    .unwrap();
    sandbox
        .compile(&cached, Some("alpha"))
        .assert_success("another recipe");
    assert!(!sandbox.path("cache/deps/libearlier.rlib").exists());

    // The builder's environment is part of the mark: other values, another start.
    let mut with_env = vec!["--env", "SHAPES_GREETING"];
    with_env.extend_from_slice(&cached);
    let compile = |value: &str| {
        std::fs::write(sandbox.path("cache/deps/libearlier.rlib"), "kept").unwrap();
        let mut sh = Command::new("sh");
        sh.arg(&sandbox.script)
            .arg("compile")
            .args(&with_env)
            .args(["--", "cargo", "build"])
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    sandbox.path("bin").display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("CARGO_TARGET_DIR", sandbox.path("app/target"))
            .env("SHAPES_GREETING", value)
            .env("DOCKERIZE_IMAGES", "alpha")
            .current_dir(sandbox.path("app"));
        run(&mut sh).assert_success(&format!("compile with SHAPES_GREETING={value}"));
        sandbox.path("cache/deps/libearlier.rlib").exists()
    };
    assert!(!compile("one"), "a new value re-seeds");
    assert!(compile("one"), "the same value keeps the cache");
    assert!(!compile("two"), "another value re-seeds");
}

#[test]
fn sources_are_dated_by_their_content_not_by_the_times_the_context_brings() {
    let sandbox = Sandbox::new();
    let mut cached = vec!["--cache", "../cache"];
    cached.extend_from_slice(IMAGES);
    sandbox
        .compile(&cached, Some("alpha"))
        .assert_success("first compile");
    let dated = sandbox.mtime("app/src/main.rs");
    let built = sandbox.mtime("cache/.dockerize-built");
    assert!(dated <= built, "dated before the compile ended");

    // The same content with another time (a fresh checkout, another machine): its first date again.
    run(Command::new("touch")
        .args(["-d", "2001-01-01"])
        .arg(sandbox.path("app/src/main.rs")))
    .assert_success("touch");
    sandbox
        .compile(&cached, Some("alpha"))
        .assert_success("same content");
    assert_eq!(sandbox.mtime("app/src/main.rs"), dated);

    // New content, even with an old time: dated after the end of the last compile, so Cargo recompiles it.
    let built = sandbox.mtime("cache/.dockerize-built");
    std::fs::write(sandbox.path("app/src/main.rs"), "fn main() { edited() }\n").unwrap();
    run(Command::new("touch")
        .args(["-d", "2001-01-01"])
        .arg(sandbox.path("app/src/main.rs")))
    .assert_success("touch");
    sandbox
        .compile(&cached, Some("alpha"))
        .assert_success("new content");
    assert!(sandbox.mtime("app/src/main.rs") > built);
    // The cooked target directory is no source.
    assert!(
        !std::fs::read_to_string(sandbox.path("cache/.dockerize-times"))
            .unwrap()
            .contains("target/")
    );
}

#[test]
fn the_recipe_is_marked_with_its_digest() {
    let (fixture, dir) = generated();
    let recipe = tempfile::tempdir().expect("a recipe directory");
    let recipe_dir = recipe.path().join("recipe");
    let step = |recipe_dir: &Path| {
        let mut sh = Command::new("sh");
        sh.arg(dir.join("build.sh"))
            .arg("recipe")
            .arg(&fixture.root)
            .arg(&fixture.root)
            .arg(recipe_dir)
            .current_dir(&fixture.root);
        run(&mut sh).assert_success("build.sh recipe");
        std::fs::read_to_string(recipe_dir.join("target/.dockerize-recipe")).expect("the mark")
    };
    let mark = step(&recipe_dir);
    // `sha256sum` of the `sha256sum` lines of every recipe file but the target directory, sorted by path.
    let mut files = Vec::new();
    for entry in walk(&recipe_dir) {
        let relative = entry
            .strip_prefix(&recipe_dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !relative.starts_with("target/") {
            files.push(format!("./{relative}"));
        }
    }
    files.sort();
    let lines: String = files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(recipe_dir.join(&f[2..])).unwrap();
            format!("{}  {f}\n", hex(&bytes))
        })
        .collect();
    assert_eq!(mark, format!("{}  -\n", hex(lines.as_bytes())));
    assert_eq!(
        step(&recipe.path().join("again")),
        mark,
        "the same recipe, the same mark"
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The hex SHA-256 of `bytes`, as `sha256sum` prints it.
fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
