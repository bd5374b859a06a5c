//! The images: one runtime stage per binary (`--target <binary>`), then the opt-in debug variants
//! (`--target <binary>-debug`), in the plan's order.
//!
//! Images that start alike — the same base image and setup (CA certificates, Debian packages) and the same user —
//! share a stage holding what they have in common: that start and the labels every one of them carries. Each
//! image's own stage then holds only its binary and what is its alone (files, environment, ports, its labels,
//! entrypoint), so four binaries do not mean four copies of the same lines, and each image is still its own named
//! stage. An image alone on its base gets a stage from the base image itself. The shared stage changes no image:
//! its instructions are the ones each image had, and BuildKit builds it once for all of them.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::dockerfile::{apt_install, comment, WIDTH};
use super::quote::{copy_paths, dockerfile_path, json_array, label_value};
use crate::model::{stage, BIN_DIR, DEBIAN_SLIM, OUT_DIR};
use crate::plan::{
    Base, BuilderStage, DebugImage, Image, PinnedBy, RuntimeBase, Strip, BASE_DIGEST_LABEL,
    BASE_NAME_LABEL,
};

/// The CA bundle scratch images get from the builder base.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The release images or their debug variants.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Release,
    Debug,
}

/// How an image starts: its base image, the instructions that set it up, and its user.
#[derive(PartialEq, Eq, Hash)]
struct Start {
    from: String,
    setup: String,
    user: String,
}

/// The image of a `FROM` line for the base `reference`: with its digest where the Dockerfile pins it.
fn from_image(bases: &[Base], reference: &str) -> String {
    bases
        .iter()
        .find(|b| b.reference == reference && b.pinned_by == PinnedBy::Dockerfile)
        .map_or_else(|| reference.to_string(), Base::from_image)
}

impl Variant {
    fn start(self, image: &Image, bases: &[Base]) -> Start {
        let (from, setup) = match self {
            Variant::Release => (
                from_image(bases, image.runtime.image()),
                release_setup(image),
            ),
            Variant::Debug => (
                from_image(bases, DEBIAN_SLIM),
                format!("{}\n", apt_install(&image.debug.packages)),
            ),
        };
        Start {
            from,
            setup,
            user: image.user.clone(),
        }
    }

    fn stage(self, image: &Image) -> &str {
        match self {
            Variant::Release => &image.stage,
            Variant::Debug => &image.debug.stage,
        }
    }

    /// Where the builder leaves the binary this variant copies.
    fn built(self, image: &Image) -> String {
        match self {
            Variant::Release => format!("{OUT_DIR}/{}", image.stage),
            Variant::Debug => format!("{OUT_DIR}/debug/{}", image.stage),
        }
    }

    /// The labels of this variant: a debug variant has its own base, so its own base labels (or none).
    fn labels(self, image: &Image) -> BTreeMap<String, String> {
        match self {
            Variant::Release => image.labels.clone(),
            Variant::Debug => {
                let mut labels = image.labels.clone();
                labels.remove(BASE_NAME_LABEL);
                labels.remove(BASE_DIGEST_LABEL);
                labels.extend(image.debug.base_labels.clone());
                labels
            }
        }
    }

    /// The name a shared stage would like.
    fn base_name(self) -> &'static str {
        match self {
            Variant::Release => "runtime",
            Variant::Debug => "debug",
        }
    }
}

/// What a scratch, Debian or other base needs before the binary: the CA bundle, or the packages.
fn release_setup(image: &Image) -> String {
    match &image.runtime {
        RuntimeBase::Scratch => format!(
            "COPY --from={chef} {CA_BUNDLE} {CA_BUNDLE}\nENV SSL_CERT_FILE={CA_BUNDLE}\n",
            chef = stage::CHEF
        ),
        RuntimeBase::DebianSlim(_) => {
            let mut packages = vec!["ca-certificates".to_string()];
            packages.extend(image.runtime_packages.iter().cloned());
            format!("{}\n", apt_install(&packages))
        }
        RuntimeBase::Distroless(_) | RuntimeBase::Custom(_) => String::new(),
    }
}

/// The images of the plan and the builders their binaries come from.
#[derive(Clone, Copy)]
pub(super) struct Images<'a> {
    pub images: &'a [Image],
    pub builders: &'a [BuilderStage],
    pub bases: &'a [Base],
}

impl Images<'_> {
    /// The stage an image copies its binary from: its builder's, or in a multi-platform plan their alias.
    fn builder_of(&self, image: &Image) -> &str {
        self.builders
            .iter()
            .find(|b| b.compiles(&image.stage))
            .map_or("", |b| b.alias.as_str())
    }
}

/// Every runtime stage, then every debug variant.
pub(super) fn image_stages(
    out: &mut String,
    images: &[Image],
    builders: &[BuilderStage],
    bases: &[Base],
) {
    let plan = Images {
        images,
        builders,
        bases,
    };
    let mut taken = Vec::new();
    for variant in [Variant::Release, Variant::Debug] {
        variant_stages(out, plan, variant, &mut taken);
    }
}

/// Images that start alike, and what their shared stage holds: worked out once for the group, not per member.
struct Group<'a> {
    members: Vec<&'a Image>,
    /// The shared stage's name, once it is written.
    name: Option<String>,
    /// The labels the shared stage sets.
    labels: BTreeMap<String, String>,
    /// The reasons every member gives.
    reasons: Vec<&'a str>,
    /// How every member is stripped, when they agree.
    strip: Option<String>,
}

impl<'a> Group<'a> {
    fn new(members: Vec<&'a Image>, variant: Variant) -> Self {
        Self {
            name: None,
            labels: shared_labels(&members, variant),
            reasons: common_reasons(&members),
            strip: common_strip(&members),
            members,
        }
    }
}

/// The stages of one variant of every image, with a shared stage before the first image of each group of two or
/// more that start alike. `taken`: the names shared stages already have.
fn variant_stages(out: &mut String, plan: Images<'_>, variant: Variant, taken: &mut Vec<String>) {
    let starts: Vec<Start> = plan
        .images
        .iter()
        .map(|i| variant.start(i, plan.bases))
        .collect();
    // Each image's group: the index of the first image that starts alike.
    let mut firsts: HashMap<&Start, usize> = HashMap::new();
    let group_of: Vec<usize> = starts
        .iter()
        .enumerate()
        .map(|(index, start)| *firsts.entry(start).or_insert(index))
        .collect();
    let mut members: BTreeMap<usize, Vec<&Image>> = BTreeMap::new();
    for (image, first) in plan.images.iter().zip(&group_of) {
        members.entry(*first).or_default().push(image);
    }
    let mut groups: BTreeMap<usize, Group> = members
        .into_iter()
        .filter(|(_, m)| m.len() >= 2)
        .map(|(first, m)| (first, Group::new(m, variant)))
        .collect();
    for (index, image) in plan.images.iter().enumerate() {
        let builder = plan.builder_of(image);
        let Some(group) = groups.get_mut(&group_of[index]) else {
            alone(out, image, (builder, plan.bases), variant);
            continue;
        };
        if group.name.is_none() {
            let name = free_name(plan, variant.base_name(), taken);
            shared(out, group, &starts[index], &name, variant);
            taken.push(name.clone());
            group.name = Some(name);
        }
        member(out, image, builder, group, variant);
    }
}

/// `wanted`, or `wanted-2`, `wanted-3`...: the first name no stage of the plan has and no shared stage took.
fn free_name(plan: Images<'_>, wanted: &str, taken: &[String]) -> String {
    let used = |name: &str| {
        taken.iter().any(|t| t == name)
            || stage::RESERVED.contains(&name)
            || plan
                .images
                .iter()
                .any(|i| i.stage == name || i.debug.stage == name)
            || plan
                .builders
                .iter()
                .any(|b| b.stage == name || b.alias == name)
    };
    (1..)
        .map(|n| match n {
            1 => wanted.to_string(),
            n => format!("{wanted}-{n}"),
        })
        .find(|name| !used(name))
        .expect("an unbounded range has a free name")
}

/// An image alone on its base: its stage starts from the base image itself.
fn alone(out: &mut String, image: &Image, (builder, bases): (&str, &[Base]), variant: Variant) {
    match variant {
        Variant::Release => {
            let text = format!(
                "`{}` of package `{}`: {}; {}.",
                image.binary,
                image.package,
                image.reasons.join("; "),
                strip_note(&image.strip)
            );
            comment(out, &text);
        }
        Variant::Debug => comment(
            out,
            &format!(
                "`{}` unstripped, with a shell, for debugging: built only on request (`--target {}`).",
                image.binary, image.debug.stage
            ),
        ),
    }
    let start = variant.start(image, bases);
    let _ = writeln!(out, "FROM {} AS {}", start.from, variant.stage(image));
    out.push_str(&start.setup);
    let built = variant.built(image);
    own_lines(
        out,
        (image, variant),
        (builder, &built),
        &BTreeMap::new(),
        true,
    );
}

/// The stage a group of images shares: their base, its setup, their user and the labels all of them carry.
fn shared(out: &mut String, group: &Group<'_>, start: &Start, name: &str, variant: Variant) {
    let names: Vec<String> = group
        .members
        .iter()
        .map(|i| format!("`{}`", i.stage))
        .collect();
    let text = match variant {
        Variant::Release => {
            let mut why = group.reasons.join("; ");
            if let Some(strip) = &group.strip {
                let _ = write!(why, "; {strip}");
            }
            format!("What the images {} share: {why}.", names.join(", "))
        }
        Variant::Debug => format!(
            "Debug variants of {}, only on request (`--target <image>-debug`): unstripped, with a shell.",
            names.join(", ")
        ),
    };
    comment(out, &text);
    let _ = writeln!(out, "FROM {} AS {name}", start.from);
    out.push_str(&start.setup);
    let _ = writeln!(out, "USER {}", start.user);
    labels(out, &group.labels);
    out.push('\n');
}

/// An image of a group: from the group's stage, with what is its alone (and a comment when its reasons are not
/// all the group's).
fn member(out: &mut String, image: &Image, builder: &str, group: &Group<'_>, variant: Variant) {
    if variant == Variant::Release {
        let mut own: Vec<String> = image
            .reasons
            .iter()
            .filter(|r| !group.reasons.contains(&r.as_str()))
            .cloned()
            .collect();
        if group.strip.is_none() {
            own.push(strip_note(&image.strip));
        }
        if !own.is_empty() {
            comment(
                out,
                &format!(
                    "`{}` of package `{}`: {}.",
                    image.binary,
                    image.package,
                    own.join("; ")
                ),
            );
        }
    }
    let base = group.name.as_deref().unwrap_or_default();
    let _ = writeln!(out, "FROM {base} AS {}", variant.stage(image));
    let built = variant.built(image);
    own_lines(
        out,
        (image, variant),
        (builder, &built),
        &group.labels,
        false,
    );
}

/// How every member is stripped, when they agree.
fn common_strip(members: &[&Image]) -> Option<String> {
    let first = strip_note(&members[0].strip);
    members
        .iter()
        .all(|m| strip_note(&m.strip) == first)
        .then_some(first)
}

fn strip_note(strip: &Strip) -> String {
    match strip {
        Strip::Symbols => "stripped (the profile sets neither `strip` nor debug info)".to_string(),
        Strip::Kept(why) => format!("as Cargo built it: {why}"),
    }
}

/// The reasons every member gives, in the first member's order.
fn common_reasons<'a>(members: &[&'a Image]) -> Vec<&'a str> {
    members[0]
        .reasons
        .iter()
        .filter(|r| members.iter().all(|m| m.reasons.contains(r)))
        .map(String::as_str)
        .collect()
}

/// The labels of the shared stage: each key every member has, with the value most of them give (the first
/// member's on a tie), when at least two give it. A member whose value differs sets its own in its stage, which
/// overrides the shared one: every image ends with exactly its own labels.
fn shared_labels(members: &[&Image], variant: Variant) -> BTreeMap<String, String> {
    let labels: Vec<BTreeMap<String, String>> = members.iter().map(|m| variant.labels(m)).collect();
    let mut shared = BTreeMap::new();
    for key in labels[0].keys() {
        let values: Vec<&String> = labels.iter().filter_map(|m| m.get(key)).collect();
        if values.len() < members.len() {
            continue;
        }
        let mut counts: HashMap<&String, usize> = HashMap::new();
        for value in &values {
            *counts.entry(value).or_default() += 1;
        }
        // The first value (in the members' order) of the highest count.
        let (best, count) = values.iter().fold((values[0], 0), |(best, most), v| {
            let count = counts[v];
            if count > most {
                (v, count)
            } else {
                (best, most)
            }
        });
        if count >= 2 {
            shared.insert(key.clone(), best.clone());
        }
    }
    shared
}

/// `LABEL`, as many labels a line as fit in [`WIDTH`] columns; nothing when there are none.
fn labels<'a>(out: &mut String, labels: impl IntoIterator<Item = (&'a String, &'a String)>) {
    let mut lines: Vec<String> = Vec::new();
    for (key, value) in labels {
        let item = format!("{key}={}", label_value(value));
        match lines.last_mut() {
            Some(line) if 6 + line.len() + 1 + item.len() + 2 <= WIDTH => {
                line.push(' ');
                line.push_str(&item);
            }
            _ => lines.push(item),
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(out, "LABEL {}", lines.join(" \\\n      "));
    }
}

/// What an image's stage holds after its start: the executable from `built` (a builder stage and a path in it),
/// its working directory and assets, environment, ports, the user (unless its shared stage sets it), the labels
/// `shared` does not hold, entrypoint.
fn own_lines(
    out: &mut String,
    (image, variant): (&Image, Variant),
    (builder, built): (&str, &str),
    shared: &BTreeMap<String, String>,
    with_user: bool,
) {
    let Image {
        binary,
        package: _,
        version: _,
        stage: _,
        image_name: _,
        tags: _,
        platforms: _,
        libc: _,
        linkage: _,
        runtime: _,
        runtime_packages: _,
        reasons: _,
        labels: _,
        required_features: _,
        native: _,
        env,
        expose,
        user,
        workdir,
        entrypoint,
        cmd,
        assets,
        config: _,
        strip: _,
        debug:
            DebugImage {
                stage: _,
                tags: _,
                packages: _,
                base_labels: _,
            },
        compilers: _,
    } = image;
    let path = format!("{BIN_DIR}/{binary}");
    let _ = writeln!(
        out,
        "COPY --from={builder} {}",
        copy_paths(&[built.to_string(), path])
    );
    if let Some(workdir) = workdir {
        let _ = writeln!(
            out,
            "COPY --from={builder} --chown={user} {}\nWORKDIR {}",
            copy_paths(&[
                format!("{OUT_DIR}/.empty/"),
                format!("{}/", workdir.trim_end_matches('/'))
            ]),
            dockerfile_path(workdir)
        );
    }
    for asset in assets {
        // From the build context: an asset edit rebuilds only this stage's last layers.
        let _ = writeln!(
            out,
            "COPY --chown={user} {}",
            copy_paths(&[asset.source.to_string(), asset.dest.to_string()])
        );
    }
    if !env.is_empty() {
        let rendered: Vec<String> = env
            .iter()
            .map(|(k, v)| format!("{k}={}", label_value(v)))
            .collect();
        let _ = writeln!(out, "ENV {}", rendered.join(" \\\n    "));
    }
    if !expose.is_empty() {
        let ports: Vec<String> = expose.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "EXPOSE {}", ports.join(" "));
    }
    if with_user {
        let _ = writeln!(out, "USER {user}");
    }
    // The variant's labels (`labels` and `base_labels` of the image are read there).
    let own = variant.labels(image);
    labels(out, own.iter().filter(|(k, v)| shared.get(*k) != Some(*v)));
    let _ = writeln!(out, "ENTRYPOINT {}", json_array(entrypoint));
    if !cmd.is_empty() {
        let _ = writeln!(out, "CMD {}", json_array(cmd));
    }
    out.push('\n');
}
