//! The planner stage: the dependency recipe, and the script that writes it.
//!
//! The planner needs no tool compiled into the image (cargo-chef's cold-build cost): `cargo metadata --no-deps`
//! lists the targets, and a short perl script (perl-base is part of every Debian image) writes the recipe —
//! member manifests with versions, descriptions and `[*.metadata]` masked, `Cargo.lock` with member versions
//! masked, empty sources, `.cargo/config`. The recipe changes only when manifests, `Cargo.lock` or
//! `.cargo/config.toml` change in a way that matters to dependencies, so a source edit, a version bump or a
//! `[package.metadata]` edit leaves the dependency layer cached.

use std::fmt::Write as _;

use super::dockerfile::workspace_in_image;
use super::quote::perl_script;
use crate::model::{stage, APP_DIR};
use crate::plan::BuildContext;
use crate::text::shell_word;

/// The recipe script. Single-quoted for `sh`, so it uses `\x27` for quotes; one statement per line. `{APP_DIR}`
/// stands for [`APP_DIR`], filled in when the script is written out.
const RECIPE_SCRIPT: &[&str] = &[
    r##"use strict; use File::Path qw(make_path); use File::Basename qw(dirname);"##,
    r##"sub slurp { local $/; open(my $f, "<", $_[0]) or return undef; my $t = <$f>; return $t; }"##,
    r##"sub out { my ($rel, $text) = @_; my $p = "/recipe/$rel"; make_path(dirname($p)); open(my $o, ">", $p) or die "$p: $!"; print $o $text; close($o); }"##,
    r##"my ($metadata, $ws, @paths) = @ARGV;"##,
    r##"sub rel { my $p = shift; $p =~ s{^{APP_DIR}/}{}; return $p; }"##,
    r##"sub manifest { my ($sec, $skip, $ml, @o) = ("", 0, ""); for my $l (split /\n/, shift) {"##,
    r##"  if ($ml ne "") { $ml = "" if index($l, $ml) >= 0; next; }"##,
    r##"  if ($l =~ /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/) { ($sec = $1) =~ s/[\s"]//g; $skip = $sec =~ /^(package|workspace)\.metadata(\.|$)/; }"##,
    r##"  next if $skip || $l =~ /^\s*(#.*)?$/;"##,
    r##"  if ($sec eq "package" || $sec eq "workspace.package") {"##,
    r##"    next if $l =~ /^\s*metadata\./;"##,
    r##"    if ($l =~ /^\s*version\s*=\s*["\x27]/) { push @o, "version = \"0.0.0\""; next; }"##,
    r##"    if ($l =~ /^\s*description\s*=/) { for my $q ("\"\"\"", "\x27\x27\x27") { my $n = () = $l =~ /\Q$q\E/g; $ml = $q if $n == 1; } push @o, "description = \"\""; next; } }"##,
    r##"  if ($l =~ /\bpath\s*=/) { $l =~ s/\bversion\s*=\s*"[^"]*"\s*,\s*// or $l =~ s/,\s*version\s*=\s*"[^"]*"//; }"##,
    r##"  push @o, $l; } return join("\n", @o) . "\n"; }"##,
    r##"sub lock { my ($text, %member) = @_; my @b = split /(?=^\[\[package\]\])/m, $text; for (@b) { s/^version = "[^"]*"/version = "0.0.0"/m if /^name = "([^"]+)"/m && $member{$1} && !/^source = /m; } return join("", @b); }"##,
    r##"my $meta = slurp($metadata); my %m = ("$ws/Cargo.toml" => 1); $m{$1} = 1 while $meta =~ /"manifest_path":"([^"]+)"/g;"##,
    r##"my %member; $member{$1} = 1 while $meta =~ /"name":"([^"]+)","version":"[^"]*","id":"/g;"##,
    r##"for my $p (sort keys %m) { my $t = slurp($p); out(rel($p), manifest($t)) if defined $t; }"##,
    r##"while ($meta =~ /"src_path":"([^"]+)"/g) { out(rel($1), "#![allow(dead_code)]\nfn main() {}\n"); }"##,
    r##"my $l = slurp("$ws/Cargo.lock"); out(rel("$ws/Cargo.lock"), lock($l, %member)) if defined $l;"##,
    r##"for my $c (".cargo/config.toml", ".cargo/config") { my $t = slurp("$ws/$c"); out(rel("$ws/$c"), $t) if defined $t; }"##,
];

pub(super) fn planner(out: &mut String, toolchain_files: &[String], context: &BuildContext) {
    out.push_str(
        "# The dependency recipe: manifests (versions, descriptions and [*.metadata] masked), Cargo.lock and empty\n\
         # sources. It changes only when dependencies change, so the dependency layer below stays cached.\n",
    );
    let _ = writeln!(out, "FROM {} AS {}", stage::CHEF, stage::PLANNER);
    let workspace = workspace_in_image(context);
    if context.is_widened() {
        let _ = writeln!(out, "WORKDIR {workspace}\nCOPY . {APP_DIR}/");
    } else {
        out.push_str("COPY . .\n");
    }
    let mut steps = Vec::new();
    if !toolchain_files.is_empty() {
        // The image already carries the pinned toolchain; the file would make rustup look for it by another name.
        steps.push(format!("rm -f {}", toolchain_files.join(" ")));
    }
    for dir in &context.path_packages {
        // Path dependencies that are not members are built from their real sources: copied whole.
        steps.push(format!(
            "mkdir -p /recipe/{dir} && cp -a {APP_DIR}/{dir}/. /recipe/{dir}/"
        ));
    }
    steps.push(
        "cargo metadata --no-deps --format-version 1 --offline > /tmp/metadata.json".to_string(),
    );
    let lines: Vec<String> = RECIPE_SCRIPT
        .iter()
        .map(|line| line.replace("{APP_DIR}", APP_DIR))
        .collect();
    let mut args = format!("/tmp/metadata.json {workspace}");
    for path in &context.path_packages {
        args.push(' ');
        args.push_str(&shell_word(path.as_str()));
    }
    let script = perl_script(lines.iter().map(String::as_str), &args);
    steps.push(script);
    let _ = writeln!(out, "RUN {}\n", steps.join(" \\\n    && "));
}
