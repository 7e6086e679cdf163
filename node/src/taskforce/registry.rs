//! Registering, listing and closing task forces: each participating node's
//! admin registers the task force and sets the level this node answers at.

use super::model::{Closure, TaskForce, TaskForceDraft};
use super::TaskForces;
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};

impl TaskForces {
    /// Registers a task force, durably and audited. The blind key, if any,
    /// is stored but never shown or audited; its key id is.
    pub async fn create(&self, actor: &str, draft: TaskForceDraft) -> Result<TaskForce> {
        let now = now_unix_ms();
        let draft = draft
            .check(&self.own, now)
            .map_err(Error::InvalidArgument)?;
        let _guard = self.writing.lock().await;
        if self.trees.taskforces.contains(&draft.name)? {
            return Err(Error::AlreadyExists(format!(
                "task force {:?} is already registered on this node",
                draft.name
            )));
        }
        let tf = TaskForce {
            name: draft.name,
            mandate: draft.mandate,
            members: draft.members,
            ends_at_unix_ms: draft.ends_at_unix_ms,
            level: draft.level,
            created_by: actor.to_owned(),
            created_at_unix_ms: now,
            closed: None,
            blind_key: draft.blind_key,
        };
        let members: Vec<&str> = tf.members.iter().map(|m| m.as_str()).collect();
        let rationale = format!(
            "members {}; level {}; ends at unix ms {}; blind key {}",
            members.join(","),
            tf.level,
            tf.ends_at_unix_ms,
            tf.blind_key_id().unwrap_or_else(|| "none".into())
        );
        let mut batch = self.store.batch();
        batch.put(&self.trees.taskforces, &tf.name, &tf)?;
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "taskforce.create",
                    record: &tf.name,
                    rationale: &rationale,
                }],
            )
            .await?;
        Ok(tf)
    }

    /// Every registered task force, by name.
    pub fn list(&self) -> Result<Vec<TaskForce>> {
        Ok(self
            .trees
            .taskforces
            .iter()?
            .into_iter()
            .map(|(_, tf)| tf)
            .collect())
    }

    pub fn get(&self, name: &str) -> Result<TaskForce> {
        self.trees.taskforces.get(name)?.ok_or_else(|| {
            Error::NotFound(format!(
                "task force {name:?} is not registered on this node"
            ))
        })
    }

    /// Ends a task force now: it answers nothing more, here or for peers.
    pub async fn close(&self, actor: &str, name: &str, reason: &str) -> Result<TaskForce> {
        super::model::text("reason", reason, false).map_err(Error::InvalidArgument)?;
        let _guard = self.writing.lock().await;
        let mut tf = self.get(name)?;
        if tf.closed.is_some() {
            return Err(Error::FailedPrecondition(format!(
                "task force {name} is already closed"
            )));
        }
        tf.closed = Some(Closure {
            by: actor.to_owned(),
            at_unix_ms: now_unix_ms(),
            reason: reason.to_owned(),
        });
        let mut batch = self.store.batch();
        batch.put(&self.trees.taskforces, &tf.name, &tf)?;
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "taskforce.close",
                    record: name,
                    rationale: reason,
                }],
            )
            .await?;
        Ok(tf)
    }
}
