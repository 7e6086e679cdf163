//! The store's high-water mark, kept outside sled's own files.
//!
//! Every batch the store applies bumps a generation number inside the same
//! transaction (`meta/generation`). After each group-commit flush the flusher
//! writes the generation that flush made durable into this small file. At
//! start the store must hold at least that generation: sled recovers a
//! damaged log by truncating it at the first bad record, so a flipped byte
//! otherwise brings a node up on an earlier state without a word, with
//! acknowledged writes gone and sequence numbers its peers already hold
//! about to be issued again.
//!
//! The file has two fixed 64-byte slots written in place in turn (even
//! generations in the first, odd in the second), each with its own checksum,
//! so a write torn by a crash leaves the other slot readable, and rewriting
//! in place never needs new disk space. Writes are not synced one by one
//! (that would halve single-writer commit throughput): the anchor is written
//! only after the flush it records, so whatever of it reaches the disk is
//! never ahead of the store, and a power cut can at worst leave it a few
//! flushes behind, which weakens the next start's check without ever
//! refusing a good store. A process kill loses nothing (the kernel holds the
//! page); the file is synced when the store closes. It is a guard against damage, not
//! against someone who can edit the data directory: such a person can edit
//! this file too (THREAT_MODEL.md).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::crypto::sha256;

/// The anchor's file name inside the data directory.
pub const ANCHOR_FILE: &str = "concord.anchor";

const MAGIC: &[u8; 16] = b"concord-anchor\x00\x01";
const SLOT: usize = 64;

/// What reading the anchor found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// No anchor yet: a new store, a restored one, or one from a build
    /// before anchors.
    Missing,
    /// The highest generation an earlier run made durable.
    At(u64),
    /// The file exists but neither slot verifies.
    Damaged,
}

pub(crate) struct Anchor {
    file: File,
    path: PathBuf,
}

impl Anchor {
    /// Reads the anchor in `dir` and opens it for writing (creating it,
    /// both slots allocated, if missing).
    pub(crate) fn open(dir: &Path) -> io::Result<(Anchor, Found)> {
        let path = dir.join(ANCHOR_FILE);
        let found = match File::open(&path) {
            Ok(mut f) => {
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes)?;
                read_slots(&bytes)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Found::Missing,
            Err(e) => return Err(e),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        if found == Found::Missing {
            file.set_len(2 * SLOT as u64)?;
            file.sync_all()?;
            if let Ok(d) = File::open(dir) {
                // The new name must survive a crash as well.
                d.sync_all()?;
            }
        }
        Ok((Anchor { file, path }, found))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Records that `generation` is durable: one small in-place write.
    pub(crate) fn write(&mut self, generation: u64) -> io::Result<()> {
        let slot = encode(generation);
        let offset = (generation % 2) * SLOT as u64;
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(&slot)
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        if let Err(error) = self.file.sync_data() {
            tracing::warn!(%error, path = %self.path.display(), "cannot sync the store's durability record");
        }
    }
}

fn encode(generation: u64) -> [u8; SLOT] {
    let mut slot = [0u8; SLOT];
    slot[..16].copy_from_slice(MAGIC);
    slot[16..24].copy_from_slice(&generation.to_be_bytes());
    let sum = sha256(&slot[..24]);
    slot[24..56].copy_from_slice(&sum);
    slot
}

fn decode(slot: &[u8]) -> Option<u64> {
    if slot.len() < 56 || &slot[..16] != MAGIC || sha256(&slot[..24])[..] != slot[24..56] {
        return None;
    }
    let mut g = [0u8; 8];
    g.copy_from_slice(&slot[16..24]);
    Some(u64::from_be_bytes(g))
}

fn read_slots(bytes: &[u8]) -> Found {
    let slots = bytes.chunks(SLOT).take(2);
    let all_zero = bytes.iter().all(|b| *b == 0);
    match slots.filter_map(decode).max() {
        Some(g) => Found::At(g),
        // Created, never written (a crash right after creation).
        None if all_zero => Found::Missing,
        None => Found::Damaged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_highest_generation_and_survives_a_torn_slot() {
        let dir = tempfile::tempdir().unwrap();
        let (mut a, found) = Anchor::open(dir.path()).unwrap();
        assert_eq!(found, Found::Missing);
        for g in 1..=5 {
            a.write(g).unwrap();
        }
        drop(a);
        let (_, found) = Anchor::open(dir.path()).unwrap();
        assert_eq!(found, Found::At(5));
        // Tear the slot of 5: 4 is still there.
        let path = dir.path().join(ANCHOR_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[SLOT + 20] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Anchor::open(dir.path()).unwrap().1, Found::At(4));
        // Both damaged: said so, never taken for a missing anchor.
        bytes[20] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Anchor::open(dir.path()).unwrap().1, Found::Damaged);
    }
}
