//! The help of `pin`: what a pin is, where it lives and where its digest comes from.

pub const AFTER_HELP: &str = "\
A tag such as `debian:bookworm-slim` moves: the next build of the same commit may start from another image. \
`pin` asks each base's registry which manifest its tag points at now (with the Docker CLI's credentials; for a \
multi-platform plan, the image index that lists every platform) and writes the Dockerfile with that digest: \
`FROM debian:bookworm-slim@sha256:…`. Where a registry cannot be reached, the digest comes from the engine's copy \
(`docker image inspect`'s RepoDigests), and the output says which source each pin has. Each runtime image on a \
pinned base gets the labels `org.opencontainers.image.base.name` and `.base.digest`; `scratch` is no image and \
needs no pin.

The pins live in the Dockerfile, in the form Dependabot and Renovate keep current: `generate` reads the pins of \
the Dockerfile it rewrites and keeps them, so `generate --check` passes with them. Run `pin` again to move every \
pin to what its tag points at now. A pin applies to its tag only: a new `rust-version` names another builder tag, \
which is unpinned until the next `pin`. `list -v` and `list --format json` (`bases`) show each base and its pin.

Examples:
  cargo dockerize pin                    pin every base of the Dockerfile (the registry, else the engine's copy)
  cargo dockerize -H ssh://builder pin   read digests the engine on `builder` holds where a registry is unreachable
  cargo dockerize list -v                each base, pinned or not";
