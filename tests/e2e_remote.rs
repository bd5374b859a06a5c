//! End-to-end: the engine chosen as the Docker CLI chooses it, and reached where it is.
//!
//! Contexts are written by the real `docker context create` into a temporary `DOCKER_CONFIG`; the engine of
//! context `fwd` is a second socket in front of the test engine (`socat`), so a build that went there shows in
//! socat's log. The ssh test starts an OpenSSH server on a free loopback port with temporary keys and builds
//! with `DOCKER_HOST=ssh://<user>@127.0.0.1:<port>` (the remote side runs `docker system dial-stdio`, as for the
//! Docker CLI). The error tests need no engine and always run; the others are `#[ignore]`d.
//!
//! Run: `cargo test --test e2e_remote -- --include-ignored --nocapture`.

mod common;

use std::process::Command;

use common::remote::{accepted, forwarder, DockerConfig, SshServer, TlsForwarder};
use common::{engine_lock, inspect_image, run, BuildJson, Fixture, Run, TestImages};

/// `--libc gnu --static`, as the other engine tests build (the stand-in toolchain lacks the musl target).
const STATIC: [&str; 3] = ["--libc", "gnu", "--static"];

/// `single-bin` built with `args`, tagged under `images`, through `setup`'s environment.
fn build(
    fixture: &Fixture,
    images: &TestImages,
    tag: &str,
    args: &[&str],
    setup: impl FnOnce(&mut Command),
) -> Run {
    let template = images.template(tag);
    let mut full: Vec<&str> = STATIC.to_vec();
    full.extend_from_slice(&["-t", &template]);
    full.extend_from_slice(args);
    let mut command = fixture.command(&full);
    command.env("CI", "1");
    setup(&mut command);
    let out = run(&mut command);
    eprintln!(
        "[e2e] {args:?} -> {tag}: {:.1}s (exit {:?})",
        out.seconds, out.code
    );
    out
}

fn assert_image(images: &TestImages, tag: &str) {
    let reference = images.tag("single-bin", tag);
    assert!(
        inspect_image(&reference).is_some(),
        "no image `{reference}`"
    );
}

/// `--context`, `DOCKER_CONTEXT` and `currentContext` each build on the context's engine, which the progress,
/// `-v`, the summary and its JSON name.
#[test]
#[ignore = "needs a Docker engine, socat and OpenSSH: cargo test --test e2e_remote -- --ignored"]
fn contexts_choose_the_engine_as_the_docker_cli_does() {
    let _engine = engine_lock();
    let images = TestImages::new("ctx");
    let fixture = Fixture::copy("single-bin");
    let config = DockerConfig::new();
    let socket = config.path().join("fwd.sock");
    let socat = forwarder(&socket, &config.path().join("socat.log"));
    let host = format!("unix://{}", socket.display());
    config.create_context("fwd", &host);

    // --context, with -v: the engine line says which context chose it.
    let out = build(
        &fixture,
        &images,
        "flag",
        &["--context", "fwd", "-v"],
        |c| config.apply(c),
    );
    out.assert_success("--context fwd");
    assert_image(&images, "flag");
    let first = accepted(&socat);
    assert!(
        first > 0,
        "the build went through the context's socket\n{}",
        socat.log_text()
    );
    let engine_line = out
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("Engine "))
        .unwrap_or_default();
    assert!(
        engine_line.contains(&host) && engine_line.contains("context `fwd` (--context)"),
        "-v names the engine and the context that chose it: {engine_line:?}\n{}",
        out.stderr
    );
    let summary = format!("on {host} (context `fwd`)");
    assert!(
        out.stderr.contains(&summary),
        "the summary says `{summary}`\n{}",
        out.stderr
    );

    // DOCKER_CONTEXT, with the JSON summary.
    let out = build(
        &fixture,
        &images,
        "env",
        &["--message-format", "json"],
        |c| {
            config.apply(c);
            c.env("DOCKER_CONTEXT", "fwd");
        },
    );
    out.assert_success("DOCKER_CONTEXT=fwd");
    assert_image(&images, "env");
    let json = BuildJson::parse(&out, "DOCKER_CONTEXT=fwd");
    assert_eq!(
        json.summary["engine"],
        serde_json::json!({"host": host, "context": "fwd", "source": "DOCKER_CONTEXT", "tls": false}),
        "the JSON summary names the engine"
    );
    let second = accepted(&socat);
    assert!(
        second > first,
        "DOCKER_CONTEXT builds through the context's socket"
    );

    // `docker context use fwd` writes currentContext into config.json.
    config.docker(&["context", "use", "fwd"]);
    let out = build(&fixture, &images, "current", &[], |c| config.apply(c));
    out.assert_success("currentContext fwd");
    assert_image(&images, "current");
    assert!(
        accepted(&socat) > second,
        "currentContext builds through the context's socket"
    );
    assert!(out.stderr.contains(&summary), "{}", out.stderr);
}

/// `DOCKER_HOST=ssh://...` builds over ssh: the Docker CLI's `ssh ... docker system dial-stdio`, the user's ssh
/// configuration in charge; a user the server refuses gets ssh's own words and exit 5.
#[test]
#[ignore = "needs a Docker engine, socat and OpenSSH: cargo test --test e2e_remote -- --ignored"]
fn builds_over_ssh() {
    let _engine = engine_lock();
    let images = TestImages::new("ssh");
    let fixture = Fixture::copy("single-bin");
    let config = DockerConfig::new();
    let sshd = SshServer::start();
    let host = sshd.docker_host();
    let out = build(&fixture, &images, "ssh", &[], |c| {
        config.apply(c);
        sshd.apply(c);
        c.env("DOCKER_HOST", &host);
    });
    out.assert_success(&format!("DOCKER_HOST={host}"));
    assert_image(&images, "ssh");
    assert!(
        sshd.server.log_text().contains("Accepted publickey"),
        "the build logged in over ssh\n{}",
        sshd.server.log_text()
    );
    let summary = format!("on {host} (DOCKER_HOST)");
    assert!(
        out.stderr.contains(&summary),
        "the summary says `{summary}`\n{}",
        out.stderr
    );

    let refused = format!(
        "ssh://nobody-{}@127.0.0.1:{}",
        std::process::id(),
        sshd.port
    );
    let out = build(&fixture, &images, "refused", &[], |c| {
        config.apply(c);
        sshd.apply(c);
        c.env("DOCKER_HOST", &refused);
    });
    let error = out.assert_one_error(5, &format!("DOCKER_HOST={refused}"));
    assert!(
        error.contains(&format!(
            "failed to connect to the Docker engine at {refused} (DOCKER_HOST)"
        )),
        "{error}"
    );
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("caused by: ssh:") && l.contains("Permission denied")),
        "ssh's own reason is shown\n{}",
        out.stderr
    );
}

/// A context whose engine is not there: exit 5, the error names the context and its socket.
#[test]
fn a_context_at_a_dead_socket_is_named() {
    let config = DockerConfig::new();
    let dead = format!("unix://{}", config.path().join("dead.sock").display());
    config.create_context("dead", &dead);
    let fixture = Fixture::copy("single-bin");
    let mut command = fixture.command(&["--context", "dead"]);
    config.apply(&mut command);
    let out = run(&mut command);
    let error = out.assert_one_error(5, "--context dead");
    assert_eq!(
        error,
        format!("error: failed to connect to the Docker engine at {dead} (context `dead`)")
    );
    assert!(
        out.stderr
            .contains("help: start the engine of context `dead`"),
        "{}",
        out.stderr
    );
}

/// An unknown context: exit 1 before anything is written, naming it and listing the known ones.
#[test]
fn an_unknown_context_lists_the_known_ones() {
    let config = DockerConfig::new();
    config.create_context("alpha", "unix:///nonexistent.sock");
    let fixture = Fixture::copy("single-bin");
    for (how, setup) in [("--context", None), ("DOCKER_CONTEXT", Some("nope"))] {
        let mut command = match setup {
            None => fixture.command(&["--context", "nope"]),
            Some(_) => fixture.command(&[]),
        };
        config.apply(&mut command);
        if let Some(name) = setup {
            command.env("DOCKER_CONTEXT", name);
        }
        let out = run(&mut command);
        let error = out.assert_error(1, how);
        assert_eq!(
            error,
            format!("error: Docker context `nope` (from {how}) does not exist")
        );
        assert!(
            out.stderr.contains("help: known contexts: default, alpha"),
            "{}",
            out.stderr
        );
    }
    assert!(
        !fixture.path("Dockerfile").exists(),
        "nothing is written before the engine is chosen"
    );
}

/// `--dry-run` names the engine it would build on without contacting it; `--host` and `--context` together are
/// refused, as by the Docker CLI.
#[test]
fn dry_run_names_the_engine_and_host_conflicts_with_context() {
    let config = DockerConfig::new();
    let fixture = Fixture::copy("single-bin");
    let mut command = fixture.command(&["--dry-run", "-H", "ssh://builder@build.example:2222"]);
    config.apply(&mut command);
    let out = run(&mut command);
    out.assert_success("--dry-run -H ssh://...");
    assert!(
        out.stdout
            .contains("engine: ssh://builder@build.example:2222, chosen by --host, over ssh"),
        "{}",
        out.stdout
    );
    let mut command = fixture.command(&["--dry-run", "-H", "unix:///x.sock", "--context", "x"]);
    config.apply(&mut command);
    let out = run(&mut command);
    out.assert_code(2, "-H with --context");
    assert!(out.stderr.contains("cannot be used with"), "{}", out.stderr);
}

/// `tcp://` with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, and a context whose TLS files the Docker CLI stored:
/// both build over TLS; a CA the engine's certificate does not chain to is refused (exit 5).
#[test]
#[ignore = "needs a Docker engine, socat and OpenSSH: cargo test --test e2e_remote -- --ignored"]
fn builds_over_tls_and_verifies_the_engine() {
    let _engine = engine_lock();
    let images = TestImages::new("tls");
    let fixture = Fixture::copy("single-bin");
    let config = DockerConfig::new();
    let tls = TlsForwarder::start();
    let host = tls.docker_host();
    let with_certs = |dir: &std::path::Path| {
        let dir = dir.to_path_buf();
        let host = host.clone();
        let config = &config;
        move |c: &mut Command| {
            config.apply(c);
            c.env("DOCKER_HOST", &host)
                .env("DOCKER_TLS_VERIFY", "1")
                .env("DOCKER_CERT_PATH", &dir);
        }
    };
    let out = build(&fixture, &images, "env", &[], with_certs(&tls.certs));
    out.assert_success(&format!("DOCKER_HOST={host} DOCKER_TLS_VERIFY=1"));
    assert_image(&images, "env");
    let summary = format!("on {host} (DOCKER_HOST, TLS)");
    assert!(
        out.stderr.contains(&summary),
        "the summary says `{summary}`\n{}",
        out.stderr
    );

    let out = build(&fixture, &images, "foreign", &[], with_certs(&tls.foreign));
    let error = out.assert_one_error(5, "a foreign CA");
    assert!(error.contains(&host), "{error}");
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "the cause says the certificate was refused\n{}",
        out.stderr
    );

    let file = |name: &str| tls.certs.join(name).display().to_string();
    config.create_context(
        "secure",
        &format!(
            "{host},ca={},cert={},key={}",
            file("ca.pem"),
            file("cert.pem"),
            file("key.pem")
        ),
    );
    let out = build(&fixture, &images, "ctx", &["--context", "secure"], |c| {
        config.apply(c)
    });
    out.assert_success("--context secure");
    assert_image(&images, "ctx");
    assert!(
        out.stderr
            .contains(&format!("on {host} (context `secure`, TLS)")),
        "{}",
        out.stderr
    );
}
