//! Copying a fixture's directory tree, without build output or generated files.

use std::path::Path;

/// Copies a directory tree, leaving out build output and generated files.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("read fixture directory") {
        let entry = entry.expect("read directory entry");
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("target" | "Dockerfile" | ".dockerignore")
        ) {
            continue;
        }
        let kind = entry.file_type().expect("file type");
        let target = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}
