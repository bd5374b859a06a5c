//! Shell completion scripts, generated from the clap definitions by `clap_complete`: they cannot drift from the
//! flags.
//!
//! The scripts complete the binary's own name, `cargo-dockerize`. `cargo dockerize ...` is Cargo's command line,
//! and each shell reaches a subcommand's completion its own way:
//!
//! - zsh: Cargo's `_cargo` calls `_cargo-<subcommand>` when a function of that name exists, with the words from
//!   the subcommand on; the generated `_cargo-dockerize` is that function, so both forms complete.
//! - bash: Cargo's completion script hands `cargo <subcommand> ...` to `cargo-<subcommand>`'s completion with
//!   bash-completion 2.12 or later (`_comp_command_offset`); older bash-completion completes file names there.
//! - fish: Cargo's completion (shipped with fish) lists `dockerize` among Cargo's subcommands but completes nothing
//!   after it, so the fish script adds one rule for `cargo`: after `dockerize`, complete as `cargo-dockerize`
//!   would. Fish loads `completions/<command>.fish` only for the command being completed, hence the advice to
//!   install the script in `conf.d`.
//! - PowerShell and elvish: `cargo-dockerize` only.

use std::fmt::Write as _;

use clap_complete::Shell;

/// How to install each script, for `completions --help`.
pub const AFTER_HELP: &str = "\
Install the script where the shell looks for it:
  bash        ~/.local/share/bash-completion/completions/cargo-dockerize
  zsh         ~/.zfunc/_cargo-dockerize (with `fpath+=(~/.zfunc)` before `compinit` in ~/.zshrc)
  fish        ~/.config/fish/conf.d/cargo-dockerize.fish (conf.d, for `cargo dockerize` too)
  powershell  appended to $PROFILE
  elvish      appended to ~/.config/elvish/rc.elv
for example: cargo dockerize completions fish > ~/.config/fish/conf.d/cargo-dockerize.fish

`cargo-dockerize ...` completes in every shell; `cargo dockerize ...` in zsh (through Cargo's `_cargo`), in \
fish, and in bash with Cargo's completion script and bash-completion 2.12 or later.";

/// The binary the scripts complete.
pub const BIN: &str = "cargo-dockerize";

/// Fish: completes `cargo [+toolchain] [flags] dockerize ...` as `cargo-dockerize ...`. The tokens after
/// `dockerize` are escaped again because `commandline -opc` unescapes them; the token being typed is passed as
/// typed, as one word even when empty (so `cargo dockerize ci <TAB>` completes what follows `ci`).
const FISH_CARGO: &str = r#"
# `cargo dockerize ...`: completed as `cargo-dockerize ...` is.
function __cargo_dockerize_as_binary
    set -l tokens (commandline -opc)
    set -l at (contains -i -- dockerize $tokens)
    or return
    set -e tokens[1..$at]
    set -l current (commandline -ct)
    complete -C (string join -- ' ' cargo-dockerize (string escape -- $tokens) "$current")
end
complete -c cargo -n '__fish_seen_subcommand_from dockerize' -f -a '(__cargo_dockerize_as_binary)'
"#;

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut command = binary_command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => bash(script),
        Shell::Fish => fish(script, &command),
        _ => script,
    }
}

/// clap_complete's bash script, mended (clap#6421, clap_complete 4.6): for a binary whose name has a hyphen, the
/// loop that finds the subcommand spells its state `cargo__dockerize__subcmd__generate`, the `case` arms spell
/// it `cargo__subcmd__dockerize__subcmd__generate`, so nothing after a subcommand completed. The arms take the
/// loop's spelling (a no-op once clap_complete agrees with itself).
fn bash(script: String) -> String {
    script.replace("cargo__subcmd__dockerize", "cargo__dockerize")
}

/// clap_complete's fish script, mended where it completes less than the other shells' (clap_complete 4.6):
///
/// - Its guard "no subcommand yet" fails while an option before the subcommand still waits for its value
///   (`argparse` refuses the line), so `cargo-dockerize --libc <TAB>` offered nothing: an unparsable line
///   counts as "no subcommand yet", and fish then offers that option's values.
/// - It completes no positional values: a subcommand's positional with possible values (`completions <shell>`)
///   gets a rule here, from the same definitions.
///
/// Then the rule for `cargo dockerize ...`.
fn fish(script: String, command: &clap::Command) -> String {
    const GUARD: &str =
        "argparse -s (__fish_cargo_dockerize_global_optspecs) -- $cmd 2>/dev/null\n    or return\n";
    let mut script = script.replacen(GUARD, &GUARD.replace("or return\n", "or return 0\n"), 1);
    for sub in command.get_subcommands() {
        for arg in sub.get_positionals().filter(|a| !a.is_hide_set()) {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() {
                let _ = writeln!(
                    script,
                    "complete -c {BIN} -n \"__fish_cargo_dockerize_using_subcommand {}\" -f -a '{}'",
                    sub.get_name(),
                    values.join(" ")
                );
            }
        }
    }
    script.push_str(FISH_CARGO);
    script
}

/// The command as the `cargo-dockerize` binary knows it, Cargo's shim left out: what the completion scripts and
/// the manual page are generated from.
pub fn binary_command() -> clap::Command {
    use clap::CommandFactory;
    super::CargoCli::command()
        .find_subcommand("dockerize")
        .expect("the shim's one subcommand")
        .clone()
        .name(BIN)
        .bin_name(BIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_gets_a_script_naming_the_binary_and_its_flags() {
        for shell in Shell::value_variants() {
            let script = script(*shell);
            assert!(script.contains(BIN), "{shell}");
            for flag in ["platform", "manifest-path", "check"] {
                assert!(script.contains(flag), "{shell}: {flag}");
            }
        }
    }

    #[test]
    fn the_fish_script_is_mended() {
        let script = script(Shell::Fish);
        assert!(
            script.contains("2>/dev/null\n    or return 0\n"),
            "clap_complete's fish guard changed: see `fish`"
        );
        assert!(script
            .contains("using_subcommand completions\" -f -a 'bash elvish fish powershell zsh'"));
    }

    #[test]
    fn the_bash_script_spells_each_state_one_way() {
        let script = script(Shell::Bash);
        assert!(!script.contains("cargo__subcmd__dockerize"));
        assert!(script.contains("cmd=\"cargo__dockerize__subcmd__generate\""));
        assert!(script.contains("\n        cargo__dockerize__subcmd__generate)\n"));
    }

    #[test]
    fn only_fish_gets_the_cargo_rule() {
        assert!(script(Shell::Fish).contains("complete -c cargo -n"));
        assert!(!script(Shell::Bash).contains("__cargo_dockerize_as_binary"));
    }
}
