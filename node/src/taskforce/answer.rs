//! Signed answers: what one node says to one member about one question.
//!
//! The answering node signs (Ed25519, its record-signing key) the encoded
//! [`AnswerBody`], domain-separated from envelopes, receipts and
//! checkpoints. The body names the answering node, the task force, the
//! asking member and the question (by digest), so an answer cannot be
//! replayed to another member or passed off for another question. At the
//! `full` level each entry carries the record's envelope exactly as its
//! issuer signed it, so the records verify on their own too.

use serde::{Deserialize, Serialize};

use super::model::Level;
use crate::crypto::{verify_signature, RecordSigner};
use crate::exchange::{RecordKind, SignedEnvelope, Standing};
use crate::identity::Jurisdiction;

pub const ANSWER_TAG: &[u8] = b"concord.v1.taskforce-answer\0";
/// Version of the body layout.
pub const ANSWER_FORMAT: u8 = 2;

/// What an answer answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerSubject {
    /// A query, by the SHA-256 of its encoding (`Query::digest`).
    Query([u8; 32]),
    /// An approved detail request, by id.
    Details(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerBody {
    pub format: u8,
    pub answering: Jurisdiction,
    pub taskforce: String,
    /// `concord://` URI of the asking member.
    pub asker: String,
    pub subject: AnswerSubject,
    pub level: Level,
    pub answered_at_unix_ms: i64,
    /// Whether anything matched that may be revealed to the asker.
    pub hit: bool,
    /// Whether any of it is in force: at the hit level the only word on
    /// the standing of what matched (a revoked denial is a hit, not a live one).
    pub in_force: bool,
    /// Hit level: one reference for everything that matched.
    pub reference: Option<String>,
    /// Empty at the hit level.
    pub entries: Vec<AnswerEntry>,
    /// More matched than one answer carries ([`super::MAX_ENTRIES`]).
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerEntry {
    pub reference: String,
    pub kind: RecordKind,
    pub issuer: Jurisdiction,
    pub date_unix_ms: i64,
    pub category: String,
    pub score: f32,
    /// The record's version and where it stands when answered.
    pub version: u32,
    pub standing: Standing,
    /// Full level only.
    pub envelope: Option<SignedEnvelope>,
}

/// An answer as it travels: the exact body bytes and the signature over them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAnswer {
    pub body: Vec<u8>,
    pub signature: Vec<u8>,
    pub key_id: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("answer signed with key {found}, but {peer}'s registered key is {expected}")]
    UnknownKey {
        peer: Jurisdiction,
        found: String,
        expected: String,
    },
    #[error("answer from {peer}: {problem}")]
    Key { peer: Jurisdiction, problem: String },
    #[error("signature does not verify")]
    BadSignature,
    #[error("answer is not for this question: {0}")]
    Mismatch(String),
    #[error("cannot encode the answer to sign: {0}")]
    Encode(String),
}

/// What the asking side expects an answer to say about itself.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    pub answering: &'a Jurisdiction,
    pub taskforce: &'a str,
    pub asker: &'a str,
    pub subject: &'a AnswerSubject,
}

impl SignedAnswer {
    /// Signs `body`; fails, signing nothing, if it cannot be encoded.
    pub fn seal(signer: &RecordSigner, body: &AnswerBody) -> Result<SignedAnswer, AnswerError> {
        let body = postcard::to_allocvec(body).map_err(|e| AnswerError::Encode(e.to_string()))?;
        let signature = signer.sign(&tagged(&body));
        Ok(SignedAnswer {
            body,
            signature,
            key_id: signer.key_id().to_owned(),
        })
    }

    /// Decodes the body without checking anything.
    pub fn peek(&self) -> Result<AnswerBody, AnswerError> {
        let body: AnswerBody =
            postcard::from_bytes(&self.body).map_err(|e| AnswerError::Malformed(e.to_string()))?;
        if body.format != ANSWER_FORMAT {
            return Err(AnswerError::Malformed(format!(
                "unknown answer format {}",
                body.format
            )));
        }
        Ok(body)
    }

    /// Verifies with whichever of the answering node's keys the answer
    /// names, if in service when it was signed, then checks what was asked.
    pub fn open_with(
        &self,
        keys: &crate::crypto::KeyRing<'_>,
        expected: &Expected<'_>,
    ) -> Result<AnswerBody, AnswerError> {
        let claimed = self.peek()?;
        let key = keys
            .key_for(&self.key_id, claimed.answered_at_unix_ms)
            .map_err(|e| AnswerError::Key {
                peer: expected.answering.clone(),
                problem: e.to_string(),
            })?;
        self.open(key, expected)
    }

    /// Verifies the signature with the answering node's registered key,
    /// then that the answer is about what was asked.
    pub fn open(
        &self,
        public_key: &[u8],
        expected: &Expected<'_>,
    ) -> Result<AnswerBody, AnswerError> {
        let expected_id = crate::crypto::key_id(public_key);
        if self.key_id != expected_id {
            return Err(AnswerError::UnknownKey {
                peer: expected.answering.clone(),
                found: self.key_id.clone(),
                expected: expected_id,
            });
        }
        if !verify_signature(public_key, &tagged(&self.body), &self.signature) {
            return Err(AnswerError::BadSignature);
        }
        let body = self.peek()?;
        let mismatch = |what: String| Err(AnswerError::Mismatch(what));
        if &body.answering != expected.answering {
            return mismatch(format!("answered by {}", body.answering));
        }
        if body.taskforce != expected.taskforce {
            return mismatch(format!("for task force {}", body.taskforce));
        }
        if body.asker != expected.asker {
            return mismatch(format!("for {}", body.asker));
        }
        if &body.subject != expected.subject {
            return mismatch("for another question".into());
        }
        if body.level == super::model::Level::Hit && !body.entries.is_empty() {
            return mismatch("a hit-level answer carries entries".into());
        }
        Ok(body)
    }
}

fn tagged(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ANSWER_TAG.len() + body.len());
    m.extend_from_slice(ANSWER_TAG);
    m.extend_from_slice(body);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> RecordSigner {
        RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap()
    }

    fn body(subject: AnswerSubject) -> AnswerBody {
        AnswerBody {
            format: ANSWER_FORMAT,
            answering: "FR".parse().unwrap(),
            taskforce: "ops".into(),
            asker: "concord://DE/taskforce/tina".into(),
            subject,
            level: Level::Hit,
            answered_at_unix_ms: 5,
            hit: true,
            in_force: true,
            reference: Some("FR-R-01".into()),
            entries: vec![],
            truncated: false,
        }
    }

    #[test]
    fn answers_verify_only_for_their_question_and_key() {
        let fr = signer();
        let subject = AnswerSubject::Query([7; 32]);
        let signed = SignedAnswer::seal(&fr, &body(subject.clone())).unwrap();
        let answering: Jurisdiction = "FR".parse().unwrap();
        let expected = Expected {
            answering: &answering,
            taskforce: "ops",
            asker: "concord://DE/taskforce/tina",
            subject: &subject,
        };
        assert_eq!(
            signed.open(fr.public_key(), &expected).unwrap(),
            body(subject.clone())
        );
        assert!(matches!(
            signed.open(signer().public_key(), &expected),
            Err(AnswerError::UnknownKey { .. })
        ));
        let mut tampered = signed.clone();
        tampered.body[3] ^= 1;
        assert_eq!(
            tampered.open(fr.public_key(), &expected),
            Err(AnswerError::BadSignature)
        );
        let other = AnswerSubject::Query([8; 32]);
        let replayed = Expected {
            subject: &other,
            ..expected.clone()
        };
        assert!(matches!(
            signed.open(fr.public_key(), &replayed),
            Err(AnswerError::Mismatch(_))
        ));
        let someone_else = Expected {
            asker: "concord://DE/taskforce/tom",
            ..expected
        };
        assert!(matches!(
            signed.open(fr.public_key(), &someone_else),
            Err(AnswerError::Mismatch(_))
        ));
        assert!(SignedAnswer {
            body: vec![1, 2],
            signature: vec![],
            key_id: String::new()
        }
        .peek()
        .is_err());
    }
}
