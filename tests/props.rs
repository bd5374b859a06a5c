//! Property tests of issue 19: what a list of examples (`tests/hostile.rs`) misses. Every value a workspace or a
//! command line gives a generated file — manifest keys, toolchain channel, binary, package and directory names,
//! flag values — is generated from pieces that are syntax somewhere (line breaks, quotes, `\`, `$`, `${{`, shell
//! operators, Unicode line separators...), and each generated value is either refused in one line that names the
//! key, or rendered inert:
//!
//! - the Dockerfile, parsed by the `dockerfile-parser` crate, keeps every structural rule (`common::structure`:
//!   every runtime stage keeps its non-root `USER` and its exec-form `ENTRYPOINT`), and has exactly the stages and
//!   instructions, word for word, of the same workspace planned with an ordinary value in its place: each
//!   instruction's arguments read by BuildKit's word lexer, each `RUN` command tokenized as `sh` does
//!   (`common::words`), with the generated value standing exactly where the ordinary one stood;
//! - the GitHub workflow, parsed as YAML, has the same keys at the same places, and no `${{` but the planned ones.
//!
//! The planner runs in process on a built workspace (`workspace::testing`), so thousands of cases take seconds.
//! `PROPS_CASES` sets the number of cases of each property (default 32; `PROPS_CASES=5000` for a long search).

mod common;

use std::collections::BTreeSet;

use cargo_dockerize::cli::CargoCli;
use cargo_dockerize::config::Settings;
use cargo_dockerize::model::CiService;
use cargo_dockerize::plan;
use cargo_dockerize::render;
use cargo_dockerize::ui::listing;
use cargo_dockerize::workspace::testing::{pkg, ws};
use cargo_dockerize::workspace::{PathPackage, Workspace};
use clap::Parser as _;
use common::structure;
use common::words::{docker_words, logical_line, shell_tokens, Token};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use serde_json::json;

/// Pieces generated values are made of: syntax of a Dockerfile, of `sh`, of YAML and of GitHub expressions, the
/// characters the value checks single out, and plain text so that some values pass.
const PIECES: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\\",
    "\"",
    "'",
    "`",
    "$",
    "${{",
    "}}",
    "${{ secrets.X }}",
    "$(id)",
    "${HOME}",
    "$HOME",
    ";",
    "&&",
    "||",
    "|",
    ">",
    "<",
    "&",
    " ",
    "  ",
    "\t",
    "#",
    "=",
    "--",
    "-",
    "/",
    "//",
    "..",
    ".",
    ":",
    "*",
    "?",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    "@",
    "+",
    "~",
    "%",
    "!",
    "^",
    "a",
    "b",
    "Z",
    "0",
    "9",
    "_",
    "app",
    "\u{2028}",
    "\u{202e}",
    "\u{85}",
    "\u{a0}",
    "é",
    "\0",
    "\u{1b}[31m",
    "\nRUN id\n",
    "\nUSER root",
    " AS x",
    "--platform=x",
    "\\\n",
    "builder",
    "chef",
    "planner",
    "test",
    "\nname: x",
    "key: value",
    "- x",
    "{ a: b }",
    "&anchor",
    "*alias",
    "!!str",
];

/// A value made of [`PIECES`], sometimes after a plain prefix.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = proptest::collection::vec(proptest::sample::select(PIECES), 0..8);
    prop_oneof![
        4 => pieces.clone().prop_map(|p| p.concat()),
        2 => ("[a-z][a-z0-9]{0,6}", pieces).prop_map(|(plain, p)| format!("{plain}{}", p.concat())),
        1 => "[a-z][a-z0-9._-]{0,10}",
        1 => any::<String>(),
    ]
}

/// Where a generated value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Workdir,
    User,
    EnvKey,
    EnvValue,
    LabelKey,
    LabelValue,
    Entrypoint,
    Cmd,
    AssetSource,
    AssetDest,
    Feature,
    Runtime,
    BuildEnvKey,
    BuildEnvValue,
    BuildPackage,
    RuntimePackage,
    Image,
    TagTemplate,
    BinName,
    PackageName,
    PackageDir,
    PathDependency,
    Channel,
    DockerfileKey,
    Registry,
    FlagTag,
    FlagRegistry,
    FlagDockerfile,
    FlagFeatures,
    FlagRuntime,
}

const SITES: &[Site] = &[
    Site::Workdir,
    Site::User,
    Site::EnvKey,
    Site::EnvValue,
    Site::LabelKey,
    Site::LabelValue,
    Site::Entrypoint,
    Site::Cmd,
    Site::AssetSource,
    Site::AssetDest,
    Site::Feature,
    Site::Runtime,
    Site::BuildEnvKey,
    Site::BuildEnvValue,
    Site::BuildPackage,
    Site::RuntimePackage,
    Site::Image,
    Site::TagTemplate,
    Site::BinName,
    Site::PackageName,
    Site::PackageDir,
    Site::PathDependency,
    Site::Channel,
    Site::DockerfileKey,
    Site::Registry,
    Site::FlagTag,
    Site::FlagRegistry,
    Site::FlagDockerfile,
    Site::FlagFeatures,
    Site::FlagRuntime,
];

impl Site {
    /// An ordinary value of this key, which plans: the baseline the generated value is compared with.
    fn ordinary(self) -> &'static str {
        match self {
            Site::Workdir => "/zqplainzq",
            Site::AssetDest => "/zqplainzq",
            Site::PackageDir | Site::PathDependency => "zqplainzq",
            Site::Channel => "1.95.0",
            Site::DockerfileKey | Site::FlagDockerfile => "zqdirzq/zqplainzq",
            // Not a base the structural rules know (scratch, distroless, Debian): an image of the user's.
            Site::Runtime | Site::FlagRuntime => "zqplainzq:1",
            // Its stage name differs from it, so each is replaced on its own.
            Site::BinName => "ZqPlainZq",
            Site::Registry | Site::FlagRegistry => "zqplainzq.example",
            _ => "zqplainzq",
        }
    }

    /// What a refusal of this key names (any one of them).
    fn named(self) -> &'static [&'static str] {
        match self {
            Site::Workdir => &["`workdir`"],
            Site::User => &["`user`"],
            Site::EnvKey | Site::EnvValue => &["`env`"],
            Site::LabelKey | Site::LabelValue => &["`labels`"],
            Site::Entrypoint => &["`entrypoint`"],
            Site::Cmd => &["`cmd`"],
            Site::AssetSource | Site::AssetDest => &["`assets`"],
            Site::Feature => &["`features`", "feature"],
            Site::Runtime => &["`runtime`"],
            Site::BuildEnvKey | Site::BuildEnvValue => &["`build-env`"],
            Site::BuildPackage => &["`build-packages`"],
            Site::RuntimePackage => &["`runtime-packages`"],
            Site::Image => &["`image`"],
            Site::TagTemplate => &["`tags`"],
            Site::BinName => &["`[[bin]] name`"],
            Site::PackageName => &["package", "`name`"],
            Site::PackageDir => &["the directory of package"],
            Site::PathDependency => &["path dependency"],
            Site::Channel => &["`toolchain.channel`"],
            Site::DockerfileKey => &["`dockerfile`"],
            Site::Registry => &["`registry`"],
            Site::FlagTag => &["--tag"],
            Site::FlagRegistry => &["--registry"],
            Site::FlagDockerfile => &["--dockerfile"],
            Site::FlagFeatures => &["--features", "feature"],
            Site::FlagRuntime => &["--runtime"],
        }
    }
}

/// What a command is given: a workspace and a command line.
struct Input {
    workspace: Workspace,
    args: Vec<String>,
    /// The toolchain file's channel.
    channel: String,
}

/// A one-binary workspace with `value` at `key`.
fn input(key: Site, value: &str) -> Input {
    let mut package = json!({});
    let mut workspace_table = json!({});
    let mut args: Vec<String> = Vec::new();
    let (mut name, mut bin, mut dir) = ("app".to_string(), "app".to_string(), None);
    let mut features: Vec<String> = Vec::new();
    let mut path_dependency = None;
    let mut channel = None;
    match key {
        Site::Workdir => package["workdir"] = json!(value),
        Site::User => package["user"] = json!(value),
        Site::EnvKey => package["env"] = json!({ value: "x" }),
        Site::EnvValue => package["env"] = json!({ "A": value }),
        Site::LabelKey => package["labels"] = json!({ value: "x" }),
        Site::LabelValue => package["labels"] = json!({ "a": value }),
        Site::Entrypoint => package["entrypoint"] = json!([value, "x"]),
        Site::Cmd => package["cmd"] = json!(["--flag", value]),
        Site::AssetSource => package["assets"] = json!([value]),
        Site::AssetDest => package["assets"] = json!([{ "source": "static", "dest": value }]),
        Site::Feature => {
            features.push(value.to_string());
            package["features"] = json!([value]);
        }
        Site::Runtime => package["runtime"] = json!(value),
        Site::BuildEnvKey => workspace_table["build-env"] = json!({ value: "x" }),
        Site::BuildEnvValue => workspace_table["build-env"] = json!({ "A": value }),
        Site::BuildPackage => package["build-packages"] = json!([value]),
        Site::RuntimePackage => package["runtime-packages"] = json!([value]),
        Site::Image => package["image"] = json!(value),
        Site::TagTemplate => package["tags"] = json!([value]),
        Site::BinName => bin = value.to_string(),
        Site::PackageName => name = value.to_string(),
        Site::PackageDir => dir = Some(value.to_string()),
        Site::PathDependency => path_dependency = Some(value.to_string()),
        Site::Channel => channel = Some(value.to_string()),
        Site::DockerfileKey => workspace_table["dockerfile"] = json!(value),
        Site::Registry => workspace_table["registry"] = json!(value),
        Site::FlagTag => args.push(format!("--tag={value}")),
        Site::FlagRegistry => args.push(format!("--registry={value}")),
        Site::FlagDockerfile => args.push(format!("--dockerfile={value}")),
        Site::FlagFeatures => {
            features.push(value.to_string());
            args.push(format!("--features={value}"));
        }
        Site::FlagRuntime => args.push(format!("--runtime={value}")),
    }
    let mut member = pkg(&name).bin(&bin).config(package);
    for feature in &features {
        member = member.feature(feature, &[]);
    }
    if let Some(dir) = dir {
        member = member.dir(&dir);
    }
    let mut builder = ws().member(member).config(workspace_table);
    if let Some(channel) = &channel {
        builder = builder.toolchain(channel);
    }
    let mut workspace = builder.build();
    if let Some(dir) = path_dependency {
        workspace.path_packages.push(PathPackage {
            dir: format!("/ws/vendor/{dir}").into(),
            name: "dep".into(),
        });
    }
    Input {
        workspace,
        args,
        channel: channel.unwrap_or_default(),
    }
}

/// What the tool makes of an input: a refusal (one line) or the generated files.
enum Outcome {
    Refused(String),
    Generated(Generated),
}

struct Generated {
    dockerfile: String,
    list: serde_json::Value,
    workflow: Result<String, String>,
}

/// `generate` (and `ci`) on `input`, in process, as `command::run` plans and renders.
fn generate(key: Site, input: &Input) -> Outcome {
    // The toolchain file's channel is checked where `workspace::load` reads the file, before any workspace
    // exists: as that check does (the builder's `toolchain` takes any text).
    if key == Site::Channel {
        if let Err(refused) = input.channel.parse::<cargo_dockerize::value::Channel>() {
            return Outcome::Refused(format!("`toolchain.channel` {refused}"));
        }
    }
    let line = ["cargo", "dockerize", "generate"]
        .into_iter()
        .map(String::from)
        .chain(input.args.iter().cloned());
    let settings: Settings = match CargoCli::try_parse_from(line) {
        Ok(CargoCli::Dockerize(cli)) => cli.settings(),
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let plan = match plan::plan_for(&input.workspace, &settings) {
        Ok(plan) => plan,
        Err(e) => {
            // The hint, on its own line, names where a value came from (`fix it in \`image\` in ...`).
            let hint = e.hint().map(|h| format!("\nhint: {h}")).unwrap_or_default();
            return Outcome::Refused(format!("{}{hint}", error_line(&e)));
        }
    };
    let dockerfile = render::render(&plan);
    let mut json = Vec::new();
    listing::write_json(&plan, &mut json).expect("the JSON listing");
    let list = serde_json::from_slice(&json).expect("the listing is JSON");
    let workflow = plan::ci::ci_plan(
        &plan,
        CiService::GithubActions,
        plan::ci::DEFAULT_WORKFLOW.into(),
        "cargo dockerize ci".into(),
    )
    .map(|ci| render::workflow(&ci))
    .map_err(|e| error_line(&e));
    Outcome::Generated(Generated {
        dockerfile,
        list,
        workflow,
    })
}

/// An error and its causes, as `main` prints them.
fn error_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// One instruction as its parsers read it: the keyword, then its words (BuildKit's lexer, or the JSON array of
/// its exec form), or for a shell-form `RUN` its `--` flags and `sh`'s tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Read {
    keyword: String,
    words: Vec<String>,
    shell: Option<Vec<Token>>,
}

/// Each stage's instructions, read as BuildKit's parser splits a Dockerfile into instructions (blank and comment
/// lines dropped, a line ending in `\` joined with the next); `Err` when a `RUN` is no command `sh` can read.
fn read_dockerfile(text: &str) -> Result<Vec<Vec<Read>>, String> {
    let mut stages = vec![Vec::new()];
    let mut lines = text.split('\n').peekable();
    while let Some(first) = lines.next() {
        if first.trim().is_empty() || first.trim_start().starts_with('#') {
            continue;
        }
        let mut raw = first.to_string();
        while raw.ends_with('\\') {
            let Some(next) = lines.next() else { break };
            raw.push('\n');
            raw.push_str(next);
        }
        let line = logical_line(&raw);
        let line = line.trim_start();
        let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stages.push(Vec::new());
        }
        let rest = rest.trim();
        let read = if keyword == "RUN" {
            let (flags, command) = run_flags(rest);
            let shell = shell_tokens(command).ok_or_else(|| format!("`sh` cannot read: {line}"))?;
            Read {
                keyword,
                words: flags.iter().flat_map(|f| docker_words(f)).collect(),
                shell: Some(shell),
            }
        } else {
            let words = match serde_json::from_str::<Vec<String>>(rest) {
                Ok(array) if rest.starts_with('[') => array,
                _ => json_after_flags(rest).unwrap_or_else(|| docker_words(rest)),
            };
            Read {
                keyword,
                words,
                shell: None,
            }
        };
        stages.last_mut().expect("a stage").push(read);
    }
    Ok(stages)
}

/// `read` with the words of `LABEL` and `ENV`, and of each simple command of a `RUN`, sorted: their order is the
/// plan's sort order, not the value's doing.
fn normalized(read: Vec<Vec<Read>>) -> Vec<Vec<Read>> {
    read.into_iter()
        .map(|stage| {
            stage
                .into_iter()
                .map(|mut r| {
                    if matches!(r.keyword.as_str(), "LABEL" | "ENV") {
                        // Their values are written with whitespace folded (`render::quote::label_value`).
                        r.words = r
                            .words
                            .iter()
                            .map(|w| {
                                let (k, v) = w.split_once('=').unwrap_or((w, ""));
                                format!(
                                    "{k}={}",
                                    v.split_whitespace().collect::<Vec<_>>().join(" ")
                                )
                            })
                            .collect();
                        r.words.sort();
                    }
                    // A cache id holds a hash of the package names.
                    r.words = r.words.iter().map(|w| without_hash(w)).collect();
                    r.shell = r.shell.map(sorted_commands);
                    r
                })
                .collect()
        })
        .collect()
}

/// `word` with the hash of a cache id (`id=cargo-dockerize-76dc758433fd7cb2-...`) left out.
fn without_hash(word: &str) -> String {
    const ID: &str = "id=cargo-dockerize-";
    match word.find(ID) {
        Some(at) if word.len() >= at + ID.len() + 16 => {
            format!("{}{ID}<hash>{}", &word[..at], &word[at + ID.len() + 16..])
        }
        _ => word.to_string(),
    }
}

/// The words of each simple command sorted (operators stay where they are).
fn sorted_commands(tokens: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::new();
    let mut words: Vec<Token> = Vec::new();
    for token in tokens {
        if let Token::Word(_) = token {
            words.push(token);
        } else {
            words.sort_by_key(|t| format!("{t:?}"));
            out.append(&mut words);
            out.push(token);
        }
    }
    words.sort_by_key(|t| format!("{t:?}"));
    out.append(&mut words);
    out
}

/// A `COPY --from=x ["a b","c"]`: its flags' words and its JSON array.
fn json_after_flags(rest: &str) -> Option<Vec<String>> {
    let start = rest.find(" [")?;
    let (flags, array) = rest.split_at(start);
    let array: Vec<String> = serde_json::from_str(array.trim()).ok()?;
    let mut words = docker_words(flags);
    words.extend(array);
    Some(words)
}

/// A `RUN`'s leading `--flag=value` words, and its command.
fn run_flags(rest: &str) -> (Vec<&str>, &str) {
    let mut flags = Vec::new();
    let mut rest = rest.trim_start();
    while rest.starts_with("--") {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        flags.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    (flags, rest)
}

/// `read` with `from` replaced by `to` in every word: what the file reads with `to` where `from` was.
fn replaced(read: &[Vec<Read>], pairs: &[(String, String)]) -> Vec<Vec<Read>> {
    let swap = |w: &str| {
        pairs
            .iter()
            .fold(w.to_string(), |w, (from, to)| w.replace(from.as_str(), to))
    };
    read.iter()
        .map(|stage| {
            stage
                .iter()
                .map(|r| Read {
                    keyword: r.keyword.clone(),
                    words: r.words.iter().map(|w| swap(w)).collect(),
                    shell: r.shell.as_ref().map(|tokens| {
                        tokens
                            .iter()
                            .map(|t| match t {
                                Token::Word(w) => Token::Word(swap(w)),
                                Token::Comment(c) => Token::Comment(swap(c)),
                                op => op.clone(),
                            })
                            .collect()
                    }),
                })
                .collect()
        })
        .collect()
}

/// The spellings of a value in the generated files, ordinary → generated: the value itself, the stage name
/// derived from a binary name, a Dockerfile path's directory (where `.dockerize/` goes) and file name.
fn spellings(key: Site, ordinary: &str, value: &str) -> Vec<(String, String)> {
    match key {
        Site::BinName => vec![
            // `build.sh` is given `stage=binary`, or `binary` alone when they are the same.
            (
                format!("{}={ordinary}", plan::stage_name(ordinary)),
                if plan::stage_name(value) == value {
                    value.to_string()
                } else {
                    format!("{}={value}", plan::stage_name(value))
                },
            ),
            (plan::stage_name(ordinary), plan::stage_name(value)),
            (ordinary.to_string(), value.to_string()),
        ],
        Site::DockerfileKey | Site::FlagDockerfile => {
            let (dir, name) = ordinary.split_once('/').expect("a directory");
            match value.rsplit_once('/') {
                Some((value_dir, value_name)) => vec![
                    (dir.to_string(), value_dir.to_string()),
                    (name.to_string(), value_name.to_string()),
                ],
                None => vec![
                    (format!("{dir}/"), String::new()),
                    (name.to_string(), value.to_string()),
                ],
            }
        }
        // `ENV` and `LABEL` values are written with their whitespace folded to single spaces
        // (`render::quote::label_value`).
        Site::EnvValue | Site::LabelValue | Site::BuildEnvValue => vec![(
            ordinary.to_string(),
            value.split_whitespace().collect::<Vec<_>>().join(" "),
        )],
        _ => vec![(ordinary.to_string(), value.to_string())],
    }
}

/// Values the planner writes in another spelling than they were given, by design: paths are folded (`a//b`,
/// `./a`, `a/..`), an empty feature list is no `--features`.
/// The property holds for the rest, which is almost every value.
fn respelled(key: Site, value: &str) -> bool {
    let path = matches!(
        key,
        Site::Workdir
            | Site::AssetSource
            | Site::AssetDest
            | Site::PackageDir
            | Site::PackageName
            | Site::PathDependency
            | Site::DockerfileKey
            | Site::FlagDockerfile
    );
    let folded = |p: &str| {
        // `workdir` and an asset's destination are absolute; other paths are relative.
        let p = match key {
            Site::Workdir | Site::AssetDest => p.strip_prefix('/').unwrap_or(p),
            _ => p,
        };
        p.split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    };
    // A Dockerfile whose directory is no `RUN --mount` source as it is gets its scripts copied in instead.
    let unmountable = |p: &str| {
        let dir = p.rsplit_once('/').map_or("", |(dir, _)| dir);
        !dir.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/+@%:~-".contains(c))
    };
    (path && (value.is_empty() || folded(value) || (key == Site::Workdir && value == "/")))
        || (matches!(key, Site::DockerfileKey | Site::FlagDockerfile) && unmountable(value))
        // An asset goes to `<workdir>/<its file name>`.
        || (key == Site::AssetSource && value.contains('/'))
        // A bare image name gets its `:latest` written out (`plan::runtime`).
        || (matches!(key, Site::Runtime | Site::FlagRuntime) && !value.contains(['/', ':', '@']))
        // `dep/feature` is a dependency's feature, written as given.
        || (matches!(key, Site::Feature | Site::FlagFeatures)
            && (value.trim().is_empty() || value.contains('/')))
        // `--features` is a list, split on commas and whitespace.
        || (key == Site::FlagFeatures && value.contains(|c: char| c == ',' || c.is_whitespace()))
}

/// The ordinary plan's files, once per key.
fn baseline(key: Site) -> &'static Generated {
    use std::sync::OnceLock;
    static BASELINES: OnceLock<Vec<(Site, Generated)>> = OnceLock::new();
    let all = BASELINES.get_or_init(|| {
        SITES
            .iter()
            .map(|&key| match generate(key, &input(key, key.ordinary())) {
                Outcome::Generated(g) => (key, g),
                Outcome::Refused(e) => panic!("the ordinary value of {key:?} is refused: {e}"),
            })
            .collect()
    });
    &all.iter().find(|(k, _)| *k == key).expect("every key").1
}

/// The property: `value` at `key` is refused in one line naming the key, or inert.
fn refused_or_inert(key: Site, value: &str) -> Result<(), TestCaseError> {
    match generate(key, &input(key, value)) {
        Outcome::Refused(error) => {
            // clap's errors hold a usage block; the tool's own errors are one line.
            let first = error.lines().next().unwrap_or_default();
            prop_assert!(
                key.named().iter().any(|n| error.contains(n)),
                "{key:?} = {value:?}: the refusal does not name the key: {error}"
            );
            if !key.named()[0].starts_with("--") {
                prop_assert!(
                    !first.is_empty() && error.lines().skip(1).all(|l| l.starts_with("hint: ")),
                    "{key:?} = {value:?}: the refusal is not one line: {error:?}"
                );
            }
            // clap quotes a refused flag value raw (`invalid value 'a\r' for '--runtime'`): left to the
            // terminal-output sanitising of issue 19 item 5.
            prop_assert!(
                error.starts_with("error: invalid value '")
                    || !first.chars().any(cargo_dockerize::value::is_line_unsafe),
                "{key:?} = {value:?}: the refusal shows a raw control character: {first:?}"
            );
            Ok(())
        }
        Outcome::Generated(generated) => inert(key, value, &generated),
    }
}

/// The generated files hold `value` as data only.
fn inert(key: Site, value: &str, generated: &Generated) -> Result<(), TestCaseError> {
    let text = &generated.dockerfile;
    let base = baseline(key);
    let pairs = spellings(key, key.ordinary(), value);
    // The rules the ordinary plan breaks too are none of this value's doing (assets come from the context).
    let known: Vec<String> =
        structure::problems(&base.dockerfile, &structure::listed_binaries(&base.list))
            .iter()
            .flat_map(|p| {
                // Problems quote values as they are, or escaped (`{:?}`).
                let plain = pairs
                    .iter()
                    .fold(p.clone(), |p, (from, to)| p.replace(from.as_str(), to));
                let escaped = pairs.iter().fold(p.clone(), |p, (from, to)| {
                    p.replace(from.as_str(), format!("{to:?}").trim_matches('"'))
                });
                [plain, escaped]
            })
            .collect();
    // `dockerfile-parser` refuses some of what BuildKit reads (`ENV a-=x`, `\$` in a quoted `ENV` value): there the
    // rules hold through the comparison below, with the ordinary file, which keeps them.
    let problems: Vec<String> = structure::problems(text, &structure::listed_binaries(&generated.list))
        .into_iter()
        .filter(|p| !known.contains(p) && !p.starts_with("does not parse: "))
        // The rules on what a runtime stage copies and runs hold for the tool's own choices; assets and an
        // `entrypoint` or `cmd` are the user's (the comparison below checks they stay where the plan puts them).
        // `dockerfile-parser` reads a JSON-form `COPY` after flags as shell form (BuildKit does not).
        .filter(|p| {
            !(matches!(key, Site::AssetSource | Site::AssetDest) && p.contains("copies")
                || matches!(key, Site::Entrypoint | Site::Cmd) && p.contains("ENTRYPOINT")
                || value.chars().any(char::is_whitespace) && p.contains("copies")
                // A base or a root user the manifest names is the user's choice (root is noted in the plan).
                || matches!(key, Site::Runtime | Site::FlagRuntime)
                    && (p.contains("not scratch, distroless or Debian") || p.contains("`list` says"))
                || key == Site::User && p.contains("runs as `"))
        })
        .collect();
    prop_assert!(
        problems.is_empty(),
        "{key:?} = {value:?}: the Dockerfile breaks rules: {problems:?}\n{text}"
    );
    // A binary whose stage name is one of the Dockerfile's own (`builder`) gets another.
    let renamed = key == Site::BinName
        && generated.list["binaries"][0]["stage"].as_str()
            != Some(plan::stage_name(value).as_str());
    if !respelled(key, value) && !renamed {
        compare(key, value, text, base, &pairs)?;
    }
    workflow_inert(key, value, generated, base)
}

/// The Dockerfile `text` has the ordinary one's stages and instructions, word for word, with `pairs` replaced.
fn compare(
    key: Site,
    value: &str,
    text: &str,
    base: &Generated,
    pairs: &[(String, String)],
) -> Result<(), TestCaseError> {
    let expected = normalized(replaced(
        &read_dockerfile(&base.dockerfile).expect("the ordinary Dockerfile reads"),
        pairs,
    ));
    let got = normalized(
        read_dockerfile(text)
            .map_err(|e| TestCaseError::fail(format!("{key:?} = {value:?}: {e}")))?,
    );
    prop_assert_eq!(
        got.len(),
        expected.len(),
        "{:?} = {:?}: the number of stages\n{}",
        key,
        value,
        text
    );
    for (stage, (got, expected)) in got.iter().zip(&expected).enumerate() {
        let keywords = |r: &[Read]| r.iter().map(|r| r.keyword.clone()).collect::<Vec<_>>();
        prop_assert_eq!(
            keywords(got),
            keywords(expected),
            "{:?} = {:?}: the instructions of stage {}\n{}",
            key,
            value,
            stage,
            text
        );
        for (got, expected) in got.iter().zip(expected) {
            prop_assert_eq!(
                got,
                expected,
                "{:?} = {:?}: an instruction reads otherwise\n{}",
                key,
                value,
                text
            );
        }
    }
    Ok(())
}

/// The workflow parses as YAML, has the ordinary plan's keys at the same places, and no `${{` but the planned
/// ones.
fn workflow_inert(
    key: Site,
    value: &str,
    generated: &Generated,
    base: &Generated,
) -> Result<(), TestCaseError> {
    let (got, expected) = match (&generated.workflow, &base.workflow) {
        (Ok(got), Ok(expected)) => (got, expected),
        (Err(e), _) => {
            prop_assert!(!e.contains('\n'), "{key:?} = {value:?}: {e:?}");
            return Ok(());
        }
        (Ok(_), Err(e)) => panic!("the ordinary workflow of {key:?} is refused: {e}"),
    };
    let yaml: serde_norway::Value = serde_norway::from_str(got)
        .map_err(|e| TestCaseError::fail(format!("{key:?} = {value:?}: not YAML: {e}\n{got}")))?;
    let base_yaml: serde_norway::Value =
        serde_norway::from_str(expected).expect("the ordinary workflow is YAML");
    let (mut keys, mut strings) = (BTreeSet::new(), Vec::new());
    walk(&yaml, "", &mut keys, &mut strings);
    let (mut base_keys, mut base_strings) = (BTreeSet::new(), Vec::new());
    walk(&base_yaml, "", &mut base_keys, &mut base_strings);
    // A registry of another kind than the ordinary one (Docker Hub, GitHub's) has its own login step,
    // permission and expressions: those of the ordinary plan of each kind are planned.
    if matches!(key, Site::Registry | Site::FlagRegistry) {
        for kind in ["zqplainzq", "ghcr.io/zqplainzq", "docker.io/zqplainzq"] {
            if let Outcome::Generated(Generated {
                workflow: Ok(other),
                ..
            }) = generate(key, &input(key, kind))
            {
                let other: serde_norway::Value = serde_norway::from_str(&other).expect("YAML");
                walk(&other, "", &mut base_keys, &mut base_strings);
            }
        }
    }
    let differ: Vec<&String> = if matches!(key, Site::Registry | Site::FlagRegistry) {
        keys.difference(&base_keys).collect()
    } else {
        keys.symmetric_difference(&base_keys).collect()
    };
    prop_assert!(
        differ.is_empty(),
        "{key:?} = {value:?}: the workflow's keys differ: {differ:?}\n{got}"
    );
    // A registry's login reads secrets named after its host (`secrets.GHCR_IO_USERNAME`): any name GitHub's
    // grammar allows is planned, nothing else.
    let shape = |e: String| -> String {
        match e
            .strip_prefix("${{ secrets.")
            .and_then(|rest| rest.strip_suffix(" }}"))
        {
            Some(name)
                if matches!(key, Site::Registry | Site::FlagRegistry)
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                "${{ secrets.<name> }}".to_string()
            }
            _ => e,
        }
    };
    let planned: BTreeSet<String> = base_strings
        .iter()
        .flat_map(|s| expressions(s))
        .map(shape)
        .collect();
    for s in &strings {
        for expression in expressions(s).into_iter().map(shape) {
            prop_assert!(
                planned.contains(&expression),
                "{:?} = {:?}: the workflow holds `{}`, which the plan does not\n{}",
                key,
                value,
                expression,
                got
            );
        }
    }
    Ok(())
}

/// Every key path of `value` (sequence items as `[]`), and every string in it.
fn walk(
    value: &serde_norway::Value,
    path: &str,
    keys: &mut BTreeSet<String>,
    strings: &mut Vec<String>,
) {
    match value {
        serde_norway::Value::Mapping(map) => {
            for (k, v) in map {
                let k = match k {
                    serde_norway::Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                let path = format!("{path}.{k}");
                keys.insert(path.clone());
                walk(v, &path, keys, strings);
            }
        }
        serde_norway::Value::Sequence(items) => {
            for item in items {
                walk(item, &format!("{path}[]"), keys, strings);
            }
        }
        serde_norway::Value::String(s) => strings.push(s.clone()),
        serde_norway::Value::Tagged(tagged) => walk(&tagged.value, path, keys, strings),
        _ => {}
    }
}

/// The `${{ … }}` expressions of `text` (an unclosed one to its end).
fn expressions(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start..];
        let end = after.find("}}").map_or(after.len(), |e| e + 2);
        found.push(after[..end].to_string());
        rest = &after[end..];
    }
    found
}

/// How many cases each property runs: `PROPS_CASES`, else 32.
fn cases() -> u32 {
    std::env::var("PROPS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32)
}

fn run_key(key: Site) {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: cases(),
        failure_persistence: None,
        max_global_rejects: cases() * 4,
        ..RunnerConfig::default()
    });
    runner
        .run(&hostile(), |value| refused_or_inert(key, &value))
        .unwrap_or_else(|e| panic!("{key:?}: {e}"));
}

macro_rules! properties {
    ($($test:ident => $key:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                run_key(Site::$key);
            }
        )*
    };
}

properties! {
    workdir_is_refused_or_inert => Workdir,
    user_is_refused_or_inert => User,
    env_key_is_refused_or_inert => EnvKey,
    env_value_is_refused_or_inert => EnvValue,
    label_key_is_refused_or_inert => LabelKey,
    label_value_is_refused_or_inert => LabelValue,
    entrypoint_is_refused_or_inert => Entrypoint,
    cmd_is_refused_or_inert => Cmd,
    asset_source_is_refused_or_inert => AssetSource,
    asset_dest_is_refused_or_inert => AssetDest,
    feature_is_refused_or_inert => Feature,
    runtime_is_refused_or_inert => Runtime,
    build_env_key_is_refused_or_inert => BuildEnvKey,
    build_env_value_is_refused_or_inert => BuildEnvValue,
    build_package_is_refused_or_inert => BuildPackage,
    runtime_package_is_refused_or_inert => RuntimePackage,
    image_is_refused_or_inert => Image,
    tag_template_is_refused_or_inert => TagTemplate,
    binary_name_is_refused_or_inert => BinName,
    package_name_is_refused_or_inert => PackageName,
    package_dir_is_refused_or_inert => PackageDir,
    path_dependency_dir_is_refused_or_inert => PathDependency,
    toolchain_channel_is_refused_or_inert => Channel,
    dockerfile_key_is_refused_or_inert => DockerfileKey,
    registry_is_refused_or_inert => Registry,
    tag_flag_is_refused_or_inert => FlagTag,
    registry_flag_is_refused_or_inert => FlagRegistry,
    dockerfile_flag_is_refused_or_inert => FlagDockerfile,
    features_flag_is_refused_or_inert => FlagFeatures,
    runtime_flag_is_refused_or_inert => FlagRuntime,
}

/// What the properties found, each kept as an example.
mod found {
    use super::*;

    fn refusal(key: Site, value: &str) -> String {
        match generate(key, &input(key, value)) {
            Outcome::Refused(error) => error,
            Outcome::Generated(g) => panic!("{key:?} = {value:?} plans:\n{}", g.dockerfile),
        }
    }

    fn dockerfile(key: Site, value: &str) -> String {
        match generate(key, &input(key, value)) {
            Outcome::Generated(g) => g.dockerfile,
            Outcome::Refused(error) => panic!("{key:?} = {value:?} is refused: {error}"),
        }
    }

    /// `-p <package>` was written unquoted into every `cargo` line.
    #[test]
    fn a_package_name_is_one_shell_word() {
        let text = dockerfile(Site::PackageName, "a;id");
        assert!(text.contains("-p 'a;id'"), "{text}");
        refused_or_inert(Site::PackageName, "a;id").unwrap();
        let error = refusal(Site::PackageName, "a'b");
        assert!(error.contains("package `a'b`"), "{error}");
    }

    /// `FROM builder` and `FROM 0` are stages of the Dockerfile (the toolchain and the sources), not images.
    #[test]
    fn a_bare_runtime_image_is_never_a_stage() {
        for (runtime, from) in [
            ("builder", "FROM builder:latest AS"),
            ("0", "FROM 0:latest AS"),
        ] {
            let text = dockerfile(Site::Runtime, runtime);
            assert!(text.contains(from), "{runtime}:\n{text}");
            refused_or_inert(Site::Runtime, runtime).unwrap();
        }
        assert!(dockerfile(Site::Runtime, "alpine:3.20").contains("FROM alpine:3.20 AS"));
    }

    /// A registry, an image name or a tag with a control character was quoted raw in the refusal.
    #[test]
    fn refusals_show_control_characters_escaped() {
        for (key, value) in [
            (Site::Registry, "\t"),
            (Site::Registry, "a\nb"),
            (Site::Image, "a\t"),
            (Site::FlagTag, "\r"),
            (Site::PackageName, "\0"),
        ] {
            let error = refusal(key, value);
            assert!(!error.contains(['\t', '\r', '\0']), "{key:?}: {error:?}");
            assert!(
                error.lines().skip(1).all(|l| l.starts_with("hint: ")),
                "{key:?}: {error:?}"
            );
        }
    }

    /// An empty tag template was refused without naming `tags`.
    #[test]
    fn an_invalid_tag_names_the_key_it_came_from() {
        let error = refusal(Site::TagTemplate, "");
        assert!(
            error.contains("`tags` in `[package.metadata.dockerize]`"),
            "{error}"
        );
    }
}

/// One instruction as BuildKit's parser gives it: the keyword, its flags, whether it is in exec form, its words.
type BuildkitInstruction = (String, Vec<String>, bool, Vec<String>);

/// BuildKit's own parser (PyPI's `dockerfile`, which wraps it) reads every generated Dockerfile as the properties
/// read it: the same instructions in the same stages, the same flags, the same exec-form arrays, and `RUN`
/// commands that `sh` tokenizes alike. Checks the reader the properties trust on the files they generate.
#[test]
fn buildkit_reads_the_generated_files_as_the_properties_do() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let found = std::process::Command::new(&python)
        .args(["-c", "import dockerfile"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "this test needs BuildKit's parser: `pip install dockerfile` (.ci/run installs it)"
    );
    let mut runner = TestRunner::new(RunnerConfig {
        cases: cases(),
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let mut files = Vec::new();
    for &site in SITES {
        for _ in 0..cases().div_ceil(4) {
            let value = hostile().new_tree(&mut runner).expect("a value").current();
            if let Outcome::Generated(g) = generate(site, &input(site, &value)) {
                files.push((format!("{site:?} = {value:?}"), g.dockerfile));
            }
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let texts: Vec<&str> = files.iter().map(|(_, text)| text.as_str()).collect();
    let input_path = dir.path().join("dockerfiles.json");
    std::fs::write(&input_path, serde_json::to_string(&texts).expect("JSON")).expect("write");
    const SCRIPT: &str = r#"
import json, sys, dockerfile
out = []
for text in json.load(open(sys.argv[1])):
    out.append([[c.cmd.upper(), list(c.flags), c.json, list(c.value)] for c in dockerfile.parse_string(text)])
json.dump(out, sys.stdout)
"#;
    let run = std::process::Command::new(&python)
        .args(["-c", SCRIPT])
        .arg(&input_path)
        .output()
        .expect("run python");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let parsed: Vec<Vec<BuildkitInstruction>> =
        serde_json::from_slice(&run.stdout).expect("the parser's JSON");
    assert_eq!(parsed.len(), files.len());
    for ((what, text), buildkit) in files.iter().zip(&parsed) {
        let ours: Vec<Read> = read_dockerfile(text)
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .into_iter()
            .flatten()
            .collect();
        let keywords: Vec<&str> = buildkit.iter().map(|(cmd, ..)| cmd.as_str()).collect();
        let our_keywords: Vec<&str> = ours.iter().map(|r| r.keyword.as_str()).collect();
        assert_eq!(keywords, our_keywords, "{what}: the instructions\n{text}");
        for ((cmd, flags, json, value), read) in buildkit.iter().zip(&ours) {
            if cmd == "RUN" && !json {
                let command = value.join(" ");
                assert_eq!(
                    shell_tokens(&command),
                    read.shell,
                    "{what}: `sh` reads BuildKit's command otherwise: {command}"
                );
                let our_flags: Vec<String> = flags.iter().flat_map(|f| docker_words(f)).collect();
                assert_eq!(our_flags, read.words, "{what}: the flags of RUN {command}");
            } else if *json && cmd != "RUN" {
                let mut words: Vec<String> = flags.iter().flat_map(|f| docker_words(f)).collect();
                words.extend(value.iter().cloned());
                assert_eq!(&words, &read.words, "{what}: the {cmd} array");
            }
        }
    }
    eprintln!(
        "BuildKit's parser read {} generated Dockerfiles",
        files.len()
    );
}

/// The readers themselves, on examples.
mod readers {
    use super::*;
    use common::words::EXPANDS;

    fn words(tokens: &[&str]) -> Vec<Token> {
        tokens
            .iter()
            .map(|t| match *t {
                ";" | "&&" | "|" | ">" => Token::Op(t.to_string()),
                w => Token::Word(w.to_string()),
            })
            .collect()
    }

    #[test]
    fn shell_tokens_split_operators_and_keep_quoted_text() {
        assert_eq!(
            shell_tokens("mkdir -p '/recipe/a;b' && x\\;y;z").unwrap(),
            words(&["mkdir", "-p", "/recipe/a;b", "&&", "x;y", ";", "z"])
        );
        assert_eq!(
            shell_tokens("a \"b $X\" 'c $X'").unwrap(),
            words(&["a", &format!("b {EXPANDS}X"), "c $X"])
        );
        assert_eq!(shell_tokens("a 'b"), None);
        assert_ne!(shell_tokens("a $(id)"), shell_tokens("a '$(id)'"));
    }

    #[test]
    fn docker_words_read_quotes_escapes_and_expansions() {
        assert_eq!(
            docker_words(r#"A="x \"y\" \$z" B=$C"#),
            [r#"A=x "y" $z"#, &format!("B={EXPANDS}C")]
        );
        assert_eq!(logical_line("RUN a \\\n  # note\n  b\nENV x"), "RUN a   b");
    }
}
