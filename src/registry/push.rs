//! `--push`: every tag of a built image pushed through the engine, with the user's credentials, and the digest
//! the registry stored. [`build_and_push`] is one image's whole way: the engine's build, then its push.
//!
//! Takes an image's tags and the credentials of their registries; gives [`Push`] and events. Tags are pushed one
//! after another (the second push of the same image only writes a manifest). A failure is classified from the
//! engine's words ([`classify`]): what may pass (a reset connection, a refused one while the registry restarts, a
//! 5xx) is tried again, [`ATTEMPTS`] times in all with a growing pause; what will not (credentials, an unknown
//! host, TLS, a rejected name) fails at once. The digest comes from the push stream's last status line,
//! `<tag>: digest: sha256:... size: N` (bollard 0.21 does not decode the `aux` object that carries it too).

use std::time::{Duration, Instant};

use bollard::auth::DockerCredentials;
use bollard::query_parameters::PushImageOptionsBuilder;
use futures_util::StreamExt;

use super::credentials::Credentials;
use super::layout;
use crate::engine::{build_target, error_chain, Engine, Run};
use crate::events::{
    BuildEventKind, ImageOutcome, ImagePushed, Outcome, Push, PushFailed, PushFailure, PushRetried,
};
use crate::plan::{Build, PushAs};
use crate::reference;

mod normalised;

/// Tries per tag, the first included.
pub const ATTEMPTS: u32 = 3;

/// The pause before the second try; it doubles for each later one.
const FIRST_PAUSE: Duration = Duration::from_secs(1);

/// Whether trying again may succeed: a registry that did not answer, or answered 5xx.
pub fn is_transient(failure: PushFailure) -> bool {
    matches!(failure, PushFailure::Unreachable | PushFailure::Server)
}

/// One line naming the fix for a push to `registry` that failed for `failure`.
pub fn hint(failure: PushFailure, registry: &str) -> String {
    match failure {
        PushFailure::Auth => format!(
            "log in with `docker login {registry}` (or fix its entry in $DOCKER_CONFIG/config.json); the account needs push rights on the repository"
        ),
        PushFailure::UnknownHost => format!("`{registry}` does not resolve: check the registry in `--registry` or `-t`"),
        PushFailure::Tls => format!(
            "`{registry}` does not speak TLS the engine trusts: serve it over HTTPS, or list it in the engine's `insecure-registries` (daemon.json)"
        ),
        PushFailure::Rejected => "the registry refused the name: use a lowercase repository the account may create or write".into(),
        PushFailure::Unreachable => format!("`{registry}` did not answer (tried {ATTEMPTS} times): check that it runs and is reachable from the engine"),
        PushFailure::Server => format!("`{registry}` failed with a server error (tried {ATTEMPTS} times): try again later"),
        PushFailure::Other => "the engine's message is above; `docker push <tag>` shows the same".into(),
        PushFailure::Index => format!(
            "every platform's image is pushed as `<tag>-<arch>`; the index under the plain tag failed: check that `{registry}` accepts OCI image indexes and your login there (`docker login {registry}`)"
        ),
    }
}

/// What the engine's message says went wrong. The words are the engine's and the registry's (distribution's
/// error codes, Go's net errors), matched in lowercase; status codes only with their reason phrase, as a port
/// (`127.0.0.1:40123`) holds digits too.
pub fn classify(message: &str) -> PushFailure {
    let m = message.to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if any(&[
        "no such host",
        "server misbehaving",
        "name or service not known",
    ]) {
        PushFailure::UnknownHost
    } else if any(&[
        "http response to https client",
        "x509",
        "tls:",
        "certificate",
    ]) {
        PushFailure::Tls
    } else if any(&[
        "unauthorized",
        "authentication required",
        "incorrect username or password",
        "401 unauthorized",
        "403 forbidden",
    ]) {
        PushFailure::Auth
    } else if any(&[
        "name_invalid",
        "invalid reference",
        "repository name must",
        "name unknown",
        "denied",
        "404 not found",
        "tag_invalid",
        "manifest invalid",
    ]) {
        PushFailure::Rejected
    } else if any(&[
        "connection refused",
        "connection reset",
        "broken pipe",
        "eof",
        "i/o timeout",
        "timeout",
        "no route to host",
    ]) {
        PushFailure::Unreachable
    } else if any(&[
        "500 internal",
        "502 bad gateway",
        "503 service",
        "504 gateway",
        "status: 50",
        "status code 50",
    ]) {
        PushFailure::Server
    } else {
        PushFailure::Other
    }
}

/// The digest in a push status line: `1.0: digest: sha256:ab... size: 528`.
pub fn digest_of(status: &str) -> Option<&str> {
    let rest = status.split_once("digest: ")?.1;
    let digest = rest.split_whitespace().next()?;
    (digest.starts_with("sha256:") && digest.len() == 71).then_some(digest)
}

/// Pushes every tag of one image through the engine, in order, and says how it ended; `on_retry` hears of each
/// transient failure.
pub async fn push_tags(
    engine: &Engine,
    tags: &[String],
    credentials: &Credentials,
    on_retry: impl Fn(PushRetried),
) -> Push {
    push_each(tags, credentials, on_retry, None, |tag, auth| async move {
        push_one(engine, &tag, auth)
            .await
            .map_err(|message| (classify(&message), message))
    })
    .await
}

/// Pushes every tag with `one` (`Ok(digest)`, or why not and the message), in order, trying a transient
/// failure again; how it ended. `epoch` is the normalised image's `SOURCE_DATE_EPOCH`, for the event.
async fn push_each<F, Fut>(
    tags: &[String],
    credentials: &Credentials,
    on_retry: impl Fn(PushRetried),
    epoch: Option<u64>,
    one: F,
) -> Push
where
    F: Fn(String, Option<DockerCredentials>) -> Fut,
    Fut: std::future::Future<Output = Result<String, (PushFailure, String)>>,
{
    let began = Instant::now();
    let mut digest = None;
    for tag in tags {
        let registry = reference::registry_host(tag).to_string();
        let auth = credentials.get(&registry).cloned();
        let mut attempt = 1;
        loop {
            match one(tag.clone(), auth.clone()).await {
                Ok(d) => {
                    digest = Some(d);
                    break;
                }
                Err((failure, message)) => {
                    if !is_transient(failure) || attempt >= ATTEMPTS {
                        return Push::Failed(PushFailed {
                            tag: tag.clone(),
                            registry,
                            message,
                            reason: failure,
                            attempts: attempt,
                        });
                    }
                    on_retry(PushRetried {
                        tag: tag.clone(),
                        registry: registry.clone(),
                        message,
                        attempt,
                    });
                    tokio::time::sleep(FIRST_PAUSE * 2u32.pow(attempt - 1)).await;
                    attempt += 1;
                }
            }
        }
    }
    let registry = tags
        .first()
        .map(|t| reference::registry_host(t).to_string())
        .unwrap_or_default();
    match digest {
        Some(digest) => Push::Pushed(ImagePushed {
            digest,
            tags: tags.to_vec(),
            registry,
            seconds: began.elapsed().as_secs_f64(),
            source_date_epoch: epoch,
        }),
        None => Push::Failed(PushFailed {
            tag: String::new(),
            registry,
            message: "the image has no tag to push".into(),
            reason: PushFailure::Other,
            attempts: 0,
        }),
    }
}

/// One push of one tag: `Ok(digest)`, or the engine's message.
async fn push_one(
    engine: &Engine,
    tag: &str,
    auth: Option<DockerCredentials>,
) -> Result<String, String> {
    let (repository, name) = reference::split_tag(tag);
    let options = PushImageOptionsBuilder::new().tag(name).build();
    let stream = engine.docker.push_image(repository, Some(options), auth);
    futures_util::pin_mut!(stream);
    let mut digest = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(found) = info.status.as_deref().and_then(digest_of) {
                    digest = Some(found.to_string());
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => return Err(error),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            }) => return Err(format!("{message} (engine status {status_code})")),
            Err(other) => return Err(error_chain(&other)),
        }
    }
    digest.ok_or_else(|| "the engine ended the push without a digest".to_string())
}

/// Builds `build` through the engine, then, when the plan pushes it and only when the build succeeded, pushes
/// its tags with `credentials` as the plan says ([`PushAs`]): one image's outcome. `insecure`: the registries the
/// engine reaches over plain HTTP, which a normalised push reaches the same way.
pub async fn build_and_push(
    engine: &Engine,
    build: Build,
    run: &Run,
    (credentials, insecure): (&Credentials, &[String]),
) -> ImageOutcome {
    let outcome = build_target(engine, &build, run).await;
    let push = match (&outcome, build.push) {
        (Outcome::Built(_), Some(how)) => {
            Some(push_image(engine, &build, run, how, (credentials, insecure)).await)
        }
        _ => None,
    };
    ImageOutcome {
        platform: build.outcome_platform(),
        stage: build.stage,
        binary: build.binary,
        outcome,
        push,
    }
}

/// Pushes a built image's tags, sending a retry event for each transient failure and the push's end.
async fn push_image(
    engine: &Engine,
    build: &Build,
    run: &Run,
    how: PushAs,
    (credentials, insecure): (&Credentials, &[String]),
) -> Push {
    let send = |kind| run.send(&build.name, kind);
    let on_retry = |retry| send(BuildEventKind::PushRetried(retry));
    let push = match how {
        PushAs::Engine => push_tags(engine, &build.tags, credentials, on_retry).await,
        PushAs::Normalised { epoch } => {
            let began = Instant::now();
            match layout::normalised(engine, build, epoch).await {
                Ok(image) => {
                    let mut push =
                        push_each(
                            &build.tags,
                            credentials,
                            on_retry,
                            Some(epoch),
                            |tag, auth| {
                                let image = &image;
                                async move {
                                    normalised::put(image, &tag, auth.as_ref(), insecure).await
                                }
                            },
                        )
                        .await;
                    if let Push::Pushed(pushed) = &mut push {
                        pushed.seconds = began.elapsed().as_secs_f64();
                    }
                    push
                }
                Err(error) => Push::Failed(PushFailed {
                    tag: build.tags.first().cloned().unwrap_or_default(),
                    registry: build
                        .tags
                        .first()
                        .map(|t| reference::registry_host(t).to_string())
                        .unwrap_or_default(),
                    message: error_chain(&error),
                    reason: PushFailure::Other,
                    attempts: 1,
                }),
            }
        }
    };
    send(match &push {
        Push::Pushed(pushed) => BuildEventKind::ImagePushed(pushed.clone()),
        Push::Failed(failed) => BuildEventKind::PushFailed(failed.clone()),
    });
    push
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_comes_from_the_last_status() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            digest_of(&format!("0.1.0: digest: {digest} size: 528")),
            Some(digest.as_str())
        );
        assert_eq!(digest_of("Pushed"), None);
        assert_eq!(digest_of("digest: sha256:short size: 1"), None);
    }

    #[test]
    fn failures_are_classified_and_only_transient_ones_retried() {
        let cases = [
            ("unauthorized: authentication required", PushFailure::Auth),
            ("denied: requested access to the resource is denied", PushFailure::Rejected),
            (
                "Get \"https://nope.invalid/v2/\": dial tcp: lookup nope.invalid on 10.0.0.2:53: no such host",
                PushFailure::UnknownHost,
            ),
            (
                "Get \"https://127.0.0.1:5000/v2/\": http: server gave HTTP response to HTTPS client",
                PushFailure::Tls,
            ),
            (
                "Get \"https://r.example/v2/\": x509: certificate signed by unknown authority",
                PushFailure::Tls,
            ),
            (
                "Put \"http://127.0.0.1:5000/v2/a/blobs/uploads/1\": dial tcp 127.0.0.1:5000: connect: connection refused",
                PushFailure::Unreachable,
            ),
            ("write tcp 127.0.0.1:1->127.0.0.1:5000: write: connection reset by peer", PushFailure::Unreachable),
            ("received unexpected HTTP status: 503 Service Unavailable", PushFailure::Server),
            ("something odd", PushFailure::Other),
        ];
        for (message, expected) in cases {
            assert_eq!(classify(message), expected, "{message}");
        }
        assert!(!is_transient(PushFailure::Auth));
        assert!(!is_transient(PushFailure::UnknownHost));
        assert!(!is_transient(PushFailure::Tls));
        assert!(!is_transient(PushFailure::Rejected));
        assert!(is_transient(PushFailure::Unreachable));
        assert!(is_transient(PushFailure::Server));
    }
}
