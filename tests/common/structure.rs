//! The rules every generated Dockerfile keeps, checked on the parsed file (the `dockerfile-parser` crate,
//! which reads our line continuations, the single-quoted perl recipe script and the JSON-form ENTRYPOINT).
//!
//! Rules (those the generated Dockerfile promises, README.md): every stage named, with a valid and unique name; a stage is referenced (`FROM x`,
//! `COPY --from=x`) only after it is defined and never by number; one runtime stage per binary that
//! `list --format json` reports; runtime stages start from `scratch`, distroless or Debian, run no
//! compiler, copy only their own binary (and the CA bundle), run as a non-root user and have an exec-form
//! ENTRYPOINT that is the binary they copied. A runtime stage may start from a stage that images share (no
//! ENTRYPOINT of its own): the rules hold for the chain of stages from its base image down to it.

use dockerfile_parser::{
    CopyInstruction, Dockerfile, EntrypointInstruction, Instruction, RunInstruction, Stage,
    StageParent, Stages,
};

/// What `list --format json` says about one binary.
#[derive(Debug, Clone)]
pub struct ListedBinary {
    pub name: String,
    pub stage: String,
    pub builder: String,
    pub base_image: String,
    /// What the stage copies from the builder: `/out/<stage>`.
    pub artifact: String,
    /// Its debug variant's stage, which holds the unstripped binary on Debian slim.
    pub debug_stage: Option<String>,
}

impl ListedBinary {
    /// The debug variant as the runtime rules see it: its own stage, on Debian slim, copying `/out/debug/<stage>`.
    fn debug_view(&self) -> Option<ListedBinary> {
        Some(ListedBinary {
            name: self.name.clone(),
            stage: self.debug_stage.clone()?,
            builder: self.builder.clone(),
            base_image: "debian:bookworm-slim".into(),
            artifact: format!("/out/debug/{}", self.stage),
            debug_stage: None,
        })
    }
}

/// Where runtime binaries live, and the CA bundle scratch images get from the builder base.
const BIN_DIR: &str = "/usr/local/bin";
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Words that mean a build tool runs in a stage.
const BUILD_TOOLS: &[&str] = &[
    "cargo",
    "rustc",
    "rustup",
    "gcc",
    "cc",
    "clang",
    "ld",
    "make",
    "cargo-chef",
];

/// `^[a-z][a-z0-9._-]*$`: a Dockerfile stage name that is also a valid image name.
pub fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
}

/// Checks `text` against every rule; panics listing every broken one, labelled with `context`.
pub fn check(context: &str, text: &str, binaries: &[ListedBinary]) {
    let problems = problems(text, binaries);
    assert!(
        problems.is_empty(),
        "{context}: the generated Dockerfile breaks {} rule(s):\n  - {}\n--- Dockerfile\n{text}",
        problems.len(),
        problems.join("\n  - ")
    );
}

/// The binaries `list --format json` reports, as the structural checks need them.
pub fn listed_binaries(list: &serde_json::Value) -> Vec<ListedBinary> {
    list["binaries"]
        .as_array()
        .expect("`binaries` is an array")
        .iter()
        .map(|b| {
            let stage = b["stage"].as_str().expect("stage").to_string();
            ListedBinary {
                name: b["name"].as_str().expect("name").to_string(),
                artifact: format!("/out/{stage}"),
                stage,
                builder: b["builder"].as_str().expect("builder").to_string(),
                base_image: b["base_image"].as_str().expect("base_image").to_string(),
                debug_stage: b["debug"]["stage"].as_str().map(str::to_string),
            }
        })
        .collect()
}

/// Every broken rule, one line each.
pub fn problems(text: &str, binaries: &[ListedBinary]) -> Vec<String> {
    let dockerfile = match Dockerfile::parse(text) {
        Ok(d) => d,
        Err(e) => return vec![format!("does not parse: {e}")],
    };
    let mut problems = Vec::new();
    if dockerfile.get_global_arg("RUST_VERSION").is_none() {
        problems.push("no global `ARG RUST_VERSION` before the first FROM".into());
    }
    let stages = dockerfile.stages();
    let names: Vec<Option<String>> = stages.iter().map(|s| s.name.clone()).collect();
    for stage in stages.iter() {
        let Some(name) = &stage.name else {
            problems.push(format!("stage #{} has no name", stage.index));
            continue;
        };
        stage_name_problems(stage, name, &names, &mut problems);
        for instruction in &stage.instructions {
            reference_problems(stage.index, name, instruction, &names, &mut problems);
        }
    }
    let with_debug: Vec<ListedBinary> = binaries
        .iter()
        .cloned()
        .chain(binaries.iter().filter_map(ListedBinary::debug_view))
        .collect();
    let binaries = with_debug.as_slice();
    runtime_stage_problems(&stages, binaries, &mut problems);
    for binary in binaries {
        if let Some(stage) = stages
            .iter()
            .find(|s| s.name.as_deref() == Some(&binary.stage))
        {
            runtime_problems(&chain(&stages, stage), binary, &mut problems);
        }
    }
    problems
}

/// The stages an image is made of: from the one that starts from an image (or scratch) down to `stage`.
fn chain<'a>(stages: &'a Stages<'a>, stage: &'a Stage<'a>) -> Vec<&'a Stage<'a>> {
    let mut chain = vec![stage];
    while let StageParent::Stage(parent) = chain[0].parent {
        if parent >= chain[0].index {
            break;
        }
        chain.insert(0, &stages[parent]);
    }
    chain
}

/// The index of the stage named `name`.
fn index_of(names: &[Option<String>], name: &str) -> Option<usize> {
    names.iter().position(|n| n.as_deref() == Some(name))
}

/// A stage's name is valid as written and unique.
fn stage_name_problems(
    stage: &Stage,
    name: &str,
    names: &[Option<String>],
    problems: &mut Vec<String>,
) {
    // The parser lowercases stage names, as Docker does; the rule is about the name as written.
    let written = stage
        .instructions
        .iter()
        .find_map(|i| i.as_from())
        .and_then(|f| f.alias.as_ref())
        .map_or(name, |a| a.content.as_str());
    if !is_valid_stage_name(written) {
        problems.push(format!("stage name `{written}` is not `[a-z][a-z0-9._-]*`"));
    }
    if index_of(names, name) != Some(stage.index) {
        problems.push(format!("stage name `{name}` is used more than once"));
    }
}

/// A stage is referenced (`FROM x`, `COPY --from=x`) only after it is defined, and never by number.
fn reference_problems(
    index: usize,
    name: &str,
    instruction: &Instruction,
    names: &[Option<String>],
    problems: &mut Vec<String>,
) {
    match instruction {
        Instruction::From(from) => {
            let image = from.image.content.as_str();
            if image.chars().all(|c| c.is_ascii_digit()) {
                problems.push(format!(
                    "stage `{name}` starts FROM a stage number ({image})"
                ));
            }
            if index_of(names, image).is_some_and(|i| i >= index) {
                problems.push(format!(
                    "stage `{name}` starts FROM `{image}`, which is not defined before it"
                ));
            } // The pick of a multi-platform plan: some platform's builder of that kind is defined before it.
            if let Some(kind) = image.strip_suffix("-${TARGETARCH}${TARGETVARIANT}") {
                let picked = names[..index]
                    .iter()
                    .flatten()
                    .any(|n| n.strip_prefix(kind).is_some_and(|s| s.starts_with('-')));
                if !picked {
                    problems.push(format!(
                        "stage `{name}` picks `{image}`, but no `{kind}-<arch>` stage is defined before it"
                    ));
                }
            }
        }
        Instruction::Copy(copy) => {
            for flag in copy.flags.iter().filter(|f| f.name.content == "from") {
                let from = flag.value.content.as_str();
                if from.chars().all(|c| c.is_ascii_digit()) {
                    problems.push(format!("stage `{name}` has a numeric `COPY --from={from}`"));
                }
                match index_of(names, from) {
                    Some(i) if i < index => {}
                    Some(_) => problems.push(format!(
                        "stage `{name}` copies from `{from}`, which is defined after it"
                    )),
                    None => problems.push(format!(
                        "stage `{name}` copies from `{from}`, which is no stage of this Dockerfile"
                    )),
                }
            }
        }
        _ => {}
    }
}

/// Runtime stages (those with an ENTRYPOINT) are exactly the stages `list` reports, each once, with their debug
/// variants.
fn runtime_stage_problems(stages: &Stages, binaries: &[ListedBinary], problems: &mut Vec<String>) {
    let mut found: Vec<&str> = stages
        .iter()
        .filter(|s| s.instructions.iter().any(|i| i.as_entrypoint().is_some()))
        .filter_map(|s| s.name.as_deref())
        .collect();
    found.sort();
    let mut listed: Vec<&str> = binaries.iter().map(|b| b.stage.as_str()).collect();
    listed.sort();
    if found != listed {
        problems.push(format!(
            "runtime stages {found:?} are not the binaries' stages {listed:?} from `list --format json`"
        ));
    }
}

/// The rules of the runtime stage of `binary`, made of the stages of `chain` (its shared stages first).
fn runtime_problems(chain: &[&Stage], binary: &ListedBinary, problems: &mut Vec<String>) {
    base_problems(chain[0], binary, problems);
    for shared in &chain[..chain.len() - 1] {
        if shared
            .instructions
            .iter()
            .any(|i| i.as_entrypoint().is_some())
        {
            problems.push(format!(
                "runtime stage `{}` starts from stage #{}, another image",
                binary.stage, shared.index
            ));
        }
    }
    let mut own_copies = 0;
    let mut user = None;
    let mut entrypoint = None;
    for instruction in chain.iter().flat_map(|s| &s.instructions) {
        match instruction {
            Instruction::Run(run) => build_tool_problems(&binary.stage, run, problems),
            Instruction::Copy(copy) => own_copies += copy_problems(binary, copy, problems),
            Instruction::Misc(misc) if misc.instruction.content.eq_ignore_ascii_case("USER") => {
                user = Some(misc.arguments.to_string().trim().to_string());
            }
            Instruction::Entrypoint(e) => entrypoint = Some(e),
            _ => {}
        }
    }
    if own_copies != 1 {
        problems.push(format!(
            "runtime stage `{}` copies `/out/{}` from `{}` {own_copies} times, not once",
            binary.stage, binary.stage, binary.builder
        ));
    }
    user_problems(&binary.stage, user.as_deref(), problems);
    entrypoint_problems(binary, entrypoint, problems);
}

/// A runtime stage starts from `scratch`, distroless or Debian: the base `list` reports.
fn base_problems(stage: &Stage, binary: &ListedBinary, problems: &mut Vec<String>) {
    let name = &binary.stage;
    let from = stage
        .instructions
        .iter()
        .find_map(|i| i.as_from())
        .expect("every stage starts with FROM");
    let base = from.image.content.as_str();
    let base_ok = match &stage.parent {
        StageParent::Scratch => true,
        StageParent::Image(_) => {
            base.starts_with("gcr.io/distroless/") || base.starts_with("debian:")
        }
        StageParent::Stage(_) => false,
    };
    if !base_ok {
        problems.push(format!(
            "runtime stage `{name}` starts from `{base}`, not scratch, distroless or Debian"
        ));
    }
    if base != binary.base_image {
        problems.push(format!(
            "runtime stage `{name}` starts from `{base}` but `list` says `{}`",
            binary.base_image
        ));
    }
}

/// A runtime stage runs no compiler or other build tool.
fn build_tool_problems(name: &str, run: &RunInstruction, problems: &mut Vec<String>) {
    let command = match run.as_shell() {
        Some(shell) => shell.to_string(),
        None => run
            .as_exec()
            .map(|e| e.as_str_vec().join(" "))
            .unwrap_or_default(),
    };
    let words = command.split(|c: char| c.is_whitespace() || ";&|()".contains(c));
    for word in words {
        let program = word.rsplit('/').next().unwrap_or(word);
        if BUILD_TOOLS.contains(&program) {
            problems.push(format!(
                "runtime stage `{name}` runs the build tool `{program}`: RUN {command}"
            ));
        }
    }
}

/// A runtime stage copies only its own binary (to [`BIN_DIR`]), the CA bundle and its empty working
/// directory, never from the build context. Returns 1 for a copy of its own binary, else 0.
fn copy_problems(
    binary: &ListedBinary,
    copy: &CopyInstruction,
    problems: &mut Vec<String>,
) -> usize {
    let name = &binary.stage;
    let entry = format!("{BIN_DIR}/{}", binary.name);
    let artifact = &binary.artifact;
    let from = copy
        .flags
        .iter()
        .find(|f| f.name.content == "from")
        .map(|f| f.value.content.as_str());
    let sources: Vec<&str> = copy.sources.iter().map(|s| s.content.as_str()).collect();
    let destination = copy.destination.content.as_str();
    match from {
        None => problems.push(format!(
            "runtime stage `{name}` copies from the build context ({sources:?})"
        )),
        Some(from) if from == binary.builder && sources == [artifact.as_str()] => {
            if destination != entry {
                problems.push(format!(
                    "runtime stage `{name}` puts its binary at `{destination}`, not `{entry}`"
                ));
            }
            return 1;
        }
        Some(_) if sources == [CA_BUNDLE] && destination == CA_BUNDLE => {}
        // The empty directory that becomes the working directory, owned by the user.
        Some(from) if from == binary.builder && sources == ["/out/.empty/"] => {}
        Some(from) => problems.push(format!(
            "runtime stage `{name}` copies {sources:?} from `{from}`: only its binary and the CA bundle belong there"
        )),
    }
    0
}

/// A runtime stage runs as a non-root user.
fn user_problems(name: &str, user: Option<&str>, problems: &mut Vec<String>) {
    match user {
        None => problems.push(format!(
            "runtime stage `{name}` has no USER: it runs as root"
        )),
        Some(user) => {
            let uid = user.split(':').next().unwrap_or(user);
            if uid.is_empty() || uid == "root" || uid == "0" {
                problems.push(format!("runtime stage `{name}` runs as `{user}`"));
            }
        }
    }
}

/// A runtime stage has an exec-form ENTRYPOINT that is the binary it copied.
fn entrypoint_problems(
    binary: &ListedBinary,
    entrypoint: Option<&EntrypointInstruction>,
    problems: &mut Vec<String>,
) {
    let name = &binary.stage;
    let entry = format!("{BIN_DIR}/{}", binary.name);
    match entrypoint.map(|e| e.expr.as_exec()) {
        None => problems.push(format!("runtime stage `{name}` has no ENTRYPOINT")),
        Some(None) => problems.push(format!(
            "runtime stage `{name}` has a shell-form ENTRYPOINT (scratch has no shell)"
        )),
        Some(Some(exec)) => {
            let argv = exec.as_str_vec();
            if argv != [entry.as_str()] {
                problems.push(format!(
                    "runtime stage `{name}` has ENTRYPOINT {argv:?}, not [\"{entry}\"]"
                ));
            }
        }
    }
}
