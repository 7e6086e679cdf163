//! A file a command writes whole or not at all (backups, audit exports): a
//! temporary file beside the destination (created 0600, since a backup
//! holds the whole store), synced, then renamed into place without ever
//! replacing a file already there. A command cut off midway leaves no
//! partial file under the name a script checks.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::exit::CliError;

pub struct OutputFile {
    out: PathBuf,
    file: BufWriter<NamedTempFile>,
}

/// The written, synced file, not yet under its name.
pub struct Written {
    out: PathBuf,
    temp: NamedTempFile,
}

impl OutputFile {
    pub fn create(out: &Path) -> Result<OutputFile, CliError> {
        let dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let temp = NamedTempFile::new_in(dir).map_err(|e| write_error(out, e))?;
        Ok(OutputFile {
            out: out.to_owned(),
            file: BufWriter::new(temp),
        })
    }

    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.file
    }

    /// The error of a failed write to this file.
    pub fn error(&self, e: std::io::Error) -> CliError {
        write_error(&self.out, e)
    }

    /// Flushes and syncs what was written.
    pub fn finish(self) -> Result<Written, CliError> {
        let out = self.out;
        let temp = self
            .file
            .into_inner()
            .map_err(|e| write_error(&out, e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| write_error(&out, e))?;
        Ok(Written { out, temp })
    }
}

impl Written {
    /// Where the bytes are now, to check them before they take their name.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Renames the file into place; an existing file is never replaced.
    pub fn persist(self) -> Result<(), CliError> {
        let out = self.out;
        self.temp.persist_noclobber(&out).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                CliError::already_exists(format!("{} already exists", out.display()))
            } else {
                write_error(&out, e.error)
            }
        })?;
        Ok(())
    }
}

fn write_error(out: &Path, e: std::io::Error) -> CliError {
    CliError::internal(format!("writing {}: {e}", out.display()))
}
