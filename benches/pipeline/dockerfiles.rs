//! The Dockerfiles we compare ours against, written the way their own documentation writes them.
//!
//! Every variant builds the same binary with the same profile, target and flags as `cargo dockerize --libc gnu
//! --static` does (release, `x86_64-unknown-linux-gnu`, `-C target-feature=+crt-static` for target crates), and
//! ends in the same runtime stage (`scratch`, the CA bundle, the binary at `/usr/local/bin/<bin>`, user 65532), so
//! only the builder pipeline differs: times and image sizes compare like with like.

use std::fmt::Write as _;

/// What every variant is built for.
pub struct Spec<'a> {
    /// The `rust` image version, as `cargo dockerize` picks it (`ARG RUST_VERSION`).
    pub rust_version: &'a str,
    pub triple: &'a str,
    /// The one binary this image holds.
    pub bin: &'a str,
    /// `Some(id)` gives variant (d)'s cache mounts this id, so a `--no-cache` cold build starts with empty mounts
    /// (`--no-cache` does not empty cache mounts; `docker builder prune -af` does).
    pub mount_id: Option<&'a str>,
}

impl Spec<'_> {
    fn base(&self) -> String {
        format!("rust:{}-slim-bookworm", self.rust_version)
    }

    fn rustflags(&self) -> String {
        let (name, flags) = static_rustflags(self.triple);
        format!("ENV {name}=\"{flags}\"")
    }

    fn build(&self) -> String {
        format!(
            "cargo build --locked --release --target {} --bin {}",
            self.triple, self.bin
        )
    }

    /// The builder stage of (b) and (d) up to their build: the whole context copied in.
    fn copy_all_builder(&self) -> String {
        format!(
            "FROM {} AS builder\nWORKDIR /app\n{}\nCOPY . .\n",
            self.base(),
            self.rustflags()
        )
    }

    fn artifact(&self) -> String {
        format!("/app/target/{}/release/{}", self.triple, self.bin)
    }
}

/// What `--static` sets in our builder, as a variable and its value: static glibc for target crates only (not
/// build scripts or proc macros). The host variant builds with the same.
pub fn static_rustflags(triple: &str) -> (String, &'static str) {
    (
        format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace('-', "_")
        ),
        "-C target-feature=+crt-static",
    )
}

/// (b) The plain Dockerfile: copy everything, build. Any change to the context rebuilds every dependency.
pub fn plain(spec: &Spec) -> String {
    let mut out = spec.copy_all_builder();
    let _ = writeln!(out, "RUN {}\n", spec.build());
    runtime(&mut out, spec, &spec.artifact());
    out
}

/// (c) cargo-chef's README, with the planner tool compiled in the base stage (`cargo install cargo-chef`), as one
/// does without the prebuilt `lukemathwalker/cargo-chef` image. `cook` builds the dependencies of the whole
/// workspace, with the target the final build uses (its RUSTFLAGS are keyed on it).
pub fn chef(spec: &Spec) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "FROM {} AS chef", spec.base());
    out.push_str("RUN cargo install cargo-chef --locked\nWORKDIR /app\n\n");
    out.push_str(
        "FROM chef AS planner\nCOPY . .\nRUN cargo chef prepare --recipe-path recipe.json\n\n",
    );
    out.push_str("FROM chef AS builder\n");
    let _ = writeln!(out, "{}", spec.rustflags());
    out.push_str("COPY --from=planner /app/recipe.json recipe.json\n");
    let _ = writeln!(
        out,
        "RUN cargo chef cook --release --target {} --recipe-path recipe.json",
        spec.triple
    );
    out.push_str("COPY . .\n");
    let _ = writeln!(out, "RUN {}\n", spec.build());
    runtime(&mut out, spec, &spec.artifact());
    out
}

/// (d) BuildKit cache mounts only: the registry and `target/` persist in the builder between builds. The binary
/// is copied out of the mount, which the image does not keep.
pub fn cache_mounts(spec: &Spec) -> String {
    let id = |name: &str| match spec.mount_id {
        Some(id) => format!(",id={id}-{name}"),
        None => String::new(),
    };
    let mut out = spec.copy_all_builder();
    let _ = writeln!(
        out,
        "RUN --mount=type=cache,target=/usr/local/cargo/registry{} --mount=type=cache,target=/app/target{} \\\n    {} \\\n    && mkdir -p /out && cp {} /out/{}\n",
        id("registry"),
        id("target"),
        spec.build(),
        spec.artifact(),
        spec.bin
    );
    runtime(&mut out, spec, &format!("/out/{}", spec.bin));
    out
}

/// The runtime stage every variant shares with ours: `scratch`, the CA bundle, the binary, a non-root user.
fn runtime(out: &mut String, spec: &Spec, artifact: &str) {
    let bin = spec.bin;
    let _ = writeln!(out, "FROM scratch AS {bin}");
    out.push_str("COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\n");
    out.push_str("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n");
    let _ = writeln!(out, "COPY --from=builder {artifact} /usr/local/bin/{bin}");
    out.push_str("USER 65532:65532\n");
    let _ = writeln!(out, "ENTRYPOINT [\"/usr/local/bin/{bin}\"]");
}
