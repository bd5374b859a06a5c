//! `completions` and `man` through the real binary, loaded where users load them: each script in its real shell,
//! asked to complete a flag, a subcommand, a subcommand's own flag and a value, as `cargo-dockerize ...` and, where
//! the shell hands a Cargo subcommand to its own completion, as `cargo dockerize ...`; the manual page rendered
//! by man-db's `man -l` with groff's warnings on.
//!
//! bash, fish, zsh and man-db come from Debian (`.ci/run` installs the missing ones); a missing one fails the
//! test ([`require_tools`]). PowerShell and elvish are not in Debian's archive: their scripts are only checked to
//! be generated (unit tests in src/cli/completions.rs).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{require_tools, run, tool};

/// The script for `shell`, written under `dir` as `name`.
fn script(shell: &str, dir: &Path, name: &str) -> PathBuf {
    let out = run(tool().args(["completions", shell]));
    out.assert_success(&format!("completions {shell}"));
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let path = dir.join(name);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// The directory of the binary under test, for a `PATH` on which Cargo finds `cargo-dockerize`.
fn path_with_binary() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_cargo-dockerize"))
        .parent()
        .unwrap();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap()
}

/// Splits `== <line>` sections of a shell's output into line → candidates.
fn sections(output: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    let mut current = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            current = Some(name.to_string());
            map.insert(name.to_string(), Vec::new());
        } else if let Some(name) = &current {
            // fish prints `candidate<TAB>description`.
            let candidate = line.split('\t').next().unwrap_or_default().to_string();
            map.get_mut(name).unwrap().push(candidate);
        }
    }
    map
}

/// Each command line must offer `expected` among its candidates.
fn assert_offers(map: &BTreeMap<String, Vec<String>>, cases: &[(&str, &str)], output: &str) {
    for (line, expected) in cases {
        let candidates = map
            .get(*line)
            .unwrap_or_else(|| panic!("no completion of `{line}` in\n{output}"));
        assert!(
            candidates.iter().any(|c| c == expected),
            "`{line}<TAB>` offers {candidates:?}, not `{expected}`"
        );
    }
}

/// The completions every shell must give: line typed (cursor at its end) → a candidate it must offer.
const CASES: &[(&str, &str)] = &[
    ("cargo-dockerize --pla", "--platform"),
    ("cargo-dockerize gen", "generate"),
    ("cargo-dockerize generate --ch", "--check"),
    ("cargo-dockerize ci --wor", "--workflow"),
    ("cargo-dockerize --libc ", "musl"),
    ("cargo-dockerize completions ", "fish"),
];

/// bash: `complete -p` names the function the script registered; the function runs as bash runs it on <TAB>
/// (`COMP_WORDS`, `COMP_CWORD`, `COMP_LINE`, `COMP_POINT`; the command, the word and the previous word as
/// arguments), and `COMPREPLY` is what it offers. Cargo's own script hands `cargo dockerize ...` to this function
/// with the same words from `cargo-dockerize` on (bash-completion 2.12), so these cases cover that form too.
#[test]
fn bash_completes_flags_subcommands_and_values() {
    require_tools(
        "the bash completion test",
        &[("bash", "apt-get install bash")],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = script("bash", dir.path(), "cargo-dockerize.bash");
    let mut driver = String::from(
        r#"set -u
source "$1"
registered=$(complete -p cargo-dockerize)
echo "$registered"
fn=$(sed -E 's/.* -F ([^ ]+) .*/\1/' <<<"$registered")
comp() {
  read -ra COMP_WORDS <<<"$1"
  [[ $1 == *' ' ]] && COMP_WORDS+=('')
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE=$1; COMP_POINT=${#1}; COMPREPLY=()
  "$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "== $1"
  printf '%s\n' "${COMPREPLY[@]}"
}
"#,
    );
    for (line, _) in CASES {
        driver.push_str(&format!("comp '{line}'\n"));
    }
    let out = run(Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver, "bash"])
        .arg(&path)
        .current_dir(dir.path()));
    out.assert_success("bash loading the script");
    assert!(
        out.stdout.starts_with(
            "complete -o bashdefault -o default -o nosort -F _cargo__dockerize cargo-dockerize\n"
        ),
        "{}",
        out.stdout
    );
    assert_offers(&sections(&out.stdout), CASES, &out.stdout);
}

/// fish: `complete -C '<line>'` asks fish what <TAB> would offer. The script adds a rule for `cargo`, so
/// `cargo dockerize ...` (with a toolchain or a flag before `dockerize`) completes as `cargo-dockerize ...`.
#[test]
fn fish_completes_both_forms() {
    require_tools(
        "the fish completion test",
        &[("fish", "apt-get install fish")],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = script("fish", dir.path(), "cargo-dockerize.fish");
    let mut cases: Vec<(String, &str)> = CASES.iter().map(|(l, e)| (l.to_string(), *e)).collect();
    for (line, expected) in CASES {
        cases.push((
            line.replacen("cargo-dockerize", "cargo dockerize", 1),
            expected,
        ));
    }
    cases.push(("cargo +stable dockerize generate --ch".into(), "--check"));
    cases.push(("cargo -q dockerize --libc ".into(), "gnu"));
    let mut driver = String::from("source $SCRIPT\n");
    for (line, _) in &cases {
        driver.push_str(&format!("echo '== {line}'\ncomplete -C '{line}'\n"));
    }
    let out = run(Command::new("fish")
        .args(["--no-config", "-c", &driver])
        .env("SCRIPT", &path)
        .env("PATH", path_with_binary())
        .current_dir(dir.path()));
    out.assert_success("fish loading the script");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let cases: Vec<(&str, &str)> = cases.iter().map(|(l, e)| (l.as_str(), *e)).collect();
    assert_offers(&sections(&out.stdout), &cases, &out.stdout);
}

/// zsh: an interactive zsh in a pseudo-terminal (`zpty`) with the script in `fpath`, `compinit` run, and
/// `compadd` wrapped to print what it is given; <TAB> is typed after each line. `cargo dockerize ...` goes
/// through Cargo's own `_cargo` (from `rustup completions zsh cargo`), which calls `_cargo-dockerize`.
#[test]
fn zsh_completes_both_forms() {
    let tools = [("zsh", "apt-get install zsh"), ("rustup", "rustup.rs")];
    require_tools("the zsh completion test", &tools);
    let dir = tempfile::tempdir().unwrap();
    script("zsh", dir.path(), "_cargo-dockerize");
    let cargo = run(Command::new("rustup").args(["completions", "zsh", "cargo"]));
    cargo.assert_success("rustup completions zsh cargo");
    std::fs::write(dir.path().join("_cargo"), &cargo.stdout).unwrap();
    for (line, expected) in [
        ("cargo-dockerize --pla", "--platform"),
        ("cargo-dockerize generate --ch", "--check"),
        ("cargo dockerize generate --ch", "--check"),
        ("cargo dockerize --libc ", "musl"),
    ] {
        let out = run(Command::new("zsh")
            .args(["-f", "-c", ZSH_DRIVER, "zsh"])
            .arg(dir.path())
            .arg(line)
            .env("PATH", path_with_binary())
            .current_dir(dir.path())
            .stdin(Stdio::null()));
        out.assert_success(&format!("zsh completing `{line}`"));
        let hits: Vec<&str> = out
            .stdout
            .split(['\r', '\n'])
            .filter_map(|l| l.split_once("HIT:").map(|(_, hit)| hit))
            .flat_map(|hit| hit.split(','))
            .collect();
        assert!(
            hits.contains(&expected),
            "`{line}<TAB>` offers {hits:?}, not `{expected}`\n{}",
            out.stdout
        );
    }
}

/// Types `$2` and <TAB> into an interactive zsh whose `fpath` starts with `$1`; prints its output until a second
/// after the first non-empty `HIT:` line (10 s at most).
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; zstyle ':completion:*' menu no"
zpty -w z 'compadd() { local -a hits; builtin compadd -O hits "$@"; print -r -- "HIT:${(j:,:)hits}"; builtin compadd "$@" }'
zpty -n -w z "$2"$'\t'
local line hit=0 deadline=$(( SECONDS + 10 ))
while (( SECONDS < deadline )); do
  if zpty -r -t z line; then
    print -rn -- "$line"
    # After the first candidates, a second more for any other group of them.
    [[ $hit == 0 && $line == *HIT:[[:alnum:]-]* ]] && hit=1 deadline=$(( SECONDS + 1 ))
  else
    sleep 0.1
  fi
done
zpty -d z
"#;

/// The page renders with man-db from stdin, as `cargo dockerize man | man -l -` (the help's advice), with
/// groff's warnings on and none given, and holds every section and command.
#[test]
fn the_man_page_renders_with_man() {
    require_tools("the man page test", &[("man", "apt-get install man-db")]);
    let page = run(tool().arg("man"));
    page.assert_success("man");
    let mut man = Command::new("man")
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("man runs");
    use std::io::Write as _;
    man.stdin
        .take()
        .unwrap()
        .write_all(page.stdout.as_bytes())
        .unwrap();
    let out = man.wait_with_output().unwrap();
    // Filled text is justified with extra spaces: compare with runs of spaces folded.
    let fold = |text: &str| {
        text.split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let stdout = fold(&String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l: {stderr}");
    assert!(stderr.is_empty(), "groff warned:\n{stderr}");
    for needle in [
        "NAME",
        "cargo-dockerize - Containerize a Cargo workspace",
        "SYNOPSIS",
        "cargo dockerize [OPTIONS] [COMMAND]",
        "PACKAGE SELECTION",
        "--platform <PLATFORMS>",
        "cargo dockerize generate",
        "cargo dockerize completions",
        "EXAMPLES",
        "cargo dockerize list --format json     the binaries",
        "EXIT STATUS",
    ] {
        assert!(
            stdout.contains(&fold(needle)),
            "the page lacks `{needle}`:\n{stdout}"
        );
    }
}

#[test]
fn completions_and_man_read_no_workspace_and_refuse_build_flags() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["completions", "bash"][..], &["man"]] {
        let out = run(tool().args(args).current_dir(dir.path()));
        out.assert_success(&format!("{args:?} outside any workspace"));
        assert!(!out.stdout.is_empty());
    }
    let out = run(tool().args(["completions"]));
    out.assert_error(2, "completions without a shell");
    let out = run(tool().args(["completions", "tcsh"]));
    let error = out.assert_error(2, "completions tcsh");
    assert!(error.contains("tcsh"), "{error}");
    assert!(
        out.stderr.contains("bash, elvish, fish, powershell, zsh"),
        "{}",
        out.stderr
    );
    let out = run(tool().args(["completions", "bash", "--push"]));
    let error = out.assert_error(2, "completions bash --push");
    assert!(
        error.contains("`--push` only applies when building"),
        "{error}"
    );
}
