//! The control-list catalog: each import is a new, complete version; older
//! versions stay readable.

use std::collections::BTreeMap;

use super::model::{text, CatalogEntry, CatalogVersion, Category, MAX_CATALOG_ENTRIES, MAX_NAME};
use super::Licensing;
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Caller;

/// How many problems an import refusal lists before summarising the rest.
const MAX_REPORTED: usize = 20;

/// One entry to import and where it came from (its line in the source file;
/// 0 when unknown), so a refusal can point at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcedEntry {
    pub line: u32,
    pub entry: CatalogEntry,
}

fn version_key(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn entry_key(v: u32, code: &str) -> Vec<u8> {
    let mut k = version_key(v).to_vec();
    k.extend_from_slice(code.as_bytes());
    k
}

/// Every problem of an import, each naming its line (or entry number).
pub fn import_problems(entries: &[SourcedEntry]) -> Vec<String> {
    let mut problems = Vec::new();
    if entries.is_empty() {
        problems.push("a catalog needs at least one entry".to_owned());
    }
    if entries.len() > MAX_CATALOG_ENTRIES {
        problems.push(format!(
            "{} entries; a catalog holds at most {MAX_CATALOG_ENTRIES}",
            entries.len()
        ));
    }
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for (i, s) in entries.iter().enumerate() {
        let at = if s.line > 0 {
            format!("line {}", s.line)
        } else {
            format!("entry {}", i + 1)
        };
        for p in s.entry.problems() {
            problems.push(format!("{at}: {p}"));
        }
        if let Some(first) = seen.insert(&s.entry.code, at.clone()) {
            problems.push(format!(
                "{at}: code {} is already listed at {first}",
                s.entry.code
            ));
        }
    }
    problems
}

/// The refusal of an import naming (up to [`MAX_REPORTED`]) its problems.
pub fn refusal(problems: &[String]) -> Error {
    let shown = problems
        .iter()
        .take(MAX_REPORTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    let more = problems.len().saturating_sub(MAX_REPORTED);
    let more = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    Error::InvalidArgument(format!("catalog refused, nothing imported: {shown}{more}"))
}

impl Licensing {
    /// Stores `entries` as a new catalog version, or nothing when any entry
    /// is malformed.
    pub async fn import_catalog(
        &self,
        actor: &Caller,
        source: &str,
        entries: Vec<SourcedEntry>,
    ) -> Result<CatalogVersion> {
        text("source", source, false, MAX_NAME)
            .map_err(|e| Error::InvalidArgument(format!("catalog refused: {e}")))?;
        let problems = import_problems(&entries);
        if !problems.is_empty() {
            return Err(refusal(&problems));
        }
        let guard = self.writing.lock().await;
        let version = self.current_catalog()?.map_or(1, |v| v.version + 1);
        let meta = CatalogVersion {
            version,
            imported_at_unix_ms: now_unix_ms(),
            actor: actor.to_string(),
            source: if source.trim().is_empty() {
                "unnamed".to_owned()
            } else {
                source.trim().to_owned()
            },
            entries: entries.len() as u32,
        };
        let mut batch = self.store.batch();
        batch.put(&self.trees.catalog_versions, version_key(version), &meta)?;
        for s in &entries {
            batch.put(
                &self.trees.catalog_entries,
                entry_key(version, &s.entry.code),
                &s.entry,
            )?;
        }
        let record = format!("catalog v{version}");
        let rationale = format!("{} entries from {}", meta.entries, meta.source);
        let actor = actor.to_string();
        self.commit(
            guard,
            batch,
            Action {
                actor: &actor,
                action: "catalog.import",
                record: &record,
                rationale: &rationale,
            },
        )
        .await?;
        tracing::info!(%actor, version, entries = meta.entries, "catalog imported");
        Ok(meta)
    }

    /// The newest catalog version, if any was imported.
    pub fn current_catalog(&self) -> Result<Option<CatalogVersion>> {
        match self.trees.catalog_versions.lazy_iter().next_back() {
            Some(entry) => Ok(Some(entry?.1)),
            None => Ok(None),
        }
    }

    /// Every catalog version, oldest first.
    pub fn catalog_versions(&self) -> Result<Vec<CatalogVersion>> {
        Ok(self
            .trees
            .catalog_versions
            .iter()?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// A version (None: the current one) and its entries in code order.
    pub fn catalog(
        &self,
        version: Option<u32>,
        category: Option<Category>,
        limit: Option<usize>,
    ) -> Result<(CatalogVersion, Vec<CatalogEntry>)> {
        let meta = match version {
            Some(v) => self
                .trees
                .catalog_versions
                .get(version_key(v))?
                .ok_or_else(|| Error::NotFound(format!("no catalog version {v}")))?,
            None => self
                .current_catalog()?
                .ok_or_else(|| Error::NotFound("no catalog has been imported yet".to_owned()))?,
        };
        let mut entries = Vec::new();
        for item in self
            .trees
            .catalog_entries
            .lazy_scan_prefix(version_key(meta.version))
        {
            let (_, e) = item?;
            if category.is_some_and(|c| c != e.category) {
                continue;
            }
            entries.push(e);
            if limit.is_some_and(|l| entries.len() >= l) {
                break;
            }
        }
        Ok((meta, entries))
    }

    /// `code`'s entry in every version it appears in, oldest first.
    pub fn catalog_entry_history(&self, code: &str) -> Result<Vec<(u32, CatalogEntry)>> {
        let mut out = Vec::new();
        for v in self.catalog_versions()? {
            if let Some(e) = self.trees.catalog_entries.get(entry_key(v.version, code))? {
                out.push((v.version, e));
            }
        }
        if out.is_empty() {
            return Err(Error::NotFound(format!(
                "control-list code {code:?} is in no catalog version"
            )));
        }
        Ok(out)
    }

    /// The current version's entries for `codes`; InvalidArgument naming the
    /// first code it does not list.
    pub(super) fn current_entries(
        &self,
        field: &str,
        codes: &[String],
    ) -> Result<(u32, Vec<CatalogEntry>)> {
        let Some(current) = self.current_catalog()? else {
            let code = codes.first().map(String::as_str).unwrap_or("");
            return Err(Error::InvalidArgument(format!(
                "{field}: control-list code {code:?} is not in the catalog: no catalog has been imported yet"
            )));
        };
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            let entry = self
                .trees
                .catalog_entries
                .get(entry_key(current.version, code))?
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "{field}: control-list code {code:?} is not in the current catalog (version {})",
                        current.version
                    ))
                })?;
            out.push(entry);
        }
        Ok((current.version, out))
    }
}
