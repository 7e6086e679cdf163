//! Legal-form equivalence: the table in `legal_forms.txt` (ISO 20275 / GLEIF
//! ELF as reference; its header says how it was made), read once.
//!
//! [`mark`] finds, in a name's tokens, every run that spells a legal form —
//! a single word (`llc`, `ооо`, `gmbh`) or a phrase (`joint stock company`,
//! `aktsionernoe obshchestvo`, `شركة ذات مسؤولية محدودة`), longest first —
//! and classes those tokens as [`TokenClass::Form`], which weighs nothing:
//! `JSC X`, `JOINT STOCK COMPANY X`, `AO X` and `X` are one name to the
//! scorer, and two companies sharing only a form never match.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use super::normalize::{raw_tokens, Token, TokenClass};
use super::score::within_edits;

const DATA: &str = include_str!("legal_forms.txt");

/// Words of this many letters or more also match a form word one edit away
/// (`obschestvo` for `obshchestvo`); shorter ones only exactly.
const FUZZY_FROM: usize = 7;

/// One line of the table.
#[derive(Debug)]
pub struct LegalForm {
    /// ISO 20275 ELF code, or `-` where the form has none of its own.
    pub code: &'static str,
    pub label: &'static str,
    /// Spellings as written in the table.
    pub spellings: Vec<&'static str>,
}

struct Table {
    forms: Vec<LegalForm>,
    /// Canonical token texts of each phrase (two words or more), longest first.
    phrases: Vec<Vec<String>>,
    /// Single form words, canonical.
    words: HashSet<String>,
    /// Single form words written in an abjad script: the only form words
    /// an abjad-script token can be (`فز` is not the Latin `FZ`).
    abjad_words: HashSet<String>,
    /// Long form words (single or in phrases), for fuzzy lookups by length.
    long_words: HashMap<usize, Vec<String>>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut forms = Vec::new();
        for line in DATA.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut cols = line.splitn(3, '|').map(str::trim);
            let (Some(code), Some(label), Some(spellings)) =
                (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            forms.push(LegalForm {
                code,
                label,
                spellings: spellings
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect(),
            });
        }
        let mut phrases = Vec::new();
        let mut words = HashSet::new();
        let mut abjad_words = HashSet::new();
        let mut long: HashSet<String> = HashSet::new();
        for f in &forms {
            for s in &f.spellings {
                let toks = raw_tokens(s);
                if let [t] = toks.as_slice() {
                    if t.abjad {
                        abjad_words.insert(t.text.clone());
                    }
                }
                let texts: Vec<String> = toks.into_iter().map(|t| t.text).collect();
                for t in &texts {
                    if t.len() >= FUZZY_FROM {
                        long.insert(t.clone());
                    }
                }
                match texts.len() {
                    0 => {}
                    1 => {
                        words.extend(texts);
                    }
                    _ => phrases.push(texts),
                }
            }
        }
        phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
        phrases.dedup();
        let mut long_words: HashMap<usize, Vec<String>> = HashMap::new();
        for w in long {
            long_words.entry(w.len()).or_default().push(w);
        }
        Table {
            forms,
            phrases,
            words,
            abjad_words,
            long_words,
        }
    })
}

/// The table's lines.
pub fn forms() -> &'static [LegalForm] {
    &table().forms
}

/// Every spelling of every form, as written in the table.
pub fn spellings() -> impl Iterator<Item = &'static str> {
    forms().iter().flat_map(|f| f.spellings.iter().copied())
}

/// Whether token text `t` spells form word `w` (exactly, or within one
/// edit for long words).
fn same(t: &str, w: &str) -> bool {
    t == w || (w.len() >= FUZZY_FROM && within_edits(t.as_bytes(), w.as_bytes(), 1))
}

fn is_word(t: &str) -> bool {
    let table = table();
    table.words.contains(t)
        || (t.len() + 1 >= FUZZY_FROM
            && (t.len().saturating_sub(1)..=t.len() + 1)
                .filter_map(|n| table.long_words.get(&n))
                .flatten()
                .any(|w| table.words.contains(w) && same(t, w)))
}

/// Classes as [`TokenClass::Form`] every token of `tokens` that spells a
/// legal form, alone or in a phrase (longest phrase first).
pub fn mark(tokens: &mut [Token]) {
    let table = table();
    let mut i = 0;
    while i < tokens.len() {
        let phrase = table.phrases.iter().find(|p| {
            p.len() <= tokens.len() - i && p.iter().zip(&tokens[i..]).all(|(w, t)| same(&t.text, w))
        });
        if let Some(p) = phrase {
            for t in &mut tokens[i..i + p.len()] {
                t.class = TokenClass::Form;
            }
            i += p.len();
            continue;
        }
        let word = if tokens[i].abjad {
            table.abjad_words.contains(&tokens[i].text)
        } else {
            is_word(&tokens[i].text)
        };
        if word {
            tokens[i].class = TokenClass::Form;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::normalize::tokens;

    /// The content words of a name, forms left out.
    fn content(name: &str) -> Vec<String> {
        tokens(name)
            .into_iter()
            .filter(|t| t.class != TokenClass::Form)
            .map(|t| t.base)
            .collect()
    }

    #[test]
    fn every_spelling_of_a_form_is_a_form() {
        for f in forms() {
            for s in &f.spellings {
                assert_eq!(
                    content(&format!("ZENTRIXA {s}")),
                    ["zentrixa"],
                    "{s:?} ({})",
                    f.label
                );
                assert_eq!(
                    content(&format!("{s} ZENTRIXA")),
                    ["zentrixa"],
                    "{s:?} ({})",
                    f.label
                );
            }
        }
        assert!(forms().len() > 20);
    }

    #[test]
    fn written_out_transliterated_and_abbreviated_forms_are_equal() {
        for name in [
            "JSC ARGUMENT",
            "JOINT STOCK COMPANY ARGUMENT",
            "Joint-Stock Company Argument",
            "AKTSIONERNOE OBSHCHESTVO ARGUMENT",
            "Aktsionernoye Obschestvo Argument",
            "АО «Аргумент»",
            "Акционерное общество Аргумент",
            "ARGUMENT OAO",
            "Otkrytoe Aktsionernoe Obshchestvo Argument",
            "PJSC Argument",
            "ARGUMENT LIMITED LIABILITY COMPANY",
            "OOO Argument",
            "ООО Аргумент",
            "Obshchestvo s Ogranichennoy Otvetstvennostyu Argument",
            "Argument GmbH",
            "Argument Gesellschaft mit beschränkter Haftung",
            "Argument S.A. de C.V.",
            "Argument Sociedad Anónima",
            "Argument SARL",
            "Société à responsabilité limitée Argument",
            "شركة ذات مسؤولية محدودة Argument",
            "Sherkat Sahami Khass Argument",
            "Argument 有限公司",
            "Argument Co., Ltd.",
        ] {
            assert_eq!(content(name), ["argument"], "{name:?}");
        }
    }

    #[test]
    fn words_that_only_resemble_forms_are_kept() {
        assert_eq!(
            content("JOINT VENTURE ARGUMENT"),
            ["joint", "venture", "argument"]
        );
        assert_eq!(content("STOCK EXCHANGE"), ["stock", "exchange"]);
        assert_eq!(content("AOUN"), ["aoun"]);
        // A name of forms only keeps them as words.
        assert_eq!(
            content("JOINT STOCK COMPANY"),
            ["joint", "stock", "company"]
        );
    }
}
