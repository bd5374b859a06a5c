//! Values someone who can edit one file of a workspace writes to make a generated file say something else
//! (issue 19): each is refused in one line naming the file and the key, with nothing written, or is inert (quoted
//! for its context). Through the real binary, on copies of `single-bin`.

mod common;

use common::Fixture;

/// `single-bin` with `table` appended to its manifest.
fn with_table(table: &str) -> Fixture {
    let copy = Fixture::copy("single-bin");
    copy.append_to("Cargo.toml", table);
    copy
}

/// `generate <args>` on `copy` fails with one error line holding each of `said`, and writes nothing.
fn refused(copy: &Fixture, args: &[&str], said: &[&str]) -> String {
    let mut full = vec!["generate"];
    full.extend_from_slice(args);
    let run = copy.run(&full);
    let error = run.assert_error(1, &format!("{said:?}")).to_string();
    for part in said {
        assert!(error.contains(part), "`{part}` not in: {error}");
    }
    assert!(!copy.dockerfile_path().exists(), "a Dockerfile was written");
    assert!(
        !copy.dockerignore_path().exists(),
        "an ignore file was written"
    );
    assert!(!error.contains('\u{1b}'), "{error:?}");
    error
}

#[test]
fn a_toolchain_channel_is_rustups_grammar_only() {
    for channel in ["stable\\nRUN id", "stable; id", "1.95 && id", "$(id)"] {
        let copy = Fixture::copy("single-bin");
        copy.write(
            "rust-toolchain.toml",
            &format!("[toolchain]\nchannel = \"{channel}\"\n"),
        );
        refused(&copy, &[], &["rust-toolchain.toml", "`toolchain.channel`"]);
    }
}

#[test]
fn the_dockerfile_path_holds_no_line_break() {
    let copy =
        with_table("\n[workspace.metadata.dockerize]\ndockerfile = \"Dockerfile\\nRUN id\"\n");
    refused(&copy, &[], &["Cargo.toml", "`dockerfile`", "line break"]);
    let copy = Fixture::copy("single-bin");
    let run = copy.run(&["generate", "--dockerfile", "docker/$HOME"]);
    let error = run.assert_error(2, "--dockerfile docker/$HOME");
    assert!(error.contains("`$`"), "{error}");
    let run = copy.run(&["ci", "--workflow", ".github/workflows/a\nname: x.yml"]);
    run.assert_error(2, "--workflow with a line break");
}

#[test]
fn features_are_names_the_package_defines() {
    let copy = with_table("\n[package.metadata.dockerize]\nfeatures = [\"x\\nRUN id\"]\n");
    refused(&copy, &[], &["Cargo.toml", "`features`", "line break"]);
    let copy = with_table("\n[package.metadata.dockerize]\nfeatures = [\"nope\"]\n");
    refused(&copy, &[], &["`nope`", "does not define"]);
    let copy = Fixture::copy("single-bin");
    // Cargo's own `--features` refuses it first, before anything is written.
    refused(&copy, &["--features", "single-bin/x$(id)"], &[]);
}

#[test]
fn a_trailing_backslash_never_continues_a_line() {
    for (key, value) in [
        ("workdir", "/srv\\\\"),
        ("user", "app\\\\"),
        ("assets", "[\"static\\\\\"]"),
        ("env", "{ A = \"x\\ny\" }"),
        ("labels", "{ \"a\\\\\" = \"x\" }"),
    ] {
        let value = if value.starts_with(['[', '{']) {
            value.to_string()
        } else {
            format!("\"{value}\"")
        };
        let copy = with_table(&format!(
            "\n[package.metadata.dockerize]\n{key} = {value}\n"
        ));
        refused(&copy, &[], &["Cargo.toml", &format!("`{key}`")]);
    }
    let copy = with_table("\n[[bin]]\nname = \"tool\\\\\"\npath = \"src/main.rs\"\n");
    refused(&copy, &[], &["`[[bin]] name`", "Cargo.toml", "`\\`"]);
}

#[test]
fn runtime_env_and_entrypoint_values_stay_values() {
    let copy = with_table("\n[package.metadata.dockerize]\nruntime = \"--platform=linux/arm64\"\n");
    refused(&copy, &[], &["Cargo.toml", "`runtime`"]);
    let long = "x".repeat(70_000);
    let copy = with_table(&format!(
        "\n[package.metadata.dockerize]\nenv = {{ A = \"{long}\" }}\n"
    ));
    let error = refused(&copy, &[], &["Cargo.toml", "`env`", "70000 bytes"]);
    assert!(error.len() < 400, "the value is cut: {}", error.len());
}

#[test]
fn whitespace_in_an_asset_takes_the_json_form() {
    let copy = with_table(
        "\n[package.metadata.dockerize]\nassets = [{ source = \"static files\", dest = \"/srv/my app\" }]\n",
    );
    std::fs::create_dir_all(copy.path("static files")).unwrap();
    copy.write("static files/index.html", "hi\n");
    let dockerfile = copy.generate(&[]);
    assert!(
        dockerfile.contains(r#"COPY --chown=65532:65532 ["static files","/srv/my app"]"#),
        "{dockerfile}"
    );
}

#[test]
fn a_path_dependencys_directory_is_one_shell_word() {
    let copy = Fixture::copy("single-bin");
    std::fs::create_dir_all(copy.path("libs/a;b>c/src")).unwrap();
    copy.write(
        "libs/a;b>c/Cargo.toml",
        "[package]\nname = \"odd\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    copy.write("libs/a;b>c/src/lib.rs", "");
    copy.replace_in(
        "Cargo.toml",
        "[dependencies]\n",
        "[dependencies]\nodd = { path = \"libs/a;b>c\" }\n",
    );
    copy.replace_in(
        "Cargo.toml",
        "[workspace]",
        "[workspace]\nexclude = [\"libs\"]",
    );
    copy.relock();
    let dockerfile = copy.generate(&[]);
    // One word of the recipe step, which `.dockerize/build.sh` quotes wherever it uses it.
    assert!(
        dockerfile.contains("/recipe 'libs/a;b>c'\n"),
        "{dockerfile}"
    );
}

#[test]
fn an_expression_in_a_flag_never_reaches_the_workflow_as_one() {
    let copy = Fixture::copy("single-bin");
    let run = copy.run(&["ci", "--workflow", ".github/workflows/${{ secrets.T }}.yml"]);
    run.assert_success("ci --workflow with ${{");
    let path = copy.path(".github/workflows/${{ secrets.T }}.yml");
    let workflow = std::fs::read_to_string(path).expect("the workflow");
    // YAML comments are not values: GitHub reads no expression there.
    let values = workflow
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'));
    let mut seen = 0;
    for line in values.filter(|l| l.contains("secrets.T ")) {
        assert!(line.contains("${{ ''${{'' }} secrets.T }}"), "{line}");
        seen += 1;
    }
    assert!(
        seen > 0,
        "the flag's value is in a value of the workflow\n{workflow}"
    );
}

/// Found by the fuzzer (issue 19): a configuration error names its manifest, whose directory may hold a newline;
/// the error stays one line, the newline shown escaped.
#[test]
fn a_configuration_error_in_a_directory_named_with_a_newline_stays_one_line() {
    let copy = Fixture::copy("single-bin");
    std::fs::create_dir_all(copy.path("libs/a\nb/src")).unwrap();
    copy.write(
        "libs/a\nb/Cargo.toml",
        "[package]\nname = \"odd\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.dockerize]\nruntimE-packages = []\n",
    );
    copy.write("libs/a\nb/src/main.rs", "fn main() {}\n");
    copy.replace_in(
        "Cargo.toml",
        "[workspace]",
        "[workspace]\nmembers = [\".\", \"libs/a\\nb\"]",
    );
    copy.relock();
    let out = copy.run(&["generate"]);
    let error = out.assert_one_error(1, "generate with an unknown key in `libs/a\\nb`");
    assert!(error.contains("runtimE-packages"), "{error}");
    assert!(error.contains(r"libs/a\nb/Cargo.toml"), "{error}");
    assert!(!copy.dockerfile_path().exists(), "nothing written");
}

/// A build secret's file inside the build context would be copied into the builder's layers with the sources
/// (`COPY . .`): refused in one line naming the secret and the file, nothing written.
#[test]
fn a_build_secret_file_inside_the_context_is_refused() {
    let copy = Fixture::copy("single-bin");
    copy.write("db-url.txt", "postgres://user:pw@db/app\n");
    copy.append_to(
        "Cargo.toml",
        "\n[workspace.metadata.dockerize]\nbuild-secrets = [{ name = \"DB_URL\", file = \"db-url.txt\" }]\n",
    );
    let out = copy.run(&["generate"]);
    let error = out.assert_one_error(1, "generate with a build secret's file in the context");
    assert!(
        error.contains("`DB_URL`") && error.contains("`db-url.txt`"),
        "{error}"
    );
    assert!(
        out.stderr
            .contains("help: keep the file outside the build context"),
        "{}",
        out.stderr
    );
    assert!(!copy.dockerfile_path().exists(), "nothing written");
    // Outside the context (here an absolute path elsewhere) it is read by `build`, and `generate` plans.
    copy.replace_in(
        "Cargo.toml",
        "file = \"db-url.txt\"",
        "file = \"/run/keys/db-url\"",
    );
    copy.run(&["generate"])
        .assert_success("generate with the file outside");
}

/// A base-image pin read back from the Dockerfile (`FROM name:tag@sha256:…`, which a bot or a hand may edit) is
/// `sha256:` and 64 lowercase hex digits exactly: anything else is refused in one line naming the file and line,
/// and the file is left as it is. A good pin is kept by `generate`, with the base labels.
#[test]
fn a_pin_in_the_dockerfile_is_a_digest_exactly() {
    let hex = "0123456789abcdef".repeat(4);
    let copy = Fixture::copy("single-bin");
    copy.run(&["generate"]).assert_success("generate");
    let original = copy.dockerfile();
    let unpinned = "FROM debian:bookworm-slim AS single-bin-debug";
    assert!(original.contains(unpinned), "{original}");
    let line = original.lines().position(|l| l == unpinned).unwrap() + 1;
    for bad in [
        format!("sha256:{}", hex.to_uppercase()),
        format!("sha256:{}", &hex[1..]),
        format!("sha256:{hex}0"),
        format!("sha512:{hex}"),
        format!("sha256:{}\u{1b}[2J", &hex[..60]),
    ] {
        let edited = original.replace(
            unpinned,
            &format!("FROM debian:bookworm-slim@{bad} AS single-bin-debug"),
        );
        copy.write("Dockerfile", &edited);
        let out = copy.run(&["generate"]);
        let error = out.assert_error(1, &format!("generate with the pin {bad:?}"));
        assert!(
            error.contains("`Dockerfile`") || error.contains("Dockerfile`: line"),
            "{error}"
        );
        assert!(
            error.contains(&format!("line {line}: the pin of `debian:bookworm-slim`")),
            "{error}"
        );
        assert!(!error.contains('\u{1b}'), "{error:?}");
        assert_eq!(copy.dockerfile(), edited, "the file is left as it was");
    }
    let pinned = original.replace(
        unpinned,
        &format!("FROM debian:bookworm-slim@sha256:{hex} AS single-bin-debug"),
    );
    copy.write("Dockerfile", &pinned);
    copy.run(&["generate"])
        .assert_success("generate with a good pin");
    let kept = copy.dockerfile();
    assert!(
        kept.contains(&format!(
            "FROM debian:bookworm-slim@sha256:{hex} AS single-bin-debug"
        )),
        "{kept}"
    );
    assert!(
        kept.contains(&format!(
            "org.opencontainers.image.base.digest=\"sha256:{hex}\""
        )),
        "{kept}"
    );
    copy.run(&["generate", "--check"])
        .assert_success("generate --check with the pin");
}

/// clap quotes a refused flag value or argument as given: a carriage return, an escape sequence or a line break
/// in it would rewrite the terminal or forge a line. Every one is shown escaped, on the one error line.
#[test]
fn a_refused_flag_value_is_shown_escaped() {
    let copy = Fixture::copy("single-bin");
    let hostile = [
        "a\r\u{1b}[2Jb\nc",
        "x\u{2028}error: forged",
        "\u{202e}gnp.exe",
    ];
    for value in hostile {
        for args in [
            vec!["list", "--runtime", value],
            vec!["list", "--format", value],
            vec![value],
            vec!["list", &format!("--bogus{value}")],
        ] {
            let out = copy.run(&args);
            let error = out.assert_error(2, &format!("{args:?}"));
            assert!(
                !out.stderr.chars().any(
                    |c| c != '\n' && (c.is_control() || ('\u{2028}'..='\u{202e}').contains(&c))
                ),
                "{args:?}: a raw control character on stderr: {:?}",
                out.stderr
            );
            assert!(
                error.contains(r"\u{") || error.contains(r"\r"),
                "{args:?}: {error}"
            );
        }
    }
}
