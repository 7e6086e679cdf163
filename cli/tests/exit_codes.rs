//! Exercises the built `concord` binary directly.
//!
//! Besides checking the exit-code contract scripts rely on, this integration
//! test makes `cargo test --workspace` build the `concord` executable itself
//! (cargo builds a package's binaries only for that package's integration
//! tests), which the multi-node tests in `tests/` spawn.

use std::process::Command;

fn concord() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    cmd.env_remove("CONCORD_PROFILE");
    cmd
}

#[test]
fn version_is_printed() {
    let out = concord().arg("--version").output().expect("run concord");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("concord "), "unexpected: {stdout}");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = concord()
        .arg("no-such-command")
        .output()
        .expect("run concord");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_profile_is_a_config_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("absent.profile.toml");
    let out = concord()
        .arg("--profile")
        .arg(&missing)
        .arg("status")
        .output()
        .expect("run concord");
    assert_eq!(out.status.code(), Some(12), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("concord: "),
        "one-line error expected: {stderr}"
    );
}

#[test]
fn writing_into_a_missing_directory_is_the_callers_mistake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_file = dir.path().join("no-such-dir").join("export.jsonl");
    for args in [vec!["audit", "export", "--out"], vec!["backup", "--out"]] {
        let out = concord()
            .args(&args)
            .arg(&out_file)
            .output()
            .expect("run concord");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{args:?}: {err}");
        assert!(err.contains("does not exist"), "{err}");
    }
}
