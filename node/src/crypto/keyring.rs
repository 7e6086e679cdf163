//! A jurisdiction's record-signing keys over time: the current key and the
//! keys it replaced.
//!
//! Records stay verifiable after a planned rotation because the old public
//! key stays in the ring, retired at a given time: it still verifies what it
//! signed before then, and nothing signed after. Each retired key signs a
//! handover naming its successor, so a partner holding only the old key can
//! check that a new trust bundle really comes from the same issuer without
//! trusting the channel that brought it. A compromised key is not retired but
//! dropped from the ring: everything it signed stops verifying, because
//! backdated forgeries cannot be told from genuine old records.

use serde::{Deserialize, Serialize};

use super::signing::{check_public_key, key_id, verify_signature, RecordSigner};

const HANDOVER_TAG: &[u8] = b"concord.v1.key-handover\0";

/// A key that signed records until `retired_at_unix_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKey {
    pub public_key: Vec<u8>,
    pub retired_at_unix_ms: i64,
    /// The key that took over, as the retired key itself signed it.
    pub successor_public_key: Vec<u8>,
    pub handover_signature: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    #[error("signed with key {found}, which is not among the issuer's keys ({known})")]
    Unknown { found: String, known: String },
    #[error(
        "signed with key {key_id} at {signed_at_unix_ms}, after that key was retired at {retired_at_unix_ms}"
    )]
    SignedAfterRetirement {
        key_id: String,
        retired_at_unix_ms: i64,
        signed_at_unix_ms: i64,
    },
    #[error("retired key {key_id}: {problem}")]
    BadRetiredKey { key_id: String, problem: String },
}

impl RetiredKey {
    /// Retires `old` at `at_unix_ms` in favour of `successor_public_key`.
    pub fn handover(
        old: &RecordSigner,
        jurisdiction: &str,
        successor_public_key: &[u8],
        at_unix_ms: i64,
    ) -> RetiredKey {
        let message = handover_message(jurisdiction, successor_public_key, at_unix_ms);
        RetiredKey {
            public_key: old.public_key().to_vec(),
            retired_at_unix_ms: at_unix_ms,
            successor_public_key: successor_public_key.to_vec(),
            handover_signature: old.sign(&message),
        }
    }

    pub fn key_id(&self) -> String {
        key_id(&self.public_key)
    }

    /// Checks the key sizes and that the retired key signed its handover.
    pub fn check(&self, jurisdiction: &str) -> Result<(), KeyRingError> {
        let bad = |problem: String| KeyRingError::BadRetiredKey {
            key_id: self.key_id(),
            problem,
        };
        check_public_key(&self.public_key).map_err(|e| bad(e.to_string()))?;
        check_public_key(&self.successor_public_key).map_err(|e| bad(format!("successor: {e}")))?;
        if self.successor_public_key == self.public_key {
            return Err(bad("names itself as its successor".into()));
        }
        let message = handover_message(
            jurisdiction,
            &self.successor_public_key,
            self.retired_at_unix_ms,
        );
        if !verify_signature(&self.public_key, &message, &self.handover_signature) {
            return Err(bad(format!(
                "handover to {} is not signed by it for jurisdiction {jurisdiction}",
                key_id(&self.successor_public_key)
            )));
        }
        Ok(())
    }
}

fn handover_message(jurisdiction: &str, successor: &[u8], at_unix_ms: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(HANDOVER_TAG.len() + jurisdiction.len() + 1 + 32 + 8);
    m.extend_from_slice(HANDOVER_TAG);
    m.extend_from_slice(jurisdiction.as_bytes());
    m.push(0);
    m.extend_from_slice(successor);
    m.extend_from_slice(&at_unix_ms.to_be_bytes());
    m
}

/// The keys that verify one issuer's signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRing<'a> {
    pub current: &'a [u8],
    pub retired: &'a [RetiredKey],
}

impl<'a> KeyRing<'a> {
    pub fn single(current: &'a [u8]) -> Self {
        KeyRing {
            current,
            retired: &[],
        }
    }

    /// Checks every retired key's handover and that no key appears twice.
    pub fn check(&self, jurisdiction: &str) -> Result<(), KeyRingError> {
        let mut seen = vec![self.current];
        for r in self.retired {
            r.check(jurisdiction)?;
            if seen.contains(&r.public_key.as_slice()) {
                return Err(KeyRingError::BadRetiredKey {
                    key_id: r.key_id(),
                    problem: "listed twice, or also the current key".into(),
                });
            }
            seen.push(&r.public_key);
        }
        Ok(())
    }

    /// The key with id `found` if it may have signed at `signed_at_unix_ms`.
    pub fn key_for(&self, found: &str, signed_at_unix_ms: i64) -> Result<&'a [u8], KeyRingError> {
        if key_id(self.current) == found {
            return Ok(self.current);
        }
        match self.retired.iter().find(|r| r.key_id() == found) {
            Some(r) if signed_at_unix_ms < r.retired_at_unix_ms => Ok(&r.public_key),
            Some(r) => Err(KeyRingError::SignedAfterRetirement {
                key_id: found.to_owned(),
                retired_at_unix_ms: r.retired_at_unix_ms,
                signed_at_unix_ms,
            }),
            None => Err(KeyRingError::Unknown {
                found: found.to_owned(),
                known: self.ids().join(", "),
            }),
        }
    }

    /// Keys that could have signed at `at_unix_ms`, current first: for
    /// signatures (receipts) that do not name their key.
    pub fn candidates(&self, at_unix_ms: i64) -> impl Iterator<Item = &'a [u8]> {
        std::iter::once(self.current).chain(
            self.retired
                .iter()
                .filter(move |r| at_unix_ms < r.retired_at_unix_ms)
                .map(|r| r.public_key.as_slice()),
        )
    }

    pub fn ids(&self) -> Vec<String> {
        std::iter::once(key_id(self.current))
            .chain(self.retired.iter().map(RetiredKey::key_id))
            .collect()
    }

    /// True when `trusted` handed over, directly or through a chain of
    /// retired keys, to this ring's current key: the continuity a partner
    /// checks before accepting a rotated bundle without an out-of-band check.
    /// Call `check` first: handovers are taken as verified here.
    pub fn continues_from(&self, trusted: &[u8]) -> bool {
        let mut key = trusted;
        // Each step moves to a different retired entry; more steps than
        // entries means a cycle.
        for _ in 0..=self.retired.len() {
            if key == self.current {
                return true;
            }
            match self.retired.iter().find(|r| r.public_key == key) {
                Some(r) => key = &r.successor_public_key,
                None => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> RecordSigner {
        RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap()
    }

    #[test]
    fn a_retired_key_verifies_only_what_it_signed_before_retirement() {
        let (old, new) = (signer(), signer());
        let retired = [RetiredKey::handover(&old, "DE", new.public_key(), 1_000)];
        let ring = KeyRing {
            current: new.public_key(),
            retired: &retired,
        };
        ring.check("DE").unwrap();
        assert_eq!(ring.key_for(old.key_id(), 999).unwrap(), old.public_key());
        assert!(matches!(
            ring.key_for(old.key_id(), 1_000),
            Err(KeyRingError::SignedAfterRetirement { .. })
        ));
        assert_eq!(ring.key_for(new.key_id(), 5).unwrap(), new.public_key());
        assert!(matches!(
            ring.key_for(signer().key_id(), 5),
            Err(KeyRingError::Unknown { .. })
        ));
        assert_eq!(ring.candidates(999).count(), 2);
        assert_eq!(ring.candidates(1_000).count(), 1);
    }

    #[test]
    fn handovers_are_bound_to_successor_time_and_jurisdiction() {
        let (old, new) = (signer(), signer());
        let good = RetiredKey::handover(&old, "DE", new.public_key(), 1_000);
        good.check("DE").unwrap();
        assert!(good.check("FR").is_err());
        let mut later = good.clone();
        later.retired_at_unix_ms += 1;
        assert!(later.check("DE").is_err());
        let mut other = good.clone();
        other.successor_public_key = signer().public_key().to_vec();
        assert!(other.check("DE").is_err());
        let mut short = good;
        short.public_key.pop();
        assert!(short.check("DE").is_err());
    }

    #[test]
    fn continuity_follows_the_chain_of_handovers() {
        let (a, b, c) = (signer(), signer(), signer());
        let retired = [
            RetiredKey::handover(&a, "DE", b.public_key(), 10),
            RetiredKey::handover(&b, "DE", c.public_key(), 20),
        ];
        let ring = KeyRing {
            current: c.public_key(),
            retired: &retired,
        };
        ring.check("DE").unwrap();
        assert!(ring.continues_from(a.public_key()));
        assert!(ring.continues_from(b.public_key()));
        assert!(ring.continues_from(c.public_key()));
        assert!(!ring.continues_from(signer().public_key()));
        // A compromised key dropped from the ring breaks the chain from it.
        let dropped = [retired[0].clone()];
        let ring = KeyRing {
            current: c.public_key(),
            retired: &dropped,
        };
        assert!(!ring.continues_from(a.public_key()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        /// Over any chain of rotations: each key verifies exactly what it
        /// signed before its retirement (the current key, anything), and
        /// every earlier key leads to the current one.
        #[test]
        fn every_key_verifies_exactly_its_own_service_period(
            gaps in proptest::collection::vec(1i64..1_000, 1..6),
            probe in 0i64..6_000,
        ) {
            let keys: Vec<RecordSigner> = (0..=gaps.len()).map(|_| signer()).collect();
            let mut at = 0;
            let mut retired = Vec::new();
            for (i, gap) in gaps.iter().enumerate() {
                at += gap;
                retired.push(RetiredKey::handover(&keys[i], "DE", keys[i + 1].public_key(), at));
            }
            let ring = KeyRing { current: keys[gaps.len()].public_key(), retired: &retired };
            proptest::prop_assert!(ring.check("DE").is_ok());
            for (i, key) in keys.iter().enumerate() {
                proptest::prop_assert!(ring.continues_from(key.public_key()));
                let retired_at = retired.get(i).map(|r| r.retired_at_unix_ms);
                let in_service = retired_at.is_none_or(|t| probe < t);
                proptest::prop_assert_eq!(ring.key_for(key.key_id(), probe).is_ok(), in_service);
            }
        }
    }

    #[test]
    fn a_key_listed_twice_is_refused() {
        let (old, new) = (signer(), signer());
        let r = RetiredKey::handover(&old, "DE", new.public_key(), 10);
        let twice = [r.clone(), r];
        let ring = KeyRing {
            current: new.public_key(),
            retired: &twice,
        };
        assert!(ring.check("DE").is_err());
    }
}
