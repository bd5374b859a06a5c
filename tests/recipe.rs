//! The dependency recipe, without the engine: the planner's step, as the generated Dockerfile has it, runs on the
//! host against a copy of a fixture with the scripts `generate` wrote beside it (`.dockerize/build.sh recipe`:
//! `cargo metadata --no-deps`, then `recipe.pl`; the same arguments with the image's directories mapped to
//! temporary ones), and Cargo must accept what it writes with `--locked`, leaving `Cargo.lock` as it is: exactly
//! what the cook stage runs. Then what must not change the recipe (versions,
//! descriptions, `[package.metadata]`) and what must (dependencies).
//!
//! One engine test builds `recipe-shapes` for real: the cook with `--locked` on the masked recipe, the final
//! compile, a build script that panics unless `build-env` reached it, and the image run.
//!
//! `fixtures/workspaces/recipe-shapes` holds the hard shapes: members named like registry crates (at the same
//! version, and at a later one, which sorts differently once masked), path dependencies as multi-line tables with
//! versions, `[workspace.dependencies]` with path and version, renamed, target, dev and build dependencies.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_tree, engine_lock, inspect_image, run, run_image, Fixture, TestImages};

/// Every fixture with a `Cargo.lock` and a binary (`no-bins` cannot generate).
const FIXTURES: &[&str] = &[
    "assets",
    "bench-services",
    "build-script",
    "compile-error",
    "config",
    "multi-bin",
    "name-collision",
    "native-openssl",
    "native-sqlite",
    "odd-names",
    "path-inside",
    "path-outside/app",
    "protoc",
    "recipe-shapes",
    "required-features",
    "single-bin",
    "toolchain-pin",
    "workspace",
];

/// Where the Dockerfile puts the context and the recipe in the planner.
const APP_DIR: &str = "/app";
const RECIPE_DIR: &str = "/recipe";

/// The planner's step as the generated Dockerfile has it: the scripts' directory it mounts (relative to the
/// context), the arguments of `build.sh recipe`, its `COPY` instructions (sources, destination) and the shell step
/// that creates the empty target sources.
struct PlannerScript {
    scripts: String,
    args: Vec<String>,
    copies: Vec<(Vec<String>, String)>,
    stubs: Option<String>,
}

/// The words of a `COPY` line, in either of its forms.
fn copy_words(line: &str) -> Vec<String> {
    let rest = line.trim_start_matches("COPY ").trim();
    if rest.starts_with('[') {
        serde_json::from_str(rest).expect("a JSON COPY")
    } else {
        rest.split_whitespace().map(str::to_string).collect()
    }
}

impl PlannerScript {
    fn of(dockerfile: &str) -> Self {
        let planner = dockerfile
            .split("\nFROM ")
            .find(|stage| stage.starts_with("chef AS planner"))
            .expect("a planner stage");
        // The Dockerfile parser joins continued lines: so does this reader.
        let joined = planner.replace(" \\\n", " ");
        let run = joined
            .lines()
            .find_map(|l| l.strip_prefix("RUN "))
            .expect("the planner's RUN");
        let (scripts, command) = run
            .strip_prefix("--mount=type=bind,source=")
            .and_then(|rest| rest.split_once(",target=/dockerize "))
            .expect("the scripts mounted at /dockerize");
        let steps: Vec<&str> = command.split(" && ").map(str::trim).collect();
        let recipe = steps
            .iter()
            .position(|s| s.starts_with("sh /dockerize/build.sh recipe "))
            .expect("the recipe step");
        let args = steps[recipe]["sh /dockerize/build.sh recipe ".len()..]
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let stubs: Vec<&str> = steps[..recipe]
            .iter()
            .copied()
            .filter(|s| s.starts_with("mkdir -p ") || s.starts_with("touch "))
            .collect();
        let copies = planner
            .lines()
            .filter(|l| l.starts_with("COPY "))
            .map(|l| {
                let mut words = copy_words(l);
                let dest = words.pop().expect("a destination");
                (words, dest)
            })
            .collect();
        Self {
            scripts: scripts.to_string(),
            args,
            copies,
            stubs: (!stubs.is_empty()).then(|| stubs.join(" && ")),
        }
    }
}

/// A recipe written on the host for a copy of a fixture.
struct Recipe {
    /// The recipe's directory (the image's `/recipe`).
    dir: PathBuf,
    /// The workspace inside it.
    workspace: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Recipe {
    /// Generates the copy's Dockerfile and scripts and runs the planner's step as the planner stage would.
    fn write(fixture: &Fixture) -> Self {
        let planner = PlannerScript::of(&fixture.generate(&[]));
        let [app, workspace, recipe, paths @ ..] = planner.args.as_slice() else {
            panic!("planner arguments: {:?}", planner.args);
        };
        assert_eq!((app.as_str(), recipe.as_str()), (APP_DIR, RECIPE_DIR));
        // The context in the image is `/app`; the workspace is `/app` or a directory below it.
        let inside = workspace
            .strip_prefix(APP_DIR)
            .expect("the workspace is under /app");
        let inside = inside.trim_start_matches('/');
        let context = ancestor(&fixture.root, inside);
        let tmp = tempfile::tempdir().expect("a temporary directory");
        // The planner's `/app`: what its COPY instructions bring, then its empty target sources.
        let app = tmp.path().join("app");
        let workdir = if inside.is_empty() {
            app.clone()
        } else {
            app.join(inside)
        };
        std::fs::create_dir_all(&workdir).expect("the planner's working directory");
        for (sources, dest) in &planner.copies {
            let dest = match dest.strip_prefix(APP_DIR) {
                Some(absolute) => app.join(absolute.trim_start_matches('/')),
                None => workdir.join(dest),
            };
            for source in sources {
                let from = context.join(source);
                if from.is_dir() {
                    copy_tree(&from, &dest);
                } else {
                    std::fs::create_dir_all(&dest).expect("a COPY destination");
                    let name = from.file_name().expect("a file name");
                    std::fs::copy(&from, dest.join(name))
                        .unwrap_or_else(|e| panic!("COPY {}: {e}", from.display()));
                }
            }
        }
        if let Some(stubs) = &planner.stubs {
            let mut sh = Command::new("sh");
            sh.arg("-c").arg(stubs).current_dir(&workdir);
            run(&mut sh).assert_success("the planner's empty target sources");
        }
        let dir = tmp.path().join("recipe");
        // `build.sh` runs `cargo metadata`: the Cargo that runs these tests.
        let cargo = PathBuf::from(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        let path = std::env::join_paths(cargo.parent().into_iter().map(Path::to_path_buf).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .expect("a PATH");
        let mut sh = Command::new("sh");
        sh.arg(context.join(&planner.scripts).join("build.sh"))
            .arg("recipe")
            .arg(&app)
            .arg(&workdir)
            .arg(&dir)
            .args(paths)
            .env("PATH", path)
            .current_dir(&workdir);
        run(&mut sh).assert_success(&format!("the planner's step on `{}`", fixture.name));
        let workspace = if inside.is_empty() {
            dir.clone()
        } else {
            dir.join(inside)
        };
        Self {
            dir,
            workspace,
            _tmp: tmp,
        }
    }

    /// Every file of the recipe and its content, by path relative to the recipe.
    fn files(&self) -> BTreeMap<String, String> {
        fn walk(dir: &Path, top: &Path, out: &mut BTreeMap<String, String>) {
            for entry in std::fs::read_dir(dir).expect("read the recipe") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    walk(&path, top, out);
                } else {
                    let rel = path
                        .strip_prefix(top)
                        .expect("inside")
                        .display()
                        .to_string();
                    out.insert(
                        rel,
                        std::fs::read_to_string(&path).expect("read a recipe file"),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.dir, &self.dir, &mut out);
        out
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.workspace.join(relative)).expect("read a recipe file")
    }

    /// What the cook needs of Cargo: the recipe's lock, unchanged, with `--locked`. Cargo keeps its own files
    /// elsewhere: the recipe's `target/` holds its mark, and the recipe must stay as the planner wrote it.
    fn assert_cargo_accepts(&self, what: &str) {
        let lock = self.read("Cargo.lock");
        let cargo_dir = tempfile::tempdir().expect("a target directory for Cargo");
        for args in [
            &["metadata", "--locked", "--format-version", "1"][..],
            &["tree", "--locked", "-e", "all", "--workspace"][..],
        ] {
            let mut command =
                Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            command
                .args(args)
                .env("CARGO_TARGET_DIR", cargo_dir.path())
                .current_dir(&self.workspace);
            run(&mut command).assert_success(&format!(
                "cargo {} in {}",
                args.join(" "),
                self.workspace.display()
            ));
        }
        assert_eq!(
            lock,
            self.read("Cargo.lock"),
            "{what}: Cargo rewrote the recipe's lock"
        );
    }
}

/// `dir` without its last components `inside` (`a/b/c` less `c` is `a/b`).
fn ancestor(dir: &Path, inside: &str) -> PathBuf {
    let mut out = dir.to_path_buf();
    for _ in Path::new(inside).components() {
        out.pop();
    }
    out
}

/// `cargo generate-lockfile` in `dir`: offline from the local registry cache when it has the crates, else online.
fn lock(dir: &Path) {
    let mut offline = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    offline
        .args(["generate-lockfile", "--offline"])
        .current_dir(dir);
    if run(&mut offline).code != Some(0) {
        cargo(dir, &["generate-lockfile"]);
    }
}

/// `cargo <args>` in `dir`, which must succeed: its stdout.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args).current_dir(dir);
    let result = run(&mut command);
    result.assert_success(&format!("cargo {} in {}", args.join(" "), dir.display()));
    result.stdout
}

#[test]
fn cargo_accepts_the_recipe_of_every_fixture_with_locked() {
    for name in FIXTURES {
        let fixture = Fixture::copy(name);
        let recipe = Recipe::write(&fixture);
        recipe.assert_cargo_accepts(&format!("fixture `{name}`"));
    }
}

#[test]
fn members_named_like_registry_crates_and_path_tables_are_masked_as_cargo_spells_them() {
    let fixture = Fixture::copy("recipe-shapes");
    let recipe = Recipe::write(&fixture);
    recipe.assert_cargo_accepts("recipe-shapes");
    let lock = recipe.read("Cargo.lock");
    // The member `fnv` at 0.0.0 and the registry's 1.0.7 are now told apart by version alone.
    assert!(
        lock.contains(" \"fnv 0.0.0\",\n \"fnv 1.0.7\",\n"),
        "{lock}"
    );
    assert!(!lock.contains("(registry+"), "{lock}");
    // The member `itoa` (2.0.0, masked to 0.0.0) now sorts before the registry's 1.0.19.
    let member = lock
        .find("name = \"itoa\"\nversion = \"0.0.0\"")
        .expect("member itoa");
    let registry = lock
        .find("name = \"itoa\"\nversion = \"1.0.19\"")
        .expect("registry itoa");
    assert!(member < registry, "{lock}");
    let app = recipe.read("app/Cargo.toml");
    assert!(
        !app.contains("18.2.0"),
        "path dependencies keep no version requirement:\n{app}"
    );
    assert!(
        app.contains("fnv-registry = { package = \"fnv\", version = \"1.0.7\" }"),
        "{app}"
    );
    let root = recipe.read("Cargo.toml");
    assert!(root.contains("fnv = { path = \"lib/fnv\" }"), "{root}");
    assert!(!root.contains("metadata"), "{root}");
}

#[test]
fn versions_descriptions_and_package_metadata_leave_the_recipe_byte_identical() {
    let fixture = Fixture::copy("recipe-shapes");
    let before = Recipe::write(&fixture).files();
    fixture.replace_in("Cargo.toml", "version = \"0.3.1\"", "version = \"0.4.0\"");
    fixture.replace_in(
        "lib/util/Cargo.toml",
        "version = \"18.2.0\"",
        "version = \"18.3.0\"",
    );
    fixture.replace_in(
        "lib/fnv/Cargo.toml",
        "at the same version",
        "at the very same version",
    );
    fixture.replace_in(
        "app/Cargo.toml",
        "SHAPES_MODE = \"runtime\"",
        "SHAPES_MODE = \"edited\"",
    );
    // The lock follows the version bumps, as `cargo build` would write it.
    cargo(&fixture.root, &["metadata", "--format-version", "1"]);
    assert!(fixture.read("Cargo.lock").contains("0.4.0"));
    let after = Recipe::write(&fixture);
    after.assert_cargo_accepts("recipe-shapes after version bumps");
    assert_eq!(before, after.files());
}

#[test]
fn a_dependency_change_changes_the_recipe() {
    let fixture = Fixture::copy("recipe-shapes");
    let before = Recipe::write(&fixture).files();
    fixture.replace_in(
        "app/Cargo.toml",
        "version = \"1.0.7\" }",
        "version = \"1.0.7\", default-features = false }",
    );
    let after = Recipe::write(&fixture);
    after.assert_cargo_accepts("recipe-shapes without fnv's default features");
    assert_ne!(before, after.files());
}

/// Manifests in TOML's less common forms, with path dependencies only (so Cargo writes the lock offline): CRLF
/// line ends, comments holding brackets, literal and multi-line strings, top-level dotted keys, dotted dependency
/// keys, a quoted `cfg` with escapes, `[workspace.dependencies.<name>]` tables with exact requirements.
const UNUSUAL: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        concat!(
            "[workspace]\r\nmembers = [\r\n    \"a\", # ] [not = a table]\r\n    \"b\",\r\n    \"c\",\r\n]\r\n",
            "resolver = \"2\"\r\n\r\n[workspace.package]\r\nversion = '4.5.6'\r\n",
            "description = '''\r\n[not.a.table]\r\nversion = \"1\"\r\n'''\r\n\r\n",
            "[workspace.dependencies.c]\r\npath = \"c\" # the member\r\nversion = \"=9.0.0\"\r\n\r\n",
            "[workspace.metadata.tool]\r\nlist = [\r\n  [\"x\"],\r\n]\r\n",
        ),
    ),
    (
        "a/Cargo.toml",
        concat!(
            "[package]\nname = \"a\"\nversion.workspace = true\ndescription = { workspace = true }\n",
            "edition = \"2021\"\n\n[package.metadata.docs]\nfeatures = [\n  \"x\",\n]\n\n",
            "[dependencies]\nb.path = \"../b\"\nb.version = \"0.7.0\"\n\"c\" = { workspace = true }\n\n",
            "[target.\"cfg(target_os = \\\"linux\\\")\".dependencies]\n",
            "b = { version = \"0.7\", path = \"../b\", features = [\"f\"] } # {version}\n\n",
            "[dev-dependencies.b]\nversion = \"0.7.0\"\npath = \"../b\"\n",
        ),
    ),
    ("a/src/main.rs", "fn main() {}\n"),
    (
        "b/Cargo.toml",
        "package.name = \"b\"\npackage.version = \"0.7.0\"\npackage.edition = \"2021\"\nfeatures.f = []\n",
    ),
    ("b/src/lib.rs", ""),
    (
        "c/Cargo.toml",
        "[package]\nname = \"c\"\nversion = \"9.0.0\"\nedition = \"2021\"\n",
    ),
    ("c/src/lib.rs", ""),
];

#[test]
fn unusual_toml_forms_give_a_recipe_cargo_accepts_and_versions_leave_it_alone() {
    let fixture = Fixture::from_files("unusual", UNUSUAL);
    cargo(&fixture.root, &["generate-lockfile", "--offline"]);
    let recipe = Recipe::write(&fixture);
    recipe.assert_cargo_accepts("unusual forms");
    let a = recipe.read("a/Cargo.toml");
    assert!(!a.contains("0.7") && !a.contains("docs"), "{a}");
    assert!(a.contains("features = [\"f\"]"), "{a}");
    let b = recipe.read("b/Cargo.toml");
    assert!(b.contains("package.version = \"0.0.0\""), "{b}");
    let before = recipe.files();
    fixture.replace_in("c/Cargo.toml", "9.0.0", "9.1.0");
    fixture.replace_in("Cargo.toml", "=9.0.0", "=9.1.0");
    fixture.replace_in("b/Cargo.toml", "0.7.0", "0.7.1");
    fixture.replace_in("Cargo.toml", "4.5.6", "4.6.0");
    cargo(&fixture.root, &["generate-lockfile", "--offline"]);
    let after = Recipe::write(&fixture);
    after.assert_cargo_accepts("unusual forms after version bumps");
    assert_eq!(before, after.files());
}

/// A member that `[patch]` puts in place of a registry crate keeps its version in the recipe: masked, the patch
/// would no longer match the requirement and Cargo would look for the registry's crate.
#[test]
fn a_member_patching_a_registry_crate_keeps_its_version() {
    let fixture = Fixture::from_files(
        "patched",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"itoa\"]\nresolver = \"2\"\n\n[patch.crates-io]\nitoa = { path = \"./itoa/\" }\n",
            ),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nitoa = \"1\"\n",
            ),
            ("app/src/main.rs", "fn main() {}\n"),
            (
                "itoa/Cargo.toml",
                "[package]\nname = \"itoa\"\nversion = \"1.99.0\"\nedition = \"2021\"\ndescription = \"a member in place of the registry's\"\n",
            ),
            ("itoa/src/lib.rs", ""),
        ],
    );
    lock(&fixture.root);
    let recipe = Recipe::write(&fixture);
    recipe.assert_cargo_accepts("a patched member");
    assert!(recipe
        .read("itoa/Cargo.toml")
        .contains("version = \"1.99.0\""));
    assert!(recipe
        .read("itoa/Cargo.toml")
        .contains("description = \"\""));
    assert!(recipe
        .read("app/Cargo.toml")
        .contains("version = \"0.0.0\""));
}

/// The planner copies the manifests, not the sources: it stubs what Cargo must find (binaries, the library, the
/// build script, and the example the manifest declares), and a test file Cargo discovers by itself changes
/// neither the Dockerfile nor the recipe. Cargo accepts the recipe, which still brings the build dependencies.
#[test]
fn the_planner_reads_manifests_and_stubs_only_what_cargo_must_find() {
    let fixture = Fixture::from_files(
        "stubbed",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
            ),
            (
                "crates/app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[example]]\nname = \"demo\"\n\n[dependencies]\nitoa = \"1\"\n\n[build-dependencies]\nitoa = \"1\"\n",
            ),
            ("crates/app/build.rs", "fn main() {}\n"),
            ("crates/app/src/lib.rs", "pub fn f() {}\n"),
            ("crates/app/src/main.rs", "fn main() {}\n"),
            ("crates/app/src/bin/extra.rs", "fn main() {}\n"),
            ("crates/app/examples/demo.rs", "fn main() {}\n"),
            ("crates/app/tests/it.rs", "#[test]\nfn t() {}\n"),
        ],
    );
    lock(&fixture.root);
    let dockerfile = fixture.generate(&[]);
    for line in [
        "COPY Cargo.toml Cargo.lock ./\n",
        "COPY crates/app/Cargo.toml crates/app/\n",
        "\n    mkdir -p crates/app crates/app/examples crates/app/src crates/app/src/bin && touch crates/app/build.rs crates/app/examples/demo.rs crates/app/src/bin/extra.rs crates/app/src/lib.rs crates/app/src/main.rs \\\n",
    ] {
        assert!(dockerfile.contains(line), "`{line}` in\n{dockerfile}");
    }
    assert!(!dockerfile.contains("tests/it.rs"));
    let recipe = Recipe::write(&fixture);
    recipe.assert_cargo_accepts("a recipe from the manifests alone");
    assert!(recipe.files().contains_key("crates/app/build.rs"));
    fixture.write("crates/app/tests/more.rs", "#[test]\nfn u() {}\n");
    assert_eq!(
        fixture.generate(&[]),
        dockerfile,
        "a new test file changes nothing"
    );
    assert_eq!(Recipe::write(&fixture).files(), recipe.files());
}

/// Beyond 32 members the planner copies the whole context (one `COPY` a member would cost a cold build a layer
/// each), and the recipe is still one Cargo accepts.
#[test]
fn a_workspace_of_many_members_gives_the_planner_the_whole_context() {
    let manifests: Vec<(String, String)> = (0..33)
        .flat_map(|i| {
            [
                (
                    format!("m{i:02}/Cargo.toml"),
                    format!(
                        "[package]\nname = \"m{i:02}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
                    ),
                ),
                (format!("m{i:02}/src/main.rs"), "fn main() {}\n".to_string()),
            ]
        })
        .collect();
    let mut files: Vec<(&str, &str)> = vec![(
        "Cargo.toml",
        "[workspace]\nmembers = [\"m*\"]\nresolver = \"2\"\n",
    )];
    files.extend(manifests.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let fixture = Fixture::from_files("many", &files);
    lock(&fixture.root);
    let dockerfile = fixture.generate(&[]);
    assert!(
        dockerfile.contains("FROM chef AS planner\nCOPY . .\n"),
        "{dockerfile}"
    );
    Recipe::write(&fixture).assert_cargo_accepts("the recipe of 33 members");
}

/// The last package of `Cargo.lock` moving up once masked (a member `zmij 9.0.0` after the registry's `zmij 1.x`):
/// the blocks keep Cargo's layout, one blank line between them.
#[test]
fn a_member_moving_from_the_end_of_the_lock_keeps_cargos_layout() {
    let fixture = Fixture::from_files(
        "moving",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"zmij\"]\nresolver = \"2\"\n",
            ),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nzmij = \"1\"\n",
            ),
            ("app/src/main.rs", "fn main() {}\n"),
            (
                "zmij/Cargo.toml",
                "[package]\nname = \"zmij\"\nversion = \"9.0.0\"\nedition = \"2021\"\n",
            ),
            ("zmij/src/lib.rs", ""),
        ],
    );
    lock(&fixture.root);
    let original = fixture.read("Cargo.lock");
    assert!(
        original.ends_with("name = \"zmij\"\nversion = \"9.0.0\"\n"),
        "{original}"
    );
    let recipe = Recipe::write(&fixture);
    recipe.assert_cargo_accepts("a member moving up the lock");
    let lock = recipe.read("Cargo.lock");
    assert!(
        lock.contains("name = \"zmij\"\nversion = \"0.0.0\"\n\n[[package]]\nname = \"zmij\""),
        "{lock}"
    );
}

/// The hard shapes through the engine: the dependency step cooks the masked recipe with `--locked`, the build
/// script sees `build-env` (it panics otherwise), and the runtime image carries the runtime `env` but not the
/// builder's.
#[test]
#[ignore = "needs a Docker engine: cargo test --test recipe -- --ignored"]
fn the_hard_shapes_build_and_run_and_build_scripts_see_build_env() {
    let _engine = engine_lock();
    let images = TestImages::new("shapes");
    let fixture = Fixture::copy("recipe-shapes");
    let out = fixture.run(&["build", "-t", &images.template("{version}")]);
    out.assert_success("build of recipe-shapes");
    let dockerfile = fixture.dockerfile();
    assert!(
        dockerfile.contains("ENV SHAPES_GREETING=\"set by build-env\""),
        "{dockerfile}"
    );
    let reference = images.tag("shapes", "0.3.1");
    let printed = run_image(&reference);
    assert_eq!(
        printed.lines().collect::<Vec<_>>(),
        [
            "hello from shapes",
            "member fnv 271!",
            "greeting: set by build-env"
        ],
        "{printed}"
    );
    let image = inspect_image(&reference).expect("the image");
    let env = image["Config"]["Env"].to_string();
    assert!(env.contains("SHAPES_MODE=runtime"), "{env}");
    assert!(
        !env.contains("SHAPES_GREETING"),
        "the builder's environment stays in the builder: {env}"
    );

    // A new value reaches the build script on the next build.
    fixture.replace_in("Cargo.toml", "set by build-env", "changed in build-env");
    fixture
        .run(&["build", "-t", &images.template("{version}")])
        .assert_success("rebuild of recipe-shapes with another build-env");
    let printed = run_image(&reference);
    assert!(
        printed.ends_with("greeting: changed in build-env\n"),
        "{printed}"
    );
}
