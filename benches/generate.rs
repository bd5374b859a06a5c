//! Generation speed: `cargo dockerize generate` against `cargo metadata` alone, on a synthetic workspace of
//! N members that each have a binary. Prints a table; asserts nothing (timings belong in benchmarks, not tests).
//!
//!     cargo bench --bench generate -- [MEMBERS] [REPEATS]      (defaults: 300 members, 5 repeats)
//!
//! Both commands run against the same workspace with a warm file cache; the figure is the median wall time.
//! The target (issues 2 and 5) is generate ≤ 1.2 × cargo metadata.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let members: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    write_workspace(root, members);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(&cargo)
        .args(["generate-lockfile", "--offline"])
        .current_dir(root));

    let tool = env!("CARGO_BIN_EXE_cargo-dockerize");
    let metadata = || {
        // Unfiltered, as the tool runs it: one resolve for every target, read for each triple in the tool.
        run(Command::new(&cargo)
            .args(["metadata", "--format-version", "1"])
            .current_dir(root))
    };
    let generate = || {
        run(Command::new(tool)
            .args(["dockerize", "generate", "-q", "--force"])
            .current_dir(root))
    };
    // One untimed round of each warms the file cache and Cargo's own caches.
    metadata();
    generate();
    let metadata_s = median((0..repeats).map(|_| time(metadata)).collect());
    let generate_s = median((0..repeats).map(|_| time(generate)).collect());
    println!("generation benchmark: {members} members with one binary each, median of {repeats}");
    println!("{:<32} {:>10}", "command", "seconds");
    println!("{:<32} {:>10.3}", "cargo metadata", metadata_s);
    println!("{:<32} {:>10.3}", "cargo dockerize generate", generate_s);
    println!(
        "{:<32} {:>10.2}",
        "ratio (target <= 1.20)",
        generate_s / metadata_s
    );
}

fn write_workspace(root: &Path, members: usize) {
    let names: Vec<String> = (0..members).map(|i| format!("member-{i:04}")).collect();
    let list = names
        .iter()
        .map(|n| format!("\"crates/{n}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        root.join("Cargo.toml"),
        format!("[workspace]\nresolver = \"2\"\nmembers = [{list}]\n\n[workspace.package]\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n"),
    )
    .expect("write the root manifest");
    for name in &names {
        let dir = root.join("crates").join(name).join("src");
        std::fs::create_dir_all(&dir).expect("create a member");
        std::fs::write(
            dir.parent().unwrap().join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion.workspace = true\nedition.workspace = true\nlicense.workspace = true\n"),
        )
        .expect("write a member manifest");
        std::fs::write(dir.join("main.rs"), "fn main() {}\n").expect("write a member source");
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("spawn");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn time(f: impl Fn()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
