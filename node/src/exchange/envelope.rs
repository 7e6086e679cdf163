//! Signed envelopes: how a record travels between jurisdictions, and the
//! signed receipts that acknowledge it.
//!
//! The issuer signs a header that carries the SHA-256 of the body, so one
//! signature covers both; receivers verify the exact bytes they got and only
//! then decode them. Signatures are domain-separated so an envelope signature
//! can never be passed off as a receipt signature or vice versa.

use serde::{Deserialize, Serialize};

use super::consultation::Consultation;
use super::records::{DenialNotice, FirstAlert, RiskAlert};
use crate::crypto::{key_id, sha256, verify_signature, KeyRing, KeyRingError, RecordSigner};
use crate::identity::Jurisdiction;

const ENVELOPE_TAG: &[u8] = b"concord.v1.envelope\0";
const RECEIPT_TAG: &[u8] = b"concord.v1.receipt\0";
/// Version of the header layout.
pub const ENVELOPE_FORMAT: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecordKind {
    Alert,
    Denial,
    /// Added after the first two; postcard encodes the variant index, so it stays last.
    Consultation,
}

impl RecordKind {
    /// The letter in a record id: `<ISSUER>-<letter>-<n>`.
    pub fn id_letter(self) -> char {
        match self {
            RecordKind::Alert => 'A',
            RecordKind::Denial => 'D',
            RecordKind::Consultation => 'C',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Alert => "alert",
            RecordKind::Denial => "denial",
            RecordKind::Consultation => "consultation",
        }
    }
}

/// What the issuer signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeHeader {
    pub format: u8,
    pub kind: RecordKind,
    pub issuer: Jurisdiction,
    pub key_id: String,
    /// Per-issuer sequence number over every record it issues, from 1.
    pub seq: u64,
    pub record_id: String,
    pub version: u32,
    pub issued_at_unix_ms: i64,
    /// The resolved distribution: exactly who may hold this record. Sorted, unique.
    pub recipients: Vec<Jurisdiction>,
    pub body_sha256: [u8; 32],
    /// Digest of the envelope of the previous version (denial amendments and revocations).
    pub previous: Option<[u8; 32]>,
    /// Copied from alerts so delivery can stop at expiry without decoding bodies.
    pub expires_at_unix_ms: Option<i64>,
}

/// A record as it travels and as it is stored, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEnvelope {
    pub header: Vec<u8>,
    pub body: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The decoded record inside an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Alert(RiskAlert),
    Denial(DenialNotice),
    Consultation(Consultation),
}

/// An envelope whose signature and body have been verified.
#[derive(Clone, Debug)]
pub struct Opened {
    pub header: EnvelopeHeader,
    pub record: Record,
    pub digest: [u8; 32],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("malformed envelope: {0}")]
    Malformed(String),
    #[error("envelope signed with key {found}, but the issuer's registered key is {expected}")]
    UnknownKey { found: String, expected: String },
    #[error(transparent)]
    Key(#[from] KeyRingError),
    #[error("signature does not verify")]
    BadSignature,
    #[error("body does not match the signed header (tampered)")]
    BodyMismatch,
    #[error("body and header disagree: {0}")]
    Inconsistent(String),
    #[error("cannot encode the {what} to sign: {reason}")]
    Encode { what: &'static str, reason: String },
}

impl SignedEnvelope {
    /// Signs `record` as `header` describes it; fills in the body hash and
    /// key id. Fails, signing nothing, if the record or header cannot be encoded.
    pub fn seal(
        signer: &RecordSigner,
        mut header: EnvelopeHeader,
        record: &Record,
    ) -> Result<SignedEnvelope, EnvelopeError> {
        let body = encode_record(record)?;
        header.format = ENVELOPE_FORMAT;
        header.key_id = signer.key_id().to_owned();
        header.body_sha256 = sha256(&body);
        header.recipients.sort();
        header.recipients.dedup();
        let header = encode("envelope header", &header)?;
        let signature = signer.sign(&tagged(ENVELOPE_TAG, &header));
        Ok(SignedEnvelope {
            header,
            body,
            signature,
        })
    }

    /// Identity of these exact bytes: equal digests mean the same signed record.
    pub fn digest(&self) -> [u8; 32] {
        let mut all = Vec::with_capacity(self.header.len() + self.signature.len());
        all.extend_from_slice(&self.header);
        all.extend_from_slice(&self.signature);
        sha256(&all)
    }

    /// Decodes the header without verifying anything, e.g. to find the issuer's key.
    pub fn peek_header(&self) -> Result<EnvelopeHeader, EnvelopeError> {
        let header: EnvelopeHeader = decode(&self.header)?;
        if header.format != ENVELOPE_FORMAT {
            return Err(EnvelopeError::Malformed(format!(
                "unknown envelope format {}",
                header.format
            )));
        }
        Ok(header)
    }

    /// Verifies the envelope with whichever of the issuer's keys it names,
    /// if that key was in service when the envelope says it was signed.
    pub fn open_with(&self, issuer_keys: &KeyRing<'_>) -> Result<Opened, EnvelopeError> {
        let header = self.peek_header()?;
        let key = issuer_keys.key_for(&header.key_id, header.issued_at_unix_ms)?;
        self.open(key)
    }

    /// Opens an envelope this node verified when it stored it, whose digest
    /// it recorded then as `verified`: if these are still exactly those
    /// bytes, the Ed25519 check is not run again, but the body must still be
    /// the one the header signs, header and record must agree, and the key
    /// the header names must still be one of the issuer's keys for the time
    /// it signed. Bytes that changed since are verified in full.
    pub fn open_verified(
        &self,
        issuer_keys: &KeyRing<'_>,
        verified: &[u8; 32],
    ) -> Result<Opened, EnvelopeError> {
        let digest = self.digest();
        if &digest != verified {
            return self.open_with(issuer_keys);
        }
        let header = self.peek_header()?;
        issuer_keys.key_for(&header.key_id, header.issued_at_unix_ms)?;
        self.open_body(header, digest)
    }

    /// Verifies the envelope against the issuer's public key and decodes it.
    pub fn open(&self, issuer_public_key: &[u8]) -> Result<Opened, EnvelopeError> {
        let header = self.peek_header()?;
        let expected = key_id(issuer_public_key);
        if header.key_id != expected {
            return Err(EnvelopeError::UnknownKey {
                found: header.key_id,
                expected,
            });
        }
        if !verify_signature(
            issuer_public_key,
            &tagged(ENVELOPE_TAG, &self.header),
            &self.signature,
        ) {
            return Err(EnvelopeError::BadSignature);
        }
        self.open_body(header, self.digest())
    }

    /// The body under a header whose signature is known good.
    fn open_body(&self, header: EnvelopeHeader, digest: [u8; 32]) -> Result<Opened, EnvelopeError> {
        let record = Record::decode_signed(&header, &self.body)?;
        check_consistent(&header, &record)?;
        Ok(Opened {
            header,
            record,
            digest,
        })
    }
}

crate::kebab::kebab_enum!(
    /// Where a record stands: what a listing or a task-force answer says of it.
    Standing {
        InForce = "in-force",
        Expired = "expired",
        Revoked = "revoked",
        Withdrawn = "withdrawn",
    }
);

impl Record {
    /// Decodes a record body of `kind`, checking nothing else: the one place
    /// bodies become records. For bodies whose envelope is not verified
    /// (shown as such), or that [`Record::decode_signed`] checked.
    pub fn decode(kind: RecordKind, body: &[u8]) -> Result<Record, EnvelopeError> {
        Ok(match kind {
            // A first version in its original form, else a later version;
            // each encoding decodes only as its own (exact length), so the
            // two never overlap.
            RecordKind::Alert => Record::Alert(match decode::<FirstAlert>(body) {
                Ok(first) => first.into(),
                Err(_) => decode(body)?,
            }),
            RecordKind::Denial => Record::Denial(decode(body)?),
            RecordKind::Consultation => Record::Consultation(decode(body)?),
        })
    }

    /// Whether the record is in force at `now`: an alert neither withdrawn
    /// nor expired, a denial neither revoked nor past its end; consultations
    /// always.
    pub fn is_in_force(&self, now_unix_ms: i64) -> bool {
        self.standing(now_unix_ms) == Standing::InForce
    }

    /// Where the record stands at `now`, as every listing and answer shows it.
    pub fn standing(&self, now_unix_ms: i64) -> Standing {
        use super::records::{AlertState, DenialState};
        match self {
            Record::Alert(a) if a.state == AlertState::Withdrawn => Standing::Withdrawn,
            Record::Alert(a) if a.is_expired(now_unix_ms) => Standing::Expired,
            Record::Denial(d) if d.state == DenialState::Revoked => Standing::Revoked,
            Record::Denial(d) if d.valid_until_unix_ms.is_some_and(|t| t <= now_unix_ms) => {
                Standing::Expired
            }
            _ => Standing::InForce,
        }
    }

    /// The record's own version number (1 for consultations).
    pub fn version(&self) -> u32 {
        match self {
            Record::Alert(a) => a.version,
            Record::Denial(d) => d.version,
            Record::Consultation(_) => 1,
        }
    }

    /// Decodes `body` if it is the body `header` signs.
    pub fn decode_signed(header: &EnvelopeHeader, body: &[u8]) -> Result<Record, EnvelopeError> {
        if sha256(body) != header.body_sha256 {
            return Err(EnvelopeError::BodyMismatch);
        }
        Record::decode(header.kind, body)
    }
}

fn check_consistent(h: &EnvelopeHeader, record: &Record) -> Result<(), EnvelopeError> {
    let bad = |what: &str| Err(EnvelopeError::Inconsistent(what.to_owned()));
    let (id, issuer, version) = match record {
        Record::Alert(a) => {
            if h.expires_at_unix_ms != a.expires_at_unix_ms {
                return bad("expiry");
            }
            (&a.id, &a.issuer, a.version)
        }
        Record::Denial(d) => (&d.id, &d.issuer, d.version),
        Record::Consultation(c) => {
            if h.expires_at_unix_ms.is_some() || h.previous.is_some() {
                return bad("consultations neither expire nor have versions");
            }
            (&c.id, &c.issuer, 1)
        }
    };
    if id != &h.record_id {
        return bad("record id");
    }
    if !is_bound_id(h.kind, &h.issuer, id) {
        return Err(EnvelopeError::Inconsistent(format!(
            "record id {id:?} is not an id of issuer {} (expected {}-{}-<n>)",
            h.issuer,
            h.issuer,
            h.kind.id_letter()
        )));
    }
    if h.seq == 0 {
        return bad("sequence numbers start at 1");
    }
    if issuer != &h.issuer {
        return bad("issuer");
    }
    if version != h.version {
        return bad("version");
    }
    if (version > 1) != h.previous.is_some() {
        return bad("a later version chains to its previous one, and only it");
    }
    if h.recipients.windows(2).any(|w| w[0] >= w[1]) {
        return bad("recipients not sorted and unique");
    }
    if h.recipients.contains(&h.issuer) {
        return bad("issuer listed as its own recipient");
    }
    Ok(())
}

/// Whether `id` is one `issuer` could have minted for `kind`:
/// `<ISSUER>-<letter>-<n>`, `n` a decimal number from 1 without leading
/// zeros. Every id names its issuer, so a peer can neither shadow another
/// issuer's record nor reserve its future ids, and an id alone keys a record.
pub fn is_bound_id(kind: RecordKind, issuer: &Jurisdiction, id: &str) -> bool {
    let Some(rest) = id
        .strip_prefix(issuer.as_str())
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_prefix(kind.id_letter()))
        .and_then(|r| r.strip_prefix('-'))
    else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 20
        && !rest.starts_with('0')
        && rest.bytes().all(|b| b.is_ascii_digit())
        && rest.parse::<u64>().is_ok()
}

/// The number of a bound id (`DE-A-12` → 12).
pub fn id_number(id: &str) -> Option<u64> {
    id.rsplit('-').next()?.parse().ok()
}

/// The issuer an id names, if it is a well-formed id of `kind`.
pub fn issuer_of_id(kind: RecordKind, id: &str) -> Option<Jurisdiction> {
    let issuer: Jurisdiction = id.split('-').next()?.parse().ok()?;
    is_bound_id(kind, &issuer, id).then_some(issuer)
}

/// What a receiver signs to acknowledge an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptBody {
    pub receiver: Jurisdiction,
    pub issuer: Jurisdiction,
    pub seq: u64,
    pub record_id: String,
    pub version: u32,
    pub envelope_digest: [u8; 32],
    pub received_at_unix_ms: i64,
    /// True when the receiver already held these exact bytes.
    pub duplicate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    pub body: Vec<u8>,
    pub signature: Vec<u8>,
}

impl SignedReceipt {
    /// Signs `body`; fails, signing nothing, if it cannot be encoded.
    pub fn sign(signer: &RecordSigner, body: &ReceiptBody) -> Result<SignedReceipt, EnvelopeError> {
        let body = encode("receipt", body)?;
        let signature = signer.sign(&tagged(RECEIPT_TAG, &body));
        Ok(SignedReceipt { body, signature })
    }

    pub fn verify(&self, receiver_public_key: &[u8]) -> Result<ReceiptBody, EnvelopeError> {
        if !verify_signature(
            receiver_public_key,
            &tagged(RECEIPT_TAG, &self.body),
            &self.signature,
        ) {
            return Err(EnvelopeError::BadSignature);
        }
        decode(&self.body)
    }

    /// Verifies with any of the receiver's keys in service when the receipt
    /// says it was signed (receipts do not name their key).
    pub fn verify_with(&self, receiver_keys: &KeyRing<'_>) -> Result<ReceiptBody, EnvelopeError> {
        let claimed: ReceiptBody = decode(&self.body)?;
        let mut last = EnvelopeError::BadSignature;
        for key in receiver_keys.candidates(claimed.received_at_unix_ms) {
            match self.verify(key) {
                Ok(body) => return Ok(body),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

fn tagged(tag: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(tag.len() + bytes.len());
    v.extend_from_slice(tag);
    v.extend_from_slice(bytes);
    v
}

/// The bytes of `value` to sign. An encoding failure is an error: signing
/// empty bytes in its place would hand out a valid signature over nothing.
fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, EnvelopeError> {
    postcard::to_stdvec(value).map_err(|e| EnvelopeError::Encode {
        what,
        reason: e.to_string(),
    })
}

fn encode_record(record: &Record) -> Result<Vec<u8>, EnvelopeError> {
    match record {
        Record::Alert(a) => match a.as_first() {
            Some(first) => encode("alert", &first),
            None => encode("alert", a),
        },
        Record::Denial(d) => encode("denial", d),
        Record::Consultation(c) => encode("consultation", c),
    }
}

/// Decodes exactly `bytes`: trailing bytes would let anyone make
/// byte-different copies of a signed record that decode the same.
fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, EnvelopeError> {
    let (value, rest) =
        postcard::take_from_bytes(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(EnvelopeError::Malformed(format!(
            "{} trailing bytes after the encoded value",
            rest.len()
        )));
    }
    Ok(value)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exchange::records::{AlertCategory, AlertState, Severity, Subjects};

    pub fn signer() -> RecordSigner {
        RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap()
    }

    pub fn alert(issuer: &str, id: &str) -> RiskAlert {
        RiskAlert {
            id: id.into(),
            issuer: issuer.parse().unwrap(),
            category: AlertCategory::DiversionSuspected,
            severity: Severity::High,
            subjects: Subjects::default(),
            indicators: vec!["transshipment via third country".into()],
            summary: "Consignee resells to sanctioned end user".into(),
            issued_at_unix_ms: 1_000,
            expires_at_unix_ms: None,
            handling: "RESTRICTED".into(),
            version: 1,
            state: AlertState::Active,
            change_reason: String::new(),
        }
    }

    pub fn header(issuer: &str, id: &str, seq: u64, recipients: &[&str]) -> EnvelopeHeader {
        EnvelopeHeader {
            format: ENVELOPE_FORMAT,
            kind: RecordKind::Alert,
            issuer: issuer.parse().unwrap(),
            key_id: String::new(),
            seq,
            record_id: id.into(),
            version: 1,
            issued_at_unix_ms: 1_000,
            recipients: recipients.iter().map(|r| r.parse().unwrap()).collect(),
            body_sha256: [0; 32],
            previous: None,
            expires_at_unix_ms: None,
        }
    }

    /// Signs a header as given (key id and body hash filled in), with
    /// `extra` bytes appended to the encoded header and body: what a hostile
    /// issuer holding its own key can produce.
    pub fn seal_raw(
        s: &RecordSigner,
        mut h: EnvelopeHeader,
        record: &Record,
        extra_header: &[u8],
        extra_body: &[u8],
    ) -> SignedEnvelope {
        let mut body = encode_record(record).unwrap();
        body.extend_from_slice(extra_body);
        h.key_id = s.key_id().to_owned();
        h.body_sha256 = sha256(&body);
        let mut header = encode("envelope header", &h).unwrap();
        header.extend_from_slice(extra_header);
        let signature = s.sign(&tagged(ENVELOPE_TAG, &header));
        SignedEnvelope {
            header,
            body,
            signature,
        }
    }

    #[test]
    fn ids_are_bound_to_their_issuer_and_kind() {
        let de: Jurisdiction = "DE".parse().unwrap();
        assert!(is_bound_id(RecordKind::Alert, &de, "DE-A-1"));
        assert!(is_bound_id(RecordKind::Alert, &de, "DE-A-1796223760722001"));
        for bad in [
            "FR-A-1",
            "DE-D-1",
            "DE-A-0",
            "DE-A-01",
            "DE-A-",
            "DE-A-1x",
            "DE-A-1-2",
            "DEX-A-1",
            "DE-A-99999999999999999999",
        ] {
            assert!(!is_bound_id(RecordKind::Alert, &de, bad), "{bad}");
        }
        assert_eq!(
            issuer_of_id(RecordKind::Denial, "FR-D-7"),
            Some("FR".parse().unwrap())
        );
        assert_eq!(issuer_of_id(RecordKind::Denial, "FR-A-7"), None);
        // Signed by DE's own key under FR's id: refused on opening.
        let s = signer();
        let forged = SignedEnvelope::seal(
            &s,
            header("DE", "FR-A-3", 3, &["JP"]),
            &Record::Alert(alert("DE", "FR-A-3")),
        )
        .unwrap();
        assert!(matches!(
            forged.open(s.public_key()),
            Err(EnvelopeError::Inconsistent(_))
        ));
    }

    #[test]
    fn trailing_bytes_and_sequence_zero_are_refused() {
        let s = signer();
        let record = Record::Alert(alert("DE", "DE-A-1"));
        let h = header("DE", "DE-A-1", 1, &["JP"]);
        assert!(seal_raw(&s, h.clone(), &record, b"", b"")
            .open(s.public_key())
            .is_ok());
        for (eh, eb) in [(&b"\0"[..], &b""[..]), (b"", b"\x01\x02")] {
            let env = seal_raw(&s, h.clone(), &record, eh, eb);
            assert!(matches!(
                env.open(s.public_key()),
                Err(EnvelopeError::Malformed(_))
            ));
        }
        let zero = header("DE", "DE-A-1", 0, &["JP"]);
        let env = seal_raw(&s, zero, &record, b"", b"");
        assert!(matches!(
            env.open(s.public_key()),
            Err(EnvelopeError::Inconsistent(_))
        ));
    }

    fn sealed(s: &RecordSigner) -> SignedEnvelope {
        SignedEnvelope::seal(
            s,
            header("DE", "DE-A-1", 1, &["JP", "FR"]),
            &Record::Alert(alert("DE", "DE-A-1")),
        )
        .unwrap()
    }

    #[test]
    fn sealed_envelopes_open_with_the_issuer_key_only() {
        let s = signer();
        let env = sealed(&s);
        let opened = env.open(s.public_key()).unwrap();
        assert_eq!(
            opened.header.recipients,
            vec!["FR".parse().unwrap(), "JP".parse().unwrap()]
        );
        assert_eq!(opened.record, Record::Alert(alert("DE", "DE-A-1")));
        let other = signer();
        assert!(matches!(
            env.open(other.public_key()),
            Err(EnvelopeError::UnknownKey { .. })
        ));
    }

    #[test]
    fn tampering_is_detected() {
        let s = signer();
        let env = sealed(&s);
        let mut body = env.clone();
        let last = body.body.len() - 1;
        body.body[last] ^= 1;
        assert_eq!(
            body.open(s.public_key()).unwrap_err(),
            EnvelopeError::BodyMismatch
        );
        let mut sig = env.clone();
        sig.signature[0] ^= 1;
        assert_eq!(
            sig.open(s.public_key()).unwrap_err(),
            EnvelopeError::BadSignature
        );
        let mut hdr = env.clone();
        let mid = hdr.header.len() / 2;
        hdr.header[mid] ^= 0x40;
        assert!(hdr.open(s.public_key()).is_err());
        let junk = SignedEnvelope {
            header: vec![1, 2, 3],
            body: vec![],
            signature: vec![],
        };
        assert!(matches!(
            junk.open(s.public_key()),
            Err(EnvelopeError::Malformed(_))
        ));
    }

    #[test]
    fn a_header_lying_about_the_body_is_inconsistent() {
        let s = signer();
        let env = SignedEnvelope::seal(
            &s,
            header("DE", "DE-A-2", 1, &["FR"]),
            &Record::Alert(alert("DE", "DE-A-1")),
        )
        .unwrap();
        assert!(matches!(
            env.open(s.public_key()),
            Err(EnvelopeError::Inconsistent(_))
        ));
    }

    #[test]
    fn receipts_are_signed_by_the_receiver() {
        let r = signer();
        let body = ReceiptBody {
            receiver: "FR".parse().unwrap(),
            issuer: "DE".parse().unwrap(),
            seq: 1,
            record_id: "DE-A-1".into(),
            version: 1,
            envelope_digest: [7; 32],
            received_at_unix_ms: 5,
            duplicate: false,
        };
        let receipt = SignedReceipt::sign(&r, &body).unwrap();
        assert_eq!(receipt.verify(r.public_key()).unwrap(), body);
        assert!(receipt.verify(signer().public_key()).is_err());
    }
}
