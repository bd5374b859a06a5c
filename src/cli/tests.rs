//! The command line's own tests.

use super::*;
use clap::CommandFactory;

#[test]
fn cli_is_consistent() {
    CargoCli::command().debug_assert();
}

#[test]
fn both_invocation_forms_parse() {
    let CargoCli::Dockerize(cli) =
        CargoCli::try_parse_from(["cargo", "dockerize", "generate", "--bin", "api", "-p", "x"])
            .unwrap();
    assert!(matches!(cli.command, Some(Command::Generate(_))));
    assert_eq!(cli.common.bins, vec!["api"]);
    let CargoCli::Dockerize(cli) =
        CargoCli::try_parse_from(["cargo", "dockerize", "--static", "list"]).unwrap();
    assert!(cli.common.static_glibc);
}

#[test]
fn build_args_must_be_key_value() {
    assert_eq!(
        parse_build_arg("A=b=c").unwrap(),
        ("A".into(), "b=c".into())
    );
    assert!(parse_build_arg("novalue").is_err());
    assert!(parse_build_arg("=x").is_err());
}

#[test]
fn exclude_requires_workspace() {
    assert!(CargoCli::try_parse_from(["cargo", "dockerize", "list", "--exclude", "x"]).is_err());
}
