//! `concord taskforce create|list|show|close|keygen`: the joint task forces
//! this node takes part in, through the node's TaskForceService. Creating
//! and closing need an admin profile; listing and showing an admin, analyst
//! or task-force member profile. `keygen` is local: a fresh blind-match key
//! for the members' admins to share out of band.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use concord_node::crypto::keyed_hash::{self, random_bytes};
use concord_node::crypto::keyfile;
use concord_proto::v1 as pb;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::client::{rpc_error, Clients};
use crate::cmd::records::jurisdictions;
use crate::duration::{now_unix_ms, parse_duration};
use crate::exit::CliError;
use crate::output::{key_values, or_dash, print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum TaskForceCommand {
    /// Register a task force on this node, with the level this node answers
    /// its members' questions at (admin).
    Create(CreateArgs),
    /// List the task forces registered on this node.
    List,
    /// Show one task force.
    Show {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Close a task force before its end date: this node answers it no more (admin).
    Close {
        #[arg(value_name = "NAME")]
        name: String,
        /// Why it is closed.
        #[arg(long, value_name = "TEXT", default_value = "")]
        reason: String,
    },
    /// Write a fresh random blind-match key (hex, mode 0600) for
    /// `create --blind-key-file`; every member's admin registers the same key.
    Keygen {
        /// The key file to create (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Task force name, e.g. ops-falcon.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// What the task force investigates.
    #[arg(long, value_name = "TEXT")]
    pub mandate: String,
    /// Member jurisdictions, comma-separated or repeated (this node's is added).
    #[arg(long, value_name = "J,...", value_delimiter = ',', required = true)]
    pub members: Vec<String>,
    /// End date: an RFC 3339 time, or a duration from now such as 90d.
    #[arg(long, value_name = "TIME|DURATION")]
    pub ends: String,
    /// What this node reveals in its answers: hit, summary or full.
    #[arg(long, value_name = "LEVEL")]
    pub level: String,
    /// The task force's shared key for --blind queries (from `taskforce keygen`).
    #[arg(long, value_name = "FILE")]
    pub blind_key_file: Option<PathBuf>,
}

/// A task force as shown. Times are RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskForceOut {
    pub name: String,
    pub mandate: String,
    pub members: Vec<String>,
    pub ends_at: Option<String>,
    pub level: String,
    /// open, closed or expired
    pub state: String,
    pub created_by: String,
    pub created_at: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
    /// Compare out of band with the other members' admins; null: no blind key.
    pub blind_key_id: Option<String>,
}

impl From<&pb::TaskForce> for TaskForceOut {
    fn from(t: &pb::TaskForce) -> Self {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        TaskForceOut {
            name: t.name.clone(),
            mandate: t.mandate.clone(),
            members: t.members.clone(),
            ends_at: rfc3339(t.ends_at_unix_ms),
            level: t.level.clone(),
            state: t.state.clone(),
            created_by: t.created_by.clone(),
            created_at: rfc3339(t.created_at_unix_ms),
            closed_by: opt(&t.closed_by),
            closed_at: rfc3339(t.closed_at_unix_ms),
            close_reason: opt(&t.close_reason),
            blind_key_id: opt(&t.blind_key_id),
        }
    }
}

#[derive(Debug, Serialize)]
struct TaskForceList {
    taskforces: Vec<TaskForceOut>,
}

#[derive(Debug, Serialize)]
struct KeygenOut {
    file: String,
    key_id: String,
}

pub async fn run(
    cmd: TaskForceCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        TaskForceCommand::Create(args) => {
            let request = create_request(&args, now_unix_ms())?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let tf = client
                .create_task_force(request)
                .await
                .map_err(|s| rpc_error("CreateTaskForce", &profile, &s))?
                .into_inner();
            let out = TaskForceOut::from(&tf);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&format!(
                    "Registered task force {}\n\n{}",
                    out.name,
                    render(&out)
                )),
            }
        }
        TaskForceCommand::List => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let list = client
                .list_task_forces(pb::ListTaskForcesRequest {})
                .await
                .map_err(|s| rpc_error("ListTaskForces", &profile, &s))?
                .into_inner();
            let taskforces: Vec<TaskForceOut> =
                list.taskforces.iter().map(TaskForceOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&TaskForceList { taskforces }),
                OutputFormat::Table => print_text(&table(&taskforces)),
            }
        }
        TaskForceCommand::Show { name } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let tf = client
                .get_task_force(pb::GetTaskForceRequest { name })
                .await
                .map_err(|s| rpc_error("GetTaskForce", &profile, &s))?
                .into_inner();
            let out = TaskForceOut::from(&tf);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&render(&out)),
            }
        }
        TaskForceCommand::Close { name, reason } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let tf = client
                .close_task_force(pb::CloseTaskForceRequest { name, reason })
                .await
                .map_err(|s| rpc_error("CloseTaskForce", &profile, &s))?
                .into_inner();
            let out = TaskForceOut::from(&tf);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&format!("Closed task force {}\n", out.name)),
            }
        }
        TaskForceCommand::Keygen { out } => {
            let key = random_bytes::<32>().map_err(CliError::internal)?;
            keyfile::write_private(&out, format!("{}\n", hex::encode(key)).as_bytes()).map_err(
                |e| match e {
                    keyfile::KeyFileError::Exists { .. } => CliError::already_exists(e),
                    other => CliError::config(other),
                },
            )?;
            let report = KeygenOut {
                file: out.display().to_string(),
                key_id: keyed_hash::key_id(&key),
            };
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&format!(
                    "Wrote blind-match key {} (key id {}).\nShare it with the other members' admins over a secure channel; compare key ids.\n",
                    report.file, report.key_id
                )),
            }
        }
    }
}

/// The CreateTaskForce request; checks members, end date, level and key file first.
pub fn create_request(args: &CreateArgs, now: i64) -> Result<pb::CreateTaskForceRequest, CliError> {
    let members = jurisdictions("--members", &args.members)?;
    if members.is_empty() {
        return Err(CliError::invalid_argument(
            "--members: name at least one jurisdiction",
        ));
    }
    let level = args.level.trim().to_ascii_lowercase();
    if !matches!(level.as_str(), "hit" | "summary" | "full") {
        return Err(CliError::invalid_argument(format!(
            "--level: {:?} is not hit, summary or full",
            args.level
        )));
    }
    let blind_key = match &args.blind_key_file {
        Some(path) => read_blind_key(path)?,
        None => Vec::new(),
    };
    Ok(pb::CreateTaskForceRequest {
        name: args.name.clone(),
        mandate: args.mandate.clone(),
        members,
        ends_at_unix_ms: ends_at(&args.ends, now)?,
        level,
        blind_key,
    })
}

/// `--ends`: an RFC 3339 time, or a duration from now.
pub fn ends_at(text: &str, now: i64) -> Result<i64, CliError> {
    if let Ok(d) = parse_duration(text) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        return Ok(now.saturating_add(ms));
    }
    let t = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        CliError::invalid_argument(format!(
            "--ends: {text:?} is neither an RFC 3339 time (2026-06-30T00:00:00Z) nor a duration (90d)"
        ))
    })?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| CliError::invalid_argument(format!("--ends: {text:?} is out of range")))?;
    if ms <= now {
        return Err(CliError::invalid_argument(format!(
            "--ends: {text} is in the past"
        )));
    }
    Ok(ms)
}

/// A blind key file: hex (as `keygen` writes it), mode 0600.
fn read_blind_key(path: &Path) -> Result<Vec<u8>, CliError> {
    let raw = keyfile::read_private(path).map_err(CliError::config)?;
    let text = String::from_utf8(raw).map_err(|_| {
        CliError::invalid_argument(format!("{}: not a hex key file", path.display()))
    })?;
    let key = hex::decode(text.trim()).map_err(|e| {
        CliError::invalid_argument(format!("{}: not a hex key: {e}", path.display()))
    })?;
    keyed_hash::check_key(&key)
        .map_err(|e| CliError::invalid_argument(format!("{}: {e}", path.display())))?;
    Ok(key)
}

fn table(list: &[TaskForceOut]) -> String {
    if list.is_empty() {
        return "No task forces registered on this node.\n".to_owned();
    }
    let mut t = Table::new(["NAME", "STATE", "LEVEL", "MEMBERS", "ENDS", "BLIND KEY"]);
    for tf in list {
        t.row([
            tf.name.clone(),
            tf.state.clone(),
            tf.level.clone(),
            tf.members.join(","),
            tf.ends_at.clone().unwrap_or_default(),
            or_dash(tf.blind_key_id.as_deref().unwrap_or("")),
        ]);
    }
    t.render()
}

fn render(tf: &TaskForceOut) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut pairs = vec![
        ("name", tf.name.clone()),
        ("mandate", tf.mandate.clone()),
        ("members", tf.members.join(", ")),
        ("level", tf.level.clone()),
        ("state", tf.state.clone()),
        ("ends", opt(&tf.ends_at)),
        (
            "created",
            format!("{} by {}", opt(&tf.created_at), tf.created_by),
        ),
        ("blind key id", opt(&tf.blind_key_id)),
    ];
    if let Some(by) = &tf.closed_by {
        pairs.push((
            "closed",
            format!(
                "{} by {by}: {}",
                opt(&tf.closed_at),
                tf.close_reason.clone().unwrap_or_default()
            ),
        ));
    }
    key_values("Task force", &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ends: &str, level: &str, members: &[&str]) -> CreateArgs {
        CreateArgs {
            name: "ops".into(),
            mandate: "m".into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            ends: ends.into(),
            level: level.into(),
            blind_key_file: None,
        }
    }

    #[test]
    fn builds_checked_requests() {
        let now = 1_700_000_000_000;
        let r = create_request(&args("90d", "Summary", &["FR", "JP"]), now).unwrap();
        assert_eq!(r.ends_at_unix_ms, now + 90 * 86_400_000);
        assert_eq!(r.level, "summary");
        assert_eq!(r.members, ["FR", "JP"]);
        let r = create_request(&args("2030-01-01T00:00:00Z", "hit", &["FR"]), now).unwrap();
        assert_eq!(r.ends_at_unix_ms, 1_893_456_000_000);
        for bad in [
            args("2020-01-01T00:00:00Z", "hit", &["FR"]),
            args("soon", "hit", &["FR"]),
            args("1d", "everything", &["FR"]),
            args("1d", "hit", &["France"]),
        ] {
            assert_eq!(
                create_request(&bad, now).unwrap_err().exit_code(),
                6,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn blind_key_files_are_hex_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.hex");
        keyfile::write_private(&path, format!("{}\n", hex::encode([7u8; 32])).as_bytes()).unwrap();
        assert_eq!(read_blind_key(&path).unwrap(), vec![7u8; 32]);
        let short = dir.path().join("short.hex");
        keyfile::write_private(&short, hex::encode([7u8; 8]).as_bytes()).unwrap();
        assert_eq!(read_blind_key(&short).unwrap_err().exit_code(), 6);
        let open = dir.path().join("open.hex");
        std::fs::write(&open, hex::encode([7u8; 32])).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_blind_key(&open).unwrap_err().exit_code(), 12);
    }
}
