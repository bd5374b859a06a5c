//! One build of the plan through the engine: the request, the progress stream translated into
//! events, then the extra tags and the size once the image exists.
//!
//! Dropping the future drops the engine's stream, which cancels the build in the engine before any tag is
//! written: that is how Ctrl-C and a failing sibling stop a build in flight.

use std::collections::HashMap;
use std::time::Instant;

use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{
    BuildImageOptions, BuildImageOptionsBuilder, BuilderVersion, TagImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::{Stream, StreamExt};

use super::status::{ClassicTracker, VertexTracker};
use super::{error_chain, Engine, EngineError, Run};
use crate::config::Cache;
use crate::events::{BuildEventKind, ImageBuilt, ImageFailed, Outcome, Step};
use crate::model::Backend;
use crate::plan::Build;
use crate::reference;

/// Builds one build of the plan in the run's context (a tar with the Dockerfile at `run.dockerfile`), sending
/// events as they come, and says how it ended. Public for the benchmarks, which build other Dockerfiles the same
/// way.
pub async fn build_target(engine: &Engine, build: &Build, run: &Run) -> Outcome {
    let (docker, backend) = (&engine.docker, engine.backend);
    let began = Instant::now();
    let send = |event: BuildEventKind| run.send(&build.name, event);
    send(BuildEventKind::BuildStarted {
        target: build.stage.clone(),
        tags: build.tags.clone(),
        platform: build.platform,
    });
    let request = request(backend, build, &run.dockerfile, run.session.as_deref());
    let registry_config = (backend == Backend::Classic && !run.registry_config.0.is_empty())
        .then(|| run.registry_config.0.clone());
    // BuildKit reads the registries' credentials from the session; the classic builder from this header.
    let client = match backend {
        Backend::BuildKit => docker.clone().with_request_modifier(buildkit_on_build),
        Backend::Classic => docker.clone(),
    };
    let stream = client.build_image(
        request,
        registry_config,
        Some(bollard::body_full(run.context.clone())),
    );
    let followed = follow(stream, &send).await;
    let seconds = began.elapsed().as_secs_f64();
    let fail = |message: String, failed_step: Option<(Step, Vec<String>)>| {
        let (step, log_tail) = failed_step.map_or((None, Vec::new()), |(s, t)| (Some(s), t));
        let failed = ImageFailed {
            message,
            step,
            log_tail,
            seconds,
        };
        send(BuildEventKind::ImageFailed(failed.clone()));
        Outcome::Failed(failed)
    };
    if let Some(message) = followed.failure.clone() {
        return fail(message, followed.failed_step(backend));
    }
    let Some(id) = followed.image_id.clone() else {
        return fail(
            "the engine ended the build without an image id".into(),
            None,
        );
    };
    if let Err(error) = tag_the_rest(docker, &id, &build.tags).await {
        return fail(error_chain(&error), None);
    }
    let (steps_total, steps_cached) = followed.counts(backend);
    let built = ImageBuilt {
        size: image_size(docker, &id).await,
        id,
        tags: build.tags.clone(),
        seconds,
        steps_total,
        steps_cached,
    };
    send(BuildEventKind::ImageBuilt(built.clone()));
    Outcome::Built(built)
}

/// The engine's request for `build`, as the plan decided it: the stage, the first tag, the build arguments, the
/// platform, the network, the cache images; for BuildKit, the run's session.
///
/// A BuildKit build is asked for as `version=1` with its `session`, and [`buildkit_on_build`] makes it
/// `version=2` on the way out: with `version=2`, bollard 0.21 opens a session of its own under the same id, which
/// serves registry credentials only; with `version=1` it sends the request as it is, and decodes BuildKit's
/// progress and the image id by their content all the same.
fn request(
    backend: Backend,
    build: &Build,
    dockerfile: &str,
    session: Option<&str>,
) -> BuildImageOptions {
    let build_args: HashMap<&str, String> = build
        .build_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let first_tag = build
        .tags
        .first()
        .cloned()
        .unwrap_or_else(|| format!("{}:latest", build.stage));
    let mut request = BuildImageOptionsBuilder::new()
        .dockerfile(dockerfile)
        .t(&first_tag)
        .target(&build.stage)
        .buildargs(&build_args)
        .nocache(build.cache == Cache::Ignore)
        .rm(true)
        .forcerm(true);
    request = request.version(BuilderVersion::BuilderV1);
    if let (Backend::BuildKit, Some(session)) = (backend, session) {
        request = request.session(session);
    }
    if let Some(network) = &build.network {
        request = request.networkmode(network);
    }
    if let Some(platform) = build.platform {
        request = request.platform(platform.docker_name());
    }
    if !build.cache_from.is_empty() {
        request = request.cachefrom(&build.cache_from);
    }
    request.build()
}

/// bollard's request modifier for BuildKit builds: `version=1` becomes `version=2` on `/build` only (see
/// [`request`]).
fn buildkit_on_build(mut request: bollard::BollardRequest) -> bollard::BollardRequest {
    let uri = request.uri();
    if !uri.path().ends_with("/build") {
        return request;
    }
    let Some(query) = uri.query() else {
        return request;
    };
    let query: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair == "version=1" {
                "version=2"
            } else {
                pair
            }
        })
        .collect();
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = format!("{}?{}", uri.path(), query.join("&")).parse().ok();
    if let Ok(rewritten) = http::Uri::from_parts(parts) {
        *request.uri_mut() = rewritten;
    }
    request
}

/// What the engine's stream said, once it ended.
#[derive(Default)]
struct Followed {
    vertexes: VertexTracker,
    classic: ClassicTracker,
    image_id: Option<String>,
    failure: Option<String>,
}

impl Followed {
    fn counts(&self, backend: Backend) -> (usize, usize) {
        match backend {
            Backend::BuildKit => self.vertexes.counts(),
            Backend::Classic => self.classic.counts(),
        }
    }

    fn failed_step(&self, backend: Backend) -> Option<(Step, Vec<String>)> {
        match backend {
            Backend::BuildKit => self.vertexes.failed_step(),
            Backend::Classic => self.classic.current_step(),
        }
    }
}

/// Reads the engine's stream to its end, sending an event for every change it reports.
async fn follow(
    stream: impl Stream<Item = Result<BuildInfo, bollard::errors::Error>>,
    send: &impl Fn(BuildEventKind),
) -> Followed {
    futures_util::pin_mut!(stream);
    let mut followed = Followed::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(BuildInfo {
                aux: Some(BuildInfoAux::BuildKit(status)),
                ..
            }) => followed.vertexes.update(&status).into_iter().for_each(send),
            Ok(BuildInfo {
                aux: Some(BuildInfoAux::Default(id)),
                ..
            }) => followed.image_id = id.id.or(followed.image_id),
            Ok(BuildInfo {
                stream: Some(text), ..
            }) => followed.classic.update(&text).into_iter().for_each(send),
            Ok(BuildInfo {
                error_detail: Some(detail),
                ..
            }) => followed.failure = detail.message.or(followed.failure),
            Ok(_) => {}
            // bollard 0.21's line decoder can end a finished build's stream with a lone `\r`, reported as
            // "bytes remaining on stream": once the image id has arrived, that is the end, not a failure.
            Err(bollard::errors::Error::IOError { err })
                if followed.image_id.is_some()
                    && err.to_string().contains("bytes remaining on stream") =>
            {
                break;
            }
            Err(error) => {
                followed.failure = Some(match error {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => error_chain(&other),
                });
                break;
            }
        }
    }
    followed
}

/// The build applies the first tag; the others are added once it succeeded.
async fn tag_the_rest(docker: &Docker, id: &str, tags: &[String]) -> Result<(), EngineError> {
    for tag in tags.iter().skip(1) {
        let (repo, tag_name) = reference::split_tag(tag);
        let options = TagImageOptionsBuilder::new()
            .repo(repo)
            .tag(tag_name)
            .build();
        docker
            .tag_image(id, Some(options))
            .await
            .map_err(|source| EngineError::Tag {
                image: id.to_string(),
                tag: tag.clone(),
                source,
            })?;
    }
    Ok(())
}

/// The image's size as the engine reports it; 0 when it cannot say.
async fn image_size(docker: &Docker, id: &str) -> u64 {
    docker
        .inspect_image(id)
        .await
        .ok()
        .and_then(|i| i.size)
        .unwrap_or_default()
        .max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(uri: &str) -> bollard::BollardRequest {
        http::Request::post(uri)
            .body(bollard::body_full(bytes::Bytes::new()))
            .unwrap()
    }

    #[test]
    fn buildkit_builds_go_out_as_version_2_and_nothing_else_changes() {
        let build = buildkit_on_build(post(
            "http://docker/v1.41/build?t=x&version=1&session=abc&networkmode=host",
        ));
        assert_eq!(
            build.uri().query(),
            Some("t=x&version=2&session=abc&networkmode=host")
        );
        let other = buildkit_on_build(post("http://docker/v1.41/images/create?version=1"));
        assert_eq!(other.uri().query(), Some("version=1"));
        let tag = buildkit_on_build(post("http://docker/v1.41/build?t=version=1"));
        assert_eq!(tag.uri().query(), Some("t=version=1"));
    }
}
