//! Child `concord-node` processes: locating the binary, spawning with a log
//! file, graceful stop (SIGTERM, then SIGKILL after a grace period), and a
//! drop guard so no child outlives the CLI.
//!
//! Architecture invariant: only this module sends signals or spawns processes.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde::Serialize;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::exit::CliError;

/// File name of the node daemon.
pub const NODE_BIN: &str = "concord-node";

/// Finds `concord-node`: `$CONCORD_NODE_BIN`, else next to the running
/// executable, else on `$PATH`.
pub fn locate_node_binary() -> Result<PathBuf, CliError> {
    locate(
        std::env::var_os("CONCORD_NODE_BIN"),
        std::env::current_exe().ok(),
        std::env::var_os("PATH"),
        &|p| p.is_file(),
    )
}

fn locate(
    env_bin: Option<OsString>,
    current_exe: Option<PathBuf>,
    path: Option<OsString>,
    is_file: &dyn Fn(&Path) -> bool,
) -> Result<PathBuf, CliError> {
    if let Some(bin) = env_bin.filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        return if is_file(&bin) {
            Ok(bin)
        } else {
            Err(CliError::config(format!(
                "CONCORD_NODE_BIN={} is not a file",
                bin.display()
            )))
        };
    }
    let beside = current_exe.map(|exe| exe.with_file_name(NODE_BIN));
    let on_path = path
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(NODE_BIN));
    beside
        .into_iter()
        .chain(on_path)
        .find(|candidate| is_file(candidate))
        .ok_or_else(|| {
            CliError::config(format!(
                "cannot find {NODE_BIN}: set CONCORD_NODE_BIN, install it next to concord, \
                 or put it on PATH (cargo build -p concord-node)"
            ))
        })
}

/// One running node.
pub struct NodeProcess {
    pub name: String,
    pub pid: u32,
    pub log: PathBuf,
    child: Child,
    status: Option<ExitStatus>,
}

/// How a node ended.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    pub jurisdiction: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// Killed with SIGKILL after not stopping within the grace period.
    pub killed: bool,
    /// Why the status is unknown, if it is.
    pub error: Option<String>,
}

impl Stopped {
    pub fn clean(&self) -> bool {
        self.exit_code == Some(0) && !self.killed && self.error.is_none()
    }

    pub fn describe(&self) -> String {
        match (&self.error, self.exit_code, self.signal, self.killed) {
            (Some(e), ..) => format!("status unknown: {e}"),
            (None, _, _, true) => "killed after the grace period".to_owned(),
            (None, Some(code), ..) => format!("exit status {code}"),
            (None, None, Some(sig), _) => format!("terminated by signal {sig}"),
            (None, None, None, _) => "exit status unknown".to_owned(),
        }
    }
}

fn stopped(name: &str, status: &ExitStatus, killed: bool) -> Stopped {
    use std::os::unix::process::ExitStatusExt;
    Stopped {
        jurisdiction: name.to_owned(),
        exit_code: status.code(),
        signal: status.signal(),
        killed,
        error: None,
    }
}

/// The children of this CLI; every one still running is killed on drop.
#[derive(Default)]
pub struct Nodes {
    procs: Vec<NodeProcess>,
}

impl Nodes {
    /// Starts `bin --config CONFIG` with stdout and stderr going to `log`.
    ///
    /// The child gets its own process group, so a Ctrl-C in the terminal
    /// reaches only the CLI, which then stops the child with SIGTERM. On Linux
    /// the child also receives SIGTERM if the CLI dies without cleaning up.
    pub fn spawn(
        &mut self,
        name: &str,
        bin: &Path,
        config: &Path,
        log: &Path,
    ) -> Result<&NodeProcess, CliError> {
        let log_err = |e: std::io::Error| {
            CliError::config(format!("cannot create log file {}: {e}", log.display()))
        };
        let out = File::create(log).map_err(log_err)?;
        let err = out.try_clone().map_err(log_err)?;
        let mut cmd = Command::new(bin);
        cmd.arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .process_group(0);
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| {
            CliError::internal(format!("cannot start {} for {name}: {e}", bin.display()))
        })?;
        let pid = child.id().ok_or_else(|| {
            CliError::internal(format!("{name}: node exited before its pid was known"))
        })?;
        self.procs.push(NodeProcess {
            name: name.to_owned(),
            pid,
            log: log.to_owned(),
            child,
            status: None,
        });
        Ok(&self.procs[self.procs.len() - 1])
    }

    pub fn iter(&self) -> impl Iterator<Item = &NodeProcess> {
        self.procs.iter()
    }

    /// Fails if any node has exited, naming it and its log's last line.
    pub fn check_running(&mut self) -> Result<(), CliError> {
        for p in &mut self.procs {
            if p.status.is_none() {
                if let Ok(Some(status)) = p.child.try_wait() {
                    p.status = Some(status);
                }
            }
            if let Some(status) = p.status {
                return Err(CliError::internal(format!(
                    "node {} exited unexpectedly ({}); log {}: {}",
                    p.name,
                    stopped(&p.name, &status, false).describe(),
                    p.log.display(),
                    last_line(&p.log).unwrap_or_else(|| "(empty)".to_owned())
                )));
            }
        }
        Ok(())
    }

    /// Sends SIGTERM to every running node and waits for all of them, killing
    /// those still running after `grace`.
    pub async fn stop(&mut self, grace: Duration) -> Vec<Stopped> {
        for p in &mut self.procs {
            if p.status.is_none() && matches!(p.child.try_wait(), Ok(None)) {
                signal_group(p.pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + grace;
        let mut results = Vec::new();
        for p in &mut self.procs {
            if let Some(status) = p.status {
                results.push(stopped(&p.name, &status, false));
                continue;
            }
            let result = match tokio::time::timeout_at(deadline, p.child.wait()).await {
                Ok(Ok(status)) => {
                    p.status = Some(status);
                    stopped(&p.name, &status, false)
                }
                Ok(Err(e)) => Stopped {
                    jurisdiction: p.name.clone(),
                    exit_code: None,
                    signal: None,
                    killed: false,
                    error: Some(e.to_string()),
                },
                Err(_) => {
                    signal_group(p.pid, libc::SIGKILL);
                    let _ = p.child.start_kill();
                    match p.child.wait().await {
                        Ok(status) => {
                            p.status = Some(status);
                            stopped(&p.name, &status, true)
                        }
                        Err(e) => Stopped {
                            jurisdiction: p.name.clone(),
                            exit_code: None,
                            signal: None,
                            killed: true,
                            error: Some(e.to_string()),
                        },
                    }
                }
            };
            results.push(result);
        }
        results
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for p in &mut self.procs {
            if p.status.is_none() && matches!(p.child.try_wait(), Ok(None)) {
                signal_group(p.pid, libc::SIGKILL);
                let _ = p.child.start_kill();
                // Give the kernel a moment so the child is gone before we return.
                for _ in 0..50 {
                    if !matches!(p.child.try_wait(), Ok(None)) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
}

/// Signals a child's whole process group (the child leads its own group), so
/// wrappers and their children stop too.
///
/// Callers check first that the child is not yet reaped: until then its pid,
/// and so its group id, cannot have been reused.
fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// The last non-empty line of a log file, shortened.
pub fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    let short: String = line.chars().take(300).collect();
    Some(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        env_bin: Option<&str>,
        exe: Option<&str>,
        path: Option<&str>,
        files: &[&str],
        expected: Result<&str, ()>,
    ) {
        let is_file = |p: &Path| files.iter().any(|f| Path::new(f) == p);
        let got = locate(
            env_bin.map(OsString::from),
            exe.map(PathBuf::from),
            path.map(OsString::from),
            &is_file,
        )
        .map_err(|_| ());
        assert_eq!(got, expected.map(PathBuf::from));
    }

    #[test]
    fn locates_the_node_binary_in_order() {
        let all = ["/env/node", "/bin/concord-node", "/usr/bin/concord-node"];
        check(
            Some("/env/node"),
            Some("/bin/concord"),
            Some("/usr/bin"),
            &all,
            Ok("/env/node"),
        );
        check(Some("/missing"), Some("/bin/concord"), None, &all, Err(()));
        check(
            None,
            Some("/bin/concord"),
            Some("/usr/bin"),
            &all,
            Ok("/bin/concord-node"),
        );
        check(
            None,
            Some("/x/concord"),
            Some("/a:/usr/bin"),
            &all,
            Ok("/usr/bin/concord-node"),
        );
        check(None, None, Some("/a"), &all, Err(()));
        check(
            Some(""),
            None,
            Some("/usr/bin"),
            &all,
            Ok("/usr/bin/concord-node"),
        );
    }

    #[test]
    fn describes_how_nodes_ended() {
        let s = Stopped {
            jurisdiction: "DE".into(),
            exit_code: Some(0),
            signal: None,
            killed: false,
            error: None,
        };
        assert!(s.clean());
        assert_eq!(s.describe(), "exit status 0");
        let killed = Stopped {
            killed: true,
            exit_code: None,
            signal: Some(9),
            ..s
        };
        assert!(!killed.clean());
        assert_eq!(killed.describe(), "killed after the grace period");
    }

    fn stand_in(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join("fake-node");
        // Not `exec`: the sleep is a grandchild, which must stop as well.
        std::fs::write(&script, "#!/bin/sh\necho started \"$@\"\nsleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    /// Whether a live (not zombie) process is in the group; zombies may
    /// linger where nothing reaps orphans, as in some containers.
    fn group_alive(pgid: u32) -> bool {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return false;
        };
        entries.flatten().any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid pgrp ...
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let fields: Vec<&str> = after.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
    }

    /// Whether the process group ends within a second: its other members
    /// (the script's sleep) are signalled with the leader but may take a
    /// moment longer to exit.
    async fn group_gone(pgid: u32) -> bool {
        for _ in 0..100 {
            if !group_alive(pgid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        !group_alive(pgid)
    }

    fn alive(pid: u32) -> bool {
        // SAFETY: signal 0 only checks for existence.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }

    // One test, so no other test forks while the stand-in script is being
    // written (a concurrently forked child holding its write descriptor would
    // make exec fail with "text file busy").
    #[tokio::test]
    async fn supervises_children() {
        let dir = tempfile::tempdir().unwrap();
        let bin = stand_in(dir.path());

        // Stopped with SIGTERM, status reported.
        let mut nodes = Nodes::default();
        let log = dir.path().join("log1");
        let pid = nodes
            .spawn("XX", &bin, Path::new("c.toml"), &log)
            .unwrap()
            .pid;
        for _ in 0..250 {
            if last_line(&log).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(last_line(&log).as_deref(), Some("started --config c.toml"));
        nodes.check_running().unwrap();
        let stopped = nodes.stop(Duration::from_secs(5)).await;
        assert_eq!(stopped.len(), 1);
        let how = (stopped[0].signal, stopped[0].killed);
        assert_eq!(how, (Some(libc::SIGTERM), false));
        assert!(!stopped[0].clean());
        assert!(!alive(pid));
        assert!(group_gone(pid).await);

        // Killed when the guard is dropped.
        let mut nodes = Nodes::default();
        let log = dir.path().join("log2");
        let pid = nodes
            .spawn("XX", &bin, Path::new("c.toml"), &log)
            .unwrap()
            .pid;
        assert!(alive(pid));
        drop(nodes);
        assert!(!alive(pid));
        assert!(group_gone(pid).await);

        // A node that dies on its own is noticed.
        let mut nodes = Nodes::default();
        let log = dir.path().join("log3");
        nodes
            .spawn("XX", Path::new("/bin/false"), Path::new("c"), &log)
            .unwrap();
        let mut failed = None;
        for _ in 0..250 {
            if let Err(e) = nodes.check_running() {
                failed = Some(e);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let err = failed.expect("node exit is noticed");
        assert!(err.message.contains("exit status 1"), "{}", err.message);
    }
}
