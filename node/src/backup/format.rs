//! The backup file format, version 2 (documented in docs/AUDIT.md):
//!
//! ```text
//! magic        "concord-backup\0" (15 bytes), then the format version byte 1
//! schema       u32 BE   store schema version of the node that wrote it
//! created_at   i64 BE   unix milliseconds
//! jurisdiction u16 BE length + UTF-8
//! entries      per entry: 0x01, tree (u16 BE length + UTF-8),
//!              key (u32 BE length + bytes), value (u32 BE length + bytes)
//! end          0x00, then the number of entries (u64 BE)
//! checksum     SHA-256 over every byte above (32 bytes)
//! seal         key id (u16 BE length + UTF-8), then the 64-byte Ed25519
//!              signature by the node's record-signing key over
//!              "concord.v1.backup\0" || checksum; nothing follows
//! ```
//!
//! Version 1 had no seal: a checksum proves only that nothing changed by
//! accident, while anyone editing a file can recompute it, so version 1 is
//! refused (take a new backup).
//!
//! Values are the store's encoded values, byte for byte. Reading never
//! trusts a length before the checksum has been verified beyond fixed caps,
//! so a corrupt file cannot make the reader allocate without bound.

use std::io::{self, Read, Write};

use crate::crypto::Sha256;
use crate::store::RawEntry;

pub const MAGIC: &[u8; 15] = b"concord-backup\0";
pub const FORMAT_VERSION: u8 = 2;

/// Domain separation for the seal's signature.
pub const SEAL_TAG: &[u8] = b"concord.v1.backup\0";

/// Who signed a backup, and the signature, as read from its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seal {
    pub key_id: String,
    pub signature: Vec<u8>,
}

/// The bytes a seal signs.
pub fn sealed_message(checksum: &[u8; 32]) -> Vec<u8> {
    let mut m = SEAL_TAG.to_vec();
    m.extend_from_slice(checksum);
    m
}

const TAG_ENTRY: u8 = 1;
const TAG_END: u8 = 0;
const MAX_TREE_NAME: usize = 1024;
const MAX_KEY: usize = 1 << 20;
const MAX_VALUE: usize = 256 << 20;

/// What the file says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub schema_version: u32,
    pub created_at_unix_ms: i64,
    pub jurisdiction: String,
}

/// Why a backup file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a Concord backup (bad magic)")]
    NotABackup,
    #[error("backup format {0} is not supported (this build reads format {FORMAT_VERSION})")]
    UnknownFormat(u8),
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("checksum mismatch: the file is corrupt or was altered")]
    Checksum,
}

const SIGNATURE_LEN: usize = 64;

/// Writes a backup file; hashes everything it writes.
pub struct Writer<W: Write> {
    out: W,
    hash: Sha256,
    entries: u64,
    written: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W, header: &Header) -> io::Result<Self> {
        let mut w = Writer {
            out,
            hash: Sha256::new(),
            entries: 0,
            written: 0,
        };
        w.put(MAGIC)?;
        w.put(&[FORMAT_VERSION])?;
        w.put(&header.schema_version.to_be_bytes())?;
        w.put(&header.created_at_unix_ms.to_be_bytes())?;
        w.put_len16(header.jurisdiction.as_bytes())?;
        Ok(w)
    }

    pub fn entry(&mut self, tree: &str, key: &[u8], value: &[u8]) -> io::Result<()> {
        if tree.len() > MAX_TREE_NAME || key.len() > MAX_KEY || value.len() > MAX_VALUE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("entry of tree {tree} exceeds the backup format's size limits"),
            ));
        }
        self.put(&[TAG_ENTRY])?;
        self.put_len16(tree.as_bytes())?;
        self.put_len32(key)?;
        self.put_len32(value)?;
        self.entries += 1;
        Ok(())
    }

    /// Writes the end marker, checksum and the seal `sign` makes over the
    /// checksum; returns the output, the file size and the checksum.
    pub fn finish(mut self, sign: impl FnOnce(&[u8]) -> Seal) -> io::Result<(W, u64, [u8; 32])> {
        self.put(&[TAG_END])?;
        let count = self.entries.to_be_bytes();
        self.put(&count)?;
        let checksum = self.hash.clone().finish();
        self.out.write_all(&checksum)?;
        let seal = sign(&sealed_message(&checksum));
        let id = seal.key_id.as_bytes();
        let len = u16::try_from(id.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "key id too long"))?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(id)?;
        self.out.write_all(&seal.signature)?;
        self.out.flush()?;
        let sealed = 2 + id.len() as u64 + seal.signature.len() as u64;
        Ok((self.out, self.written + 32 + sealed, checksum))
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn put_len16(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = u16::try_from(bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "field too long"))?;
        self.put(&len.to_be_bytes())?;
        self.put(bytes)
    }

    fn put_len32(&mut self, bytes: &[u8]) -> io::Result<()> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "field too long"))?;
        self.put(&len.to_be_bytes())?;
        self.put(bytes)
    }
}

/// Reads a backup file entry by entry, hashing as it goes. The checksum is
/// checked when the end marker is reached: entries handed out before then are
/// not yet known to be intact.
pub struct Reader<R: Read> {
    input: R,
    hash: Sha256,
    header: Header,
    entries: u64,
    done: bool,
    checksum: Option<[u8; 32]>,
    seal: Option<Seal>,
}

impl<R: Read> Reader<R> {
    pub fn new(input: R) -> Result<Self, FormatError> {
        let mut r = Reader {
            input,
            hash: Sha256::new(),
            header: Header {
                schema_version: 0,
                created_at_unix_ms: 0,
                jurisdiction: String::new(),
            },
            entries: 0,
            done: false,
            checksum: None,
            seal: None,
        };
        let mut magic = [0u8; 15];
        r.take(&mut magic).map_err(|e| match e {
            FormatError::Malformed(_) => FormatError::NotABackup,
            other => other,
        })?;
        if &magic != MAGIC {
            return Err(FormatError::NotABackup);
        }
        let [format] = r.array::<1>()?;
        if format != FORMAT_VERSION {
            return Err(FormatError::UnknownFormat(format));
        }
        r.header.schema_version = u32::from_be_bytes(r.array()?);
        r.header.created_at_unix_ms = i64::from_be_bytes(r.array()?);
        let jurisdiction = r.field16(64, "jurisdiction")?;
        r.header.jurisdiction = String::from_utf8(jurisdiction)
            .map_err(|_| FormatError::Malformed("jurisdiction is not UTF-8".into()))?;
        Ok(r)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next entry; `Ok(None)` once the end marker, count and checksum
    /// have been read and verified.
    pub fn next_entry(&mut self) -> Result<Option<RawEntry>, FormatError> {
        if self.done {
            return Ok(None);
        }
        let [tag] = self.array::<1>()?;
        match tag {
            TAG_ENTRY => {
                let tree = self.field16(MAX_TREE_NAME, "tree name")?;
                let tree = String::from_utf8(tree).map_err(|_| {
                    FormatError::Malformed(format!(
                        "entry {}: tree name is not UTF-8",
                        self.entries + 1
                    ))
                })?;
                let key = self.field32(MAX_KEY, "key")?;
                let value = self.field32(MAX_VALUE, "value")?;
                self.entries += 1;
                Ok(Some(RawEntry { tree, key, value }))
            }
            TAG_END => {
                let count = u64::from_be_bytes(self.array()?);
                let computed = self.hash.clone().finish();
                let mut stored = [0u8; 32];
                self.input
                    .read_exact(&mut stored)
                    .map_err(|e| truncated(e, "checksum"))?;
                if stored != computed {
                    return Err(FormatError::Checksum);
                }
                if count != self.entries {
                    return Err(FormatError::Malformed(format!(
                        "end marker counts {count} entries, the file holds {}",
                        self.entries
                    )));
                }
                let mut len = [0u8; 2];
                self.input
                    .read_exact(&mut len)
                    .map_err(|e| truncated(e, "seal"))?;
                let len = usize::from(u16::from_be_bytes(len));
                if len > 64 {
                    return Err(FormatError::Malformed(format!(
                        "seal key id of {len} bytes"
                    )));
                }
                let mut key_id = vec![0u8; len];
                let mut signature = vec![0u8; SIGNATURE_LEN];
                self.input
                    .read_exact(&mut key_id)
                    .and_then(|()| self.input.read_exact(&mut signature))
                    .map_err(|e| truncated(e, "seal"))?;
                let key_id = String::from_utf8(key_id)
                    .map_err(|_| FormatError::Malformed("seal key id is not UTF-8".into()))?;
                let mut extra = [0u8; 1];
                if self.input.read(&mut extra)? != 0 {
                    return Err(FormatError::Malformed("bytes after the seal".into()));
                }
                self.checksum = Some(stored);
                self.seal = Some(Seal { key_id, signature });
                self.done = true;
                Ok(None)
            }
            other => Err(FormatError::Malformed(format!(
                "unknown record tag {other} after entry {}",
                self.entries
            ))),
        }
    }

    /// Entries read so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The verified checksum and the seal, once the end has been read.
    pub fn sealed(&self) -> Option<([u8; 32], &Seal)> {
        Some((self.checksum?, self.seal.as_ref()?))
    }

    fn take(&mut self, buf: &mut [u8]) -> Result<(), FormatError> {
        self.input
            .read_exact(buf)
            .map_err(|e| truncated(e, "data"))?;
        self.hash.update(buf);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut buf = [0u8; N];
        self.take(&mut buf)?;
        Ok(buf)
    }

    fn field16(&mut self, max: usize, what: &str) -> Result<Vec<u8>, FormatError> {
        let len = usize::from(u16::from_be_bytes(self.array()?));
        self.field(len, max, what)
    }

    fn field32(&mut self, max: usize, what: &str) -> Result<Vec<u8>, FormatError> {
        let len = u32::from_be_bytes(self.array()?) as usize;
        self.field(len, max, what)
    }

    fn field(&mut self, len: usize, max: usize, what: &str) -> Result<Vec<u8>, FormatError> {
        if len > max {
            return Err(FormatError::Malformed(format!(
                "entry {}: {what} of {len} bytes exceeds the limit of {max}",
                self.entries + 1
            )));
        }
        let mut buf = vec![0u8; len];
        self.take(&mut buf)?;
        Ok(buf)
    }
}

fn truncated(e: io::Error, what: &str) -> FormatError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        FormatError::Malformed(format!("truncated: the file ends inside the {what}"))
    } else {
        FormatError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            schema_version: 1,
            created_at_unix_ms: 1_700_000_000_000,
            jurisdiction: "DE".into(),
        }
    }

    fn sample() -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), &header()).unwrap();
        w.entry("audit", &1u64.to_be_bytes(), &[1, 2, 3]).unwrap();
        w.entry("peers", b"FR", &[1]).unwrap();
        let (bytes, size, checksum) = w.finish(dummy_seal).unwrap();
        let seal = 2 + 1 + 64;
        assert_eq!(
            &bytes[bytes.len() - seal - 32..bytes.len() - seal],
            checksum
        );
        assert_eq!(size as usize, bytes.len());
        bytes
    }

    fn dummy_seal(message: &[u8]) -> Seal {
        assert!(message.starts_with(SEAL_TAG));
        Seal {
            key_id: "k".into(),
            signature: vec![7; 64],
        }
    }

    fn read_all(bytes: &[u8]) -> Result<(Header, Vec<RawEntry>), FormatError> {
        let mut r = Reader::new(bytes)?;
        let mut out = Vec::new();
        while let Some(e) = r.next_entry()? {
            out.push(e);
        }
        Ok((r.header().clone(), out))
    }

    #[test]
    fn round_trips() {
        let (h, entries) = read_all(&sample()).unwrap();
        assert_eq!(h, header());
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].tree, "peers");
        assert_eq!(entries[1].key, b"FR");
    }

    #[test]
    fn every_single_byte_flip_is_detected() {
        let good = sample();
        // The seal (key id and signature) is checked against a key by `restore`.
        for i in 0..good.len() - (2 + 1 + 64) {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            assert!(read_all(&bad).is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn truncation_and_garbage_are_refused() {
        let good = sample();
        for cut in [0, 10, 16, good.len() / 2, good.len() - 1] {
            assert!(read_all(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(matches!(
            read_all(&longer),
            Err(FormatError::Malformed(m)) if m.contains("after the seal")
        ));
        assert!(matches!(
            read_all(b"PK\x03\x04 something else entirely"),
            Err(FormatError::NotABackup)
        ));
        let mut future = good;
        future[15] = 9;
        assert!(matches!(
            read_all(&future),
            Err(FormatError::UnknownFormat(9))
        ));
    }

    #[test]
    fn absurd_lengths_are_refused_before_allocating() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.push(FORMAT_VERSION);
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(&0i64.to_be_bytes());
        bytes.extend_from_slice(&2u16.to_be_bytes());
        bytes.extend_from_slice(b"DE");
        bytes.push(TAG_ENTRY);
        bytes.extend_from_slice(&1u16.to_be_bytes());
        bytes.push(b't');
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        let err = read_all(&bytes).unwrap_err();
        assert!(err.to_string().contains("exceeds the limit"), "{err}");
    }
}
