//! A member's query at its home node (answered locally and fanned out to
//! the other member nodes), and a peer's question answered here.

use std::time::{Duration, Instant};

use super::answer::{
    AnswerBody, AnswerEntry, AnswerSubject, Expected, SignedAnswer, ANSWER_FORMAT,
};
use super::fanout::{fan_out_each, PeerFailure, PeerQuery};
use super::matching::{self, Match};
use super::model::{Level, Query, ReceivedRef, RecordRef, Reference, TaskForce};
use super::{refusal_error, TaskForces, MAX_ENTRIES};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::crypto::keyed_hash::random_bytes;
use crate::crypto::KeyedHash;
use crate::error::{Error, Result};
use crate::exchange::{RecordView, SignatureCheck};
use crate::identity::{Caller, Jurisdiction};
use crate::policy;

/// One jurisdiction's part of a query's answer.
#[derive(Clone, Debug)]
pub struct Section {
    pub jurisdiction: Jurisdiction,
    pub outcome: SectionOutcome,
    pub elapsed: Duration,
}

#[derive(Clone, Debug)]
pub enum SectionOutcome {
    Answered(Box<Answered>),
    Unreachable(String),
    TimedOut(Duration),
    Refused(String),
}

/// A signed answer as the asking node checked it.
#[derive(Clone, Debug)]
pub struct Answered {
    pub signed: SignedAnswer,
    pub signature: SignatureCheck,
    /// The body, only when the signature and binding verified: nothing
    /// unverified is presented as an answer.
    pub body: Option<AnswerBody>,
    /// Per entry (full level): the record opened with its issuer's key.
    pub records: Vec<Option<std::result::Result<RecordView, String>>>,
}

impl Answered {
    /// The references this answer hands out.
    pub fn references(&self) -> Vec<String> {
        let Some(body) = &self.body else {
            return Vec::new();
        };
        body.reference
            .iter()
            .cloned()
            .chain(body.entries.iter().map(|e| e.reference.clone()))
            .collect()
    }
}

/// What a member gets back for a query.
#[derive(Clone, Debug)]
pub struct QueryOutcome {
    pub taskforce: String,
    /// The question as the answering nodes received it.
    pub query: String,
    pub blind: bool,
    /// This node's first, then the other members in order.
    pub sections: Vec<Section>,
}

/// Whether new references are minted for an answer, or an existing one is cited.
pub(super) enum Refs<'a> {
    New,
    Existing(&'a str),
}

/// An answer ready to sign, with what it hands out.
pub(super) struct Built {
    pub body: AnswerBody,
    pub refs: Vec<Reference>,
    pub record_ids: Vec<String>,
}

impl TaskForces {
    /// A member of this node asks the task force: answered here and by every
    /// other member node in parallel, each within the per-peer deadline.
    pub async fn query(
        &self,
        asker: &Caller,
        taskforce: &str,
        query: Query,
        blind: bool,
    ) -> Result<QueryOutcome> {
        self.query_with_progress(asker, taskforce, query, blind, None)
            .await
    }

    /// Like [`TaskForces::query`], also handing each section to `progress`
    /// as soon as it is checked: this node's first, then each peer's as it
    /// arrives. The outcome (sections in member order) follows once the
    /// query and its references are in the audit trail.
    pub async fn query_with_progress(
        &self,
        asker: &Caller,
        taskforce: &str,
        query: Query,
        blind: bool,
        progress: Option<tokio::sync::mpsc::UnboundedSender<Section>>,
    ) -> Result<QueryOutcome> {
        let tell = |s: &Section| {
            if let Some(p) = &progress {
                // A watcher that left does not stop the query.
                let _ = p.send(s.clone());
            }
        };
        let actor = asker.to_string();
        let tf = match self.get(taskforce) {
            Ok(tf) => tf,
            Err(e) => {
                self.audit_refusal(&actor, "taskforce.query.refused", taskforce, &e.to_string())
                    .await?;
                return Err(e);
            }
        };
        if let Err(refusal) =
            policy::authorize_taskforce_member(&asker.jurisdiction, &tf.terms(), now_unix_ms())
        {
            self.audit_refusal(
                &actor,
                "taskforce.query.refused",
                taskforce,
                &refusal.to_string(),
            )
            .await?;
            return Err(refusal_error(refusal));
        }
        let query = query.tidy();
        query.check().map_err(Error::InvalidArgument)?;
        if query.is_blind() {
            return Err(Error::InvalidArgument(
                "members ask by name with `blind` set; the node computes the hashes".into(),
            ));
        }
        let key = blind_key(&tf)?;
        // The home node's own trail keeps the question as the member asked it.
        let asked = query.describe();
        let query = if blind {
            let Query::Party { name } = &query else {
                return Err(Error::InvalidArgument(
                    "blind mode answers party questions only".into(),
                ));
            };
            let key = key.as_ref().ok_or_else(|| {
                Error::FailedPrecondition(format!(
                    "task force {} has no blind key on this node (register it with --blind-key-file)",
                    tf.name
                ))
            })?;
            let hash = matching::blind_hash(key, name).ok_or_else(|| {
                Error::InvalidArgument(format!("{name:?} has no words to match blindly"))
            })?;
            Query::BlindParty {
                key_id: key.key_id().to_owned(),
                hashes: vec![hash],
            }
        } else {
            query
        };
        let others: Vec<Jurisdiction> = tf
            .members
            .iter()
            .filter(|m| **m != self.own)
            .cloned()
            .collect();
        if others.len() > self.limits.max_fanout {
            return Err(Error::ResourceExhausted(format!(
                "task force {} has {} other members; this node asks at most {} peers per query",
                tf.name,
                others.len(),
                self.limits.max_fanout
            )));
        }

        // The peers work while this node answers for itself.
        let peer_query = PeerQuery {
            taskforce: tf.name.clone(),
            asker: asker.clone(),
            query: query.clone(),
        };
        let mut fanned = fan_out_each(
            &self.transport,
            &others,
            &peer_query,
            self.limits.peer_deadline,
        );

        let started = Instant::now();
        let level = policy::answer_level(tf.level, query.is_blind());
        let subject = AnswerSubject::Query(query.digest());
        let (built, signed) = self
            .answer_here(&tf, asker, &query, key.as_ref(), level)
            .await?;
        let expected = Expected {
            answering: &self.own,
            taskforce: &tf.name,
            asker: &asker.uri(),
            subject: &subject,
        };
        let own_section = Section {
            jurisdiction: self.own.clone(),
            outcome: SectionOutcome::Answered(Box::new(self.check(
                &self.own,
                &asker.jurisdiction,
                signed,
                &expected,
            ))),
            elapsed: started.elapsed(),
        };

        tell(&own_section);
        let now = now_unix_ms();
        let mut sections = vec![own_section];
        let mut received = Vec::new();
        while let Some((peer, result, elapsed)) = fanned.recv().await {
            let outcome = match result {
                Ok(signed) => {
                    let answered = self.check(
                        &peer,
                        &asker.jurisdiction,
                        signed,
                        &Expected {
                            answering: &peer,
                            ..expected.clone()
                        },
                    );
                    for reference in answered.references() {
                        received.push(ReceivedRef {
                            reference,
                            owner: peer.clone(),
                            taskforce: tf.name.clone(),
                            received_by: actor.clone(),
                            received_at_unix_ms: now,
                        });
                    }
                    SectionOutcome::Answered(Box::new(answered))
                }
                Err(PeerFailure::Unreachable(why)) => SectionOutcome::Unreachable(why),
                Err(PeerFailure::TimedOut(d)) => SectionOutcome::TimedOut(d),
                Err(PeerFailure::Refused(e)) => SectionOutcome::Refused(e.to_string()),
            };
            let section = Section {
                jurisdiction: peer,
                outcome,
                elapsed,
            };
            tell(&section);
            sections.push(section);
        }
        // Every peer task answers or times out and then sends; one that
        // could not (its task died) is reported rather than left out.
        for peer in &others {
            if !sections.iter().any(|s| &s.jurisdiction == peer) {
                let section = Section {
                    jurisdiction: peer.clone(),
                    outcome: SectionOutcome::Unreachable("query task failed".into()),
                    elapsed: Duration::ZERO,
                };
                tell(&section);
                sections.push(section);
            }
        }
        // The outcome lists members in the task force's order, this node first.
        sections[1..].sort_by_key(|s| others.iter().position(|m| *m == s.jurisdiction));

        // The references handed out and received, with the audit entry, in one batch.
        let mut batch = self.store.batch();
        for r in &built.refs {
            batch.put(&self.trees.refs, &r.id, r)?;
        }
        for r in &received {
            batch.put(&self.trees.received, &r.reference, r)?;
        }
        let rationale = format!(
            "{}; {}",
            if query.is_blind() {
                format!("{asked}, sent blind as {}", query.describe())
            } else {
                asked
            },
            sections
                .iter()
                .map(|s| audit_line(s, &built))
                .collect::<Vec<_>>()
                .join("; ")
        );
        self.audit
            .commit(
                batch,
                [Action {
                    actor: &actor,
                    action: "taskforce.query",
                    record: &tf.name,
                    rationale: &rationale,
                }],
            )
            .await?;
        Ok(QueryOutcome {
            taskforce: tf.name,
            query: query.describe(),
            blind: query.is_blind(),
            sections,
        })
    }

    /// A peer node relays a question of one of its members.
    pub async fn answer_peer(
        &self,
        node: &Jurisdiction,
        asker: &Caller,
        taskforce: &str,
        query: Query,
    ) -> Result<SignedAnswer> {
        policy::authorize_peer_asker(node, asker).map_err(refusal_error)?;
        let actor = asker.to_string();
        let refuse = |why: String| {
            let rationale = format!("via node {node}; {why}");
            let actor = actor.clone();
            async move {
                self.audit_refusal(&actor, "taskforce.answer.refused", taskforce, &rationale)
                    .await
            }
        };
        let tf = match self.get(taskforce) {
            Ok(tf) => tf,
            Err(e) => {
                refuse(e.to_string()).await?;
                return Err(e);
            }
        };
        if let Err(refusal) =
            policy::authorize_taskforce_member(&asker.jurisdiction, &tf.terms(), now_unix_ms())
        {
            refuse(refusal.to_string()).await?;
            return Err(refusal_error(refusal));
        }
        query.check().map_err(Error::InvalidArgument)?;
        let key = match &query {
            Query::BlindParty { key_id, .. } => {
                let check = match blind_key(&tf)? {
                    None => Err(format!(
                        "task force {} has no blind key on {}",
                        tf.name, self.own
                    )),
                    Some(k) if k.key_id() != key_id => Err(format!(
                        "blind keys differ: {} holds key {} for task force {}, the question used key {key_id}",
                        self.own,
                        k.key_id(),
                        tf.name
                    )),
                    Some(k) => Ok(k),
                };
                match check {
                    Ok(k) => Some(k),
                    Err(why) => {
                        refuse(why.clone()).await?;
                        return Err(Error::FailedPrecondition(why));
                    }
                }
            }
            _ => None,
        };
        let level = policy::answer_level(tf.level, query.is_blind());
        let (built, signed) = self
            .answer_here(&tf, asker, &query, key.as_ref(), level)
            .await?;
        let mut batch = self.store.batch();
        for r in &built.refs {
            batch.put(&self.trees.refs, &r.id, r)?;
        }
        let rationale = format!(
            "via node {node}; {}; level {level}; {}",
            query.describe(),
            revealed(&built)
        );
        self.audit
            .commit(
                batch,
                [Action {
                    actor: &asker.to_string(),
                    action: "taskforce.answer",
                    record: &tf.name,
                    rationale: &rationale,
                }],
            )
            .await?;
        Ok(signed)
    }

    /// This node's answer to `query` at `level`: the records it holds that
    /// need-to-know lets `asker` see, under new references, signed.
    async fn answer_here(
        &self,
        tf: &TaskForce,
        asker: &Caller,
        query: &Query,
        blind: Option<&KeyedHash>,
        level: Level,
    ) -> Result<(Built, SignedAnswer)> {
        let names = self.names.view().await;
        let matches = matching::find(
            &self.exchange,
            names.as_ref(),
            &self.own,
            &asker.jurisdiction,
            query,
            blind,
        )?;
        let subject = AnswerSubject::Query(query.digest());
        let built = self.build(tf, asker, subject, level, matches, Refs::New)?;
        let signed = self.seal(tf, &built)?;
        Ok((built, signed))
    }

    /// Signs a built answer with this node's key.
    pub(super) fn seal(&self, tf: &TaskForce, built: &Built) -> Result<SignedAnswer> {
        SignedAnswer::seal(&self.signer, &built.body)
            .map_err(|e| Error::Internal(format!("task force {}: {e}", tf.name)))
    }

    /// Builds an answer at `level` over `matches` (already filtered by
    /// need-to-know), minting references or citing one.
    pub(super) fn build(
        &self,
        tf: &TaskForce,
        asker: &Caller,
        subject: AnswerSubject,
        level: Level,
        mut matches: Vec<Match>,
        refs: Refs<'_>,
    ) -> Result<Built> {
        let now = now_unix_ms();
        let truncated = matches.len() > MAX_ENTRIES;
        matches.truncate(MAX_ENTRIES);
        let record_ref = |m: &Match| RecordRef {
            kind: m.header.kind,
            issuer: m.header.issuer.clone(),
            id: m.header.record_id.clone(),
        };
        let mut minted = Vec::new();
        let mut reference_for = |records: Vec<RecordRef>| -> Result<String> {
            match refs {
                Refs::Existing(id) => Ok(id.to_owned()),
                Refs::New => {
                    let r = Reference {
                        id: self.new_reference_id()?,
                        taskforce: tf.name.clone(),
                        asker: asker.jurisdiction.clone(),
                        records,
                        created_at_unix_ms: now,
                    };
                    let id = r.id.clone();
                    minted.push(r);
                    Ok(id)
                }
            }
        };
        let (reference, entries) = match level {
            Level::Hit if matches.is_empty() => (None, Vec::new()),
            Level::Hit => (
                Some(reference_for(matches.iter().map(record_ref).collect())?),
                Vec::new(),
            ),
            Level::Summary | Level::Full => {
                let mut entries = Vec::with_capacity(matches.len());
                for m in &matches {
                    let envelope = match level {
                        Level::Full => self.envelope_of(&m.header)?,
                        _ => None,
                    };
                    entries.push(AnswerEntry {
                        reference: reference_for(vec![record_ref(m)])?,
                        kind: m.header.kind,
                        issuer: m.header.issuer.clone(),
                        date_unix_ms: matching::date(&m.record),
                        category: matching::category(&m.record),
                        score: m.score,
                        version: m.record.version(),
                        standing: m.record.standing(now),
                        envelope,
                    });
                }
                (None, entries)
            }
        };
        let body = AnswerBody {
            format: ANSWER_FORMAT,
            answering: self.own.clone(),
            taskforce: tf.name.clone(),
            asker: asker.uri(),
            subject,
            level,
            answered_at_unix_ms: now,
            hit: !matches.is_empty(),
            in_force: matches.iter().any(|m| m.record.is_in_force(now)),
            reference,
            entries,
            truncated,
        };
        Ok(Built {
            body,
            refs: minted,
            record_ids: matches.iter().map(|m| m.header.record_id.clone()).collect(),
        })
    }

    fn new_reference_id(&self) -> Result<String> {
        let bytes = random_bytes::<8>().map_err(|e| Error::Internal(e.to_string()))?;
        Ok(format!("{}-R-{}", self.own, hex::encode(bytes)))
    }

    /// The envelope of a record version exactly as its issuer signed it.
    fn envelope_of(
        &self,
        header: &crate::exchange::envelope::EnvelopeHeader,
    ) -> Result<Option<crate::exchange::SignedEnvelope>> {
        self.exchange
            .disclosable_envelope(&header.issuer, header.seq)
    }

    /// Checks an answer from `answering` (this node or a peer) with its
    /// registered key and what was asked; opens full-level records with
    /// their issuers' keys and refuses any outside the asker's distribution.
    pub(super) fn check(
        &self,
        answering: &Jurisdiction,
        asker: &Jurisdiction,
        signed: SignedAnswer,
        expected: &Expected<'_>,
    ) -> Answered {
        let opened = self
            .with_keys(answering, |keys| {
                signed.open_with(keys, expected).map_err(|e| e.to_string())
            })
            .unwrap_or_else(|| {
                Err(format!(
                    "{answering} is not a registered peer; its key is unknown"
                ))
            });
        let (signature, body) = match opened {
            Ok(body) => (SignatureCheck::Valid, Some(body)),
            Err(e) => (SignatureCheck::Invalid(e), None),
        };
        let records = body
            .as_ref()
            .map(|b| {
                b.entries
                    .iter()
                    .map(|e| e.envelope.as_ref().map(|env| self.open_record(env, asker)))
                    .collect()
            })
            .unwrap_or_default();
        Answered {
            signed,
            signature,
            body,
            records,
        }
    }

    fn open_record(
        &self,
        envelope: &crate::exchange::SignedEnvelope,
        asker: &Jurisdiction,
    ) -> std::result::Result<RecordView, String> {
        let header = envelope.peek_header().map_err(|e| e.to_string())?;
        if !crate::policy::may_release_to(&header.issuer, &header.recipients, asker) {
            return Err(format!(
                "{} {} does not name {asker}: withheld",
                header.kind.as_str(),
                header.record_id
            ));
        }
        let opened = self
            .with_keys(&header.issuer, |keys| envelope.open_with(keys))
            .ok_or_else(|| format!("issuer {} is not a registered peer", header.issuer))?
            .map_err(|e| e.to_string())?;
        Ok(RecordView {
            digest: opened.digest,
            header: opened.header,
            record: opened.record,
            signature: SignatureCheck::Valid,
            stored_at_unix_ms: 0,
            deliveries: Vec::new(),
        })
    }

    /// Runs `f` with `j`'s signing keys, or None when `j` is unknown here.
    fn with_keys<R>(
        &self,
        j: &Jurisdiction,
        f: impl FnOnce(&crate::crypto::KeyRing<'_>) -> R,
    ) -> Option<R> {
        if j == &self.own {
            return Some(f(&self.signer.keyring()));
        }
        let peers = self.peers.current();
        peers.get(j).map(|p| f(&p.bundle.keyring()))
    }
}

fn blind_key(tf: &TaskForce) -> Result<Option<KeyedHash>> {
    tf.blind_key
        .as_deref()
        .map(KeyedHash::new)
        .transpose()
        .map_err(|e| Error::Internal(format!("stored blind key of {}: {e}", tf.name)))
}

/// What an answer revealed, for the audit trail: record ids and references, never contents.
fn revealed(built: &Built) -> String {
    if !built.body.hit {
        return "no hit".to_owned();
    }
    let refs: Vec<&str> = built.refs.iter().map(|r| r.id.as_str()).collect();
    format!(
        "hit: records [{}]; references [{}]{}",
        built.record_ids.join(", "),
        refs.join(", "),
        if built.body.truncated {
            "; truncated"
        } else {
            ""
        }
    )
}

fn audit_line(s: &Section, own: &Built) -> String {
    let j = &s.jurisdiction;
    match &s.outcome {
        SectionOutcome::Answered(a) => match (&a.body, &a.signature) {
            (Some(b), _) if b.answering == own.body.answering => {
                format!("{j} answered at {}: {}", b.level, revealed(own))
            }
            (Some(b), _) => {
                let ids: Vec<String> = a
                    .records
                    .iter()
                    .flatten()
                    .filter_map(|r| r.as_ref().ok())
                    .map(|v| v.header.record_id.clone())
                    .collect();
                let refs = a.references();
                match (b.hit, ids.is_empty()) {
                    (false, _) => format!("{j} answered at {}: no hit", b.level),
                    (true, true) => format!(
                        "{j} answered at {}: hit; references [{}]",
                        b.level,
                        refs.join(", ")
                    ),
                    (true, false) => format!(
                        "{j} answered at {}: hit; records [{}]; references [{}]",
                        b.level,
                        ids.join(", "),
                        refs.join(", ")
                    ),
                }
            }
            (None, SignatureCheck::Invalid(e)) => format!("{j} answer rejected: {e}"),
            (None, SignatureCheck::Valid) => format!("{j} answered"),
        },
        SectionOutcome::Unreachable(why) => format!("{j} unreachable: {why}"),
        SectionOutcome::TimedOut(d) => format!("{j} timed out after {} ms", d.as_millis()),
        SectionOutcome::Refused(why) => format!("{j} refused: {why}"),
    }
}
