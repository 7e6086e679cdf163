//! `concord audit verify-export`: an export file checked offline by
//! `concord_node::audit::export::verify_export`; needs no node and no
//! certificate.

use std::io::BufReader;
use std::path::Path;

use concord_node::audit::export::{decode_key, verify_export as verify, ExportReport, Problem};

use crate::exit::{CliError, ErrorKind};
use crate::output::{key_values, print_json, print_text, OutputFormat};

pub fn verify_export(
    file: &Path,
    public_key: Option<&str>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let key = public_key
        .map(|h| {
            decode_key(h).map_err(|e| CliError::invalid_argument(format!("--public-key: {e}")))
        })
        .transpose()?;
    let report = verify_export_file(file, key.as_deref())?;
    match output {
        OutputFormat::Json => print_json(&report),
        OutputFormat::Table => print_text(&render(&report, file)),
    }
}

/// Verifies an export file; the error names the file, line and entry.
pub fn verify_export_file(path: &Path, key: Option<&[u8]>) -> Result<ExportReport, CliError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", path.display())))?;
    verify(BufReader::new(file), key).map_err(|p| problem_error(p, path))
}

/// The report as a key/value block.
fn render(report: &ExportReport, file: &Path) -> String {
    let key = match report.key_source.as_str() {
        "given" => format!("{} (given with --public-key)", report.key_id),
        _ => format!(
            "{} (taken from the file itself: compare it with the node's trust bundle)",
            report.key_id
        ),
    };
    let entries = match (report.first_seq, report.last_seq) {
        (Some(a), Some(b)) => format!("{} ({a}..{b})", report.entries),
        _ => "0".to_owned(),
    };
    let signed = match (report.signed_through, report.last_seq) {
        (Some(s), Some(last)) if s < last => {
            format!(
                "{s} (entries {}..{last} are chained but not yet signed)",
                s + 1
            )
        }
        (Some(s), _) => s.to_string(),
        (None, _) => "none (no checkpoint covers these entries)".to_owned(),
    };
    key_values(
        &format!("Export verified: {}", file.display()),
        &[
            ("jurisdiction", report.jurisdiction.clone()),
            ("public key id", key),
            ("entries", entries),
            (
                "head",
                report.head_hash.clone().unwrap_or_else(|| "-".into()),
            ),
            (
                "checkpoints",
                format!(
                    "{} verified, {} before report export",
                    report.checkpoints_verified, report.checkpoints_outside
                ),
            ),
            ("signed through entry", signed),
        ],
    )
}

/// A problem as a one-line error naming the file, line and entry: malformed
/// input is an invalid argument, a failed check a failed precondition.
fn problem_error(problem: Problem, path: &Path) -> CliError {
    let at = match problem.seq {
        Some(seq) => format!("line {} (entry {seq})", problem.line),
        None if problem.line > 0 => format!("line {}", problem.line),
        None => "end of file".to_owned(),
    };
    let kind = if problem.malformed {
        ErrorKind::InvalidArgument
    } else {
        ErrorKind::FailedPrecondition
    };
    CliError::new(kind, format!("{} {at}: {}", path.display(), problem.reason))
}
