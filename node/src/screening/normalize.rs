//! From a name as written to the tokens the matcher compares.
//!
//! 1. Transliterate to ASCII (`any_ascii`): accents go (`Krejčová` →
//!    `krejcova`), Cyrillic, Greek, Arabic, Devanagari, kana … become Latin.
//!    Han ideographs and Hangul syllables are transliterated one by one with a
//!    space after each (`王毅` → `wang yi`), since those scripts write no spaces.
//! 2. Lower-case; apostrophes and similar marks vanish (`O'Neil` → `oneil`);
//!    every other non-alphanumeric character separates tokens (`AL-SHANTI,
//!    Jamileh` → `al shanti jamileh`). Token order is kept but never matters
//!    for scoring, so `SURNAME, Given` and `Given SURNAME` compare equal.
//! 3. Each token gets a canonical spelling: common transliteration variants
//!    of the same name map to one form through [`VARIANTS`] (`mohamed`,
//!    `mohammed`, `muhammed` → `muhammad`), and Slavic endings `-iy`, `-ii`,
//!    `-ij` become `-y`.
//! 4. Each token gets a class and weight: legal-form words and phrases
//!    (`llc`, `ooo`, `joint stock company`, `aktsionernoe obshchestvo` …,
//!    the table of `legal_forms`) weigh nothing, particles (`al`, `bin`, `de` …) and
//!    generic business words (`trading`, `bank` …) weigh little, initials
//!    little, anything else 1. If every token of a name is a company-form
//!    word, they count as ordinary words, so a name never becomes empty.
//!
//! Tokens that came from an abjad script (Arabic, Persian, Hebrew, Syriac,
//! Thaana) carry no short vowels, so they are also compared by their consonant
//! [`skeleton`]: `محمد` → `mhmt` ~ `muhammad`. Arabic-script words are read
//! letter by letter for it ([`Token::skeleton`]), not through their
//! transliteration, which runs letters together (`زح` → `zh`); a final `ي`
//! is kept (`محمدی` MOHAMMADI is not MUHAMMAD).

use std::collections::HashMap;
use std::sync::OnceLock;

/// How much a token says about identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenClass {
    /// A legal-form word (LLC, GmbH, OOO …): ignored for similarity.
    Form,
    /// Articles, genealogical particles, connectives: `al`, `bin`, `de`, `of`.
    Particle,
    /// Words many unrelated organisations share: `trading`, `bank`, `group`.
    Generic,
    /// A single letter, usually an initial.
    Initial,
    Word,
}

impl TokenClass {
    pub fn weight(self) -> f32 {
        match self {
            TokenClass::Form => 0.0,
            TokenClass::Particle => 0.3,
            TokenClass::Initial => 0.3,
            TokenClass::Generic => 0.5,
            TokenClass::Word => 1.0,
        }
    }
}

/// One normalized token.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// Canonical spelling (lower-case ASCII letters and digits): `base`, folded.
    pub text: String,
    /// The spelling from the variant table, before folding.
    pub base: String,
    /// The token as transliterated, before the variant table.
    pub raw: String,
    pub class: TokenClass,
    /// Written in an abjad script (no short vowels): compared by skeleton too.
    pub abjad: bool,
    /// One Han or Hangul syllable: compared by exact spelling only, since
    /// two-letter pinyin syllables one letter apart (`cheng`, `chen`) are
    /// different characters and different people.
    pub syllable: bool,
    /// The consonant skeleton of an Arabic-script token, read from its
    /// letters ([`arabic_skeleton`]) rather than from their transliteration,
    /// which runs letters together (`زح` → `zh`, read as one letter).
    pub skeleton: Option<String>,
}

impl Token {
    pub fn weight(&self) -> f32 {
        self.class.weight()
    }

    /// Takes part in similarity (not a company-form word).
    pub fn is_content(&self) -> bool {
        self.class != TokenClass::Form
    }
}

/// Splits and normalizes a name into tokens (see the module docs).
pub fn tokens(name: &str) -> Vec<Token> {
    let mut out = raw_tokens(name);
    super::legal_forms::mark(&mut out);
    // A name made only of company-form words keeps them as words.
    if !out.is_empty() && out.iter().all(|t| t.class == TokenClass::Form) {
        for t in &mut out {
            t.class = classify(&t.base);
        }
    }
    out
}

/// Tokens before legal forms are recognised (which the form table itself
/// is read with).
pub(super) fn raw_tokens(name: &str) -> Vec<Token> {
    let arabic = arabic_words(name);
    let name: &str = &arabic;
    let mut out: Vec<Token> = Vec::new();
    let mut word = Word::default();
    let mut buf = [0u8; 4];
    for c in name.chars() {
        if c.is_ascii() {
            word.skeleton_ascii(c);
            push_ascii(c, &mut word, &mut out);
            continue;
        }
        let script_abjad = is_abjad(c);
        let split = is_syllabic_ideograph(c);
        let translit = any_ascii::any_ascii(c.encode_utf8(&mut buf));
        if split {
            word.flush(&mut out);
        }
        if script_abjad {
            word.skeleton_arabic(c);
        }
        for t in translit.chars() {
            if script_abjad && t.is_ascii_alphanumeric() {
                word.abjad = true;
            }
            push_ascii(t, &mut word, &mut out);
        }
        if split {
            let before = out.len();
            word.flush(&mut out);
            if out.len() > before {
                if let Some(t) = out.last_mut() {
                    t.syllable = true;
                }
            }
        }
    }
    word.flush(&mut out);
    out
}

/// A word being read: its transliterated letters and, for Arabic script,
/// its skeleton letter by letter.
#[derive(Default)]
struct Word {
    text: String,
    abjad: bool,
    /// Skeleton letters so far; `None` once a letter has no skeleton class
    /// (another abjad script), so the transliteration's skeleton is used.
    skel: Option<String>,
    /// The last Arabic letter read.
    last: Option<char>,
    /// Letters read (ASCII or Arabic), for the onset.
    letters: usize,
}

impl Word {
    fn skeleton_ascii(&mut self, c: char) {
        if !c.is_ascii_alphanumeric() {
            return;
        }
        // Only the vowel onset `vowel_onset` writes before Arabic letters
        // is expected here; anything else is read from the transliteration.
        if self.letters == 0 && matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u') {
            self.skel = Some("a".to_owned());
        } else {
            self.skel = None;
        }
        self.letters += 1;
        self.last = None;
    }

    fn skeleton_arabic(&mut self, c: char) {
        let class = arabic_skeleton(c, self.letters == 0);
        if class == ArabicLetter::Mark {
            return;
        }
        if self.letters == 0 {
            self.skel = Some(String::new());
        }
        self.letters += 1;
        let after_ta = self.last == Some('ت');
        self.last = Some(c);
        self.push_class(class, after_ta);
    }

    fn push_class(&mut self, class: ArabicLetter, after_ta: bool) {
        let Some(skel) = self.skel.as_mut() else {
            return;
        };
        match class {
            ArabicLetter::Consonant(b'S') if after_ta => {
                // `تش` is how Arabic writes the Latin `CH`.
                skel.pop();
                skel.push('s');
            }
            ArabicLetter::Consonant(b'S') => skel.push('s'),
            ArabicLetter::Consonant(x) => skel.push(char::from(x)),
            ArabicLetter::Vowel | ArabicLetter::Mark => {}
            ArabicLetter::Other => self.skel = None,
        }
    }

    fn flush(&mut self, out: &mut Vec<Token>) {
        let word = std::mem::take(self);
        if word.text.is_empty() {
            return;
        }
        let mut token = make_token(word.text, word.abjad);
        if word.abjad {
            token.skeleton = word.skel.map(|mut s| {
                // A final `h` is dropped, as [`skeleton`] drops it from the
                // Latin spelling (`SALEH` صالح, `ZADEH` زاده).
                if s.len() > 1 && s.ends_with('h') {
                    s.pop();
                }
                // A final `ي` (the nisba `-i`, `-y`) is written in the
                // Latin spelling, and kept: `محمدی` is not `MUHAMMAD`.
                if matches!(word.last, Some('ي' | 'ی')) && !s.is_empty() {
                    s.push('y');
                }
                s
            });
        }
        out.push(token);
    }
}

/// How one Arabic-script letter counts in a consonant [`skeleton`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArabicLetter {
    /// A consonant class, as [`skeleton`] writes it for Latin (`b'S'`: ش,
    /// which with a preceding ت is `ch`).
    Consonant(u8),
    /// A long vowel, semivowel, hamza or ʿayn: not in the skeleton.
    Vowel,
    /// A short vowel sign, shadda, tatweel: not a letter.
    Mark,
    /// A letter of another abjad script.
    Other,
}

/// The skeleton class of an Arabic-script letter, as [`skeleton`] reads
/// the Latin spelling of its usual romanization (`خ` `kh` and `غ` `gh` are
/// read as `k`, `ش` `sh` as `s`). A word opening with alif or ʿayn opens
/// with a vowel in Latin (`a`).
fn arabic_skeleton(c: char, first: bool) -> ArabicLetter {
    use ArabicLetter::*;
    match c {
        'ا' | 'أ' | 'إ' | 'آ' | 'ٱ' | 'ع' if first => Consonant(b'a'),
        'ا' | 'أ' | 'إ' | 'آ' | 'ٱ' | 'ع' | 'ء' | 'ئ' | 'ؤ' | 'و' | 'ي' | 'ی' | 'ى' | 'ۀ' => {
            Vowel
        }
        // Tā marbūṭa: `-a`, `-ah` in Latin (a final `h` is dropped there too).
        'ة' => Vowel,
        'ب' | 'پ' => Consonant(b'b'),
        'ت' | 'ث' | 'ط' | 'د' | 'ذ' | 'ض' => Consonant(b't'),
        'ج' | 'گ' => Consonant(b'j'),
        'چ' => Consonant(b's'),
        'ح' | 'ه' => Consonant(b'h'),
        'خ' | 'غ' | 'ق' | 'ك' | 'ک' => Consonant(b'k'),
        'ر' => Consonant(b'r'),
        'ز' | 'ظ' | 'ژ' => Consonant(b'z'),
        'س' | 'ص' => Consonant(b's'),
        'ش' => Consonant(b'S'),
        'ف' => Consonant(b'f'),
        'ل' => Consonant(b'l'),
        'م' => Consonant(b'm'),
        'ن' => Consonant(b'n'),
        '\u{064B}'..='\u{065F}' | '\u{0670}' | 'ـ' | '\u{200C}' | '\u{200D}' => Mark,
        _ => Other,
    }
}

fn push_ascii(c: char, word: &mut Word, out: &mut Vec<Token>) {
    if c.is_ascii_alphanumeric() {
        word.text.push(c.to_ascii_lowercase());
    } else if matches!(c, '\'' | '`' | '^' | '"') {
        // Apostrophes join (O'Neil, Qa'ida); transliterated ayn/hamza vanish.
    } else {
        word.flush(out);
    }
}

fn make_token(raw: String, abjad: bool) -> Token {
    let base = spelling(&raw);
    let class = classify(&base);
    Token {
        text: fold(&base),
        base,
        raw,
        class,
        abjad,
        syllable: false,
        skeleton: None,
    }
}

/// Arabic-script words as their Latin listings write them, before letter
/// by letter transliteration: the attached article split off (`الحسين` →
/// `al حسين`, written `AL-HUSAYN` in the listing), and the particles and
/// name parts that transliterate badly letter by letter (`ابو` → `bw`)
/// written as the lists do ([`ARABIC_WORDS`]). Words in other scripts are
/// left alone.
fn arabic_words(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.chars().any(|c| matches!(c as u32, 0x0600..=0x06FF)) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for (i, word) in name.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&arabic_word(word));
    }
    std::borrow::Cow::Owned(out)
}

fn arabic_word(word: &str) -> String {
    // Hamza seats and the madda are one alif to the lists' romanizations.
    let w: String = word
        .chars()
        .map(|c| match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            _ => c,
        })
        .collect();
    if let Some((_, latin)) = ARABIC_WORDS.iter().find(|(a, _)| *a == w) {
        return (*latin).to_owned();
    }
    // `عبدالرحمن`: abd al-Rahman written as one word.
    if let Some(rest) = w.strip_prefix("عبدال").filter(|r| r.chars().count() >= 2) {
        return format!("abd al {}", vowel_onset(rest));
    }
    // The article (and `wa-`/`bi-` before it) attached to a word of two
    // letters or more.
    for prefix in ["وال", "بال", "ال"] {
        if let Some(rest) = w.strip_prefix(prefix).filter(|r| r.chars().count() >= 2) {
            return format!("al {}", vowel_onset(rest));
        }
    }
    vowel_onset(&w).into_owned()
}

/// A word opening with alif or ʿayn opens with a vowel in its Latin
/// spelling (`امين` AMIN, `عزيز` AZIZ, `علي` ALI), which letter-by-letter
/// transliteration drops; it is written `a` so the consonant [`skeleton`]
/// keeps the onset, as it does for the Latin spelling.
fn vowel_onset(w: &str) -> std::borrow::Cow<'_, str> {
    match w.strip_prefix(['ا', 'ع']) {
        Some(rest) if !rest.is_empty() => format!("a{rest}").into(),
        _ => w.into(),
    }
}

/// Arabic-script words → their usual romanization in sanctions lists.
/// Letter by letter they lose the vowels the lists write (`ابو` → `bw`,
/// `عبد` → `bd`) or the article's assimilation (`الله` → `llh`).
pub const ARABIC_WORDS: &[(&str, &str)] = &[
    ("ابو", "abu"),
    ("ابا", "abu"),
    ("ابي", "abu"),
    ("بن", "bin"),
    ("ابن", "bin"),
    ("بنت", "bint"),
    ("عبد", "abd"),
    ("الله", "allah"),
    ("عبدالله", "abdullah"),
    ("ال", "al"),
    ("ام", "umm"),
    ("محمد", "muhammad"),
    ("احمد", "ahmad"),
    ("علي", "ali"),
    ("عمر", "umar"),
    ("حسن", "hasan"),
    ("حسين", "husayn"),
    ("يوسف", "yusuf"),
    ("ابراهيم", "ibrahim"),
    ("اسامة", "usama"),
    ("مصطفى", "mustafa"),
    ("محمود", "mahmud"),
    ("خالد", "khalid"),
    ("سعيد", "said"),
    ("عثمان", "uthman"),
    ("اسماعيل", "ismail"),
    ("عيسى", "isa"),
    ("موسى", "musa"),
    ("يحيى", "yahya"),
    ("زكريا", "zakariya"),
    ("سليمان", "sulayman"),
    ("جعفر", "jafar"),
    ("ناصر", "nasir"),
    ("حزب", "hizb"),
    ("القاعدة", "al qaida"),
];

/// The canonical spelling of one lower-case ASCII token: [`spelling`], then [`fold`].
pub fn canonical(raw: &str) -> String {
    fold(&spelling(raw))
}

/// The variant table's form of a token, or the token with a Slavic
/// adjectival ending normalized (Zhukovskiy / Zhukovskii → zhukovsky).
pub fn spelling(raw: &str) -> String {
    if let Some(c) = variants().get(raw) {
        return (*c).to_owned();
    }
    for ending in ["iy", "ii", "ij", "yi"] {
        if raw.len() > 4 && raw.ends_with(ending) {
            let stem = &raw[..raw.len() - 2];
            return format!("{stem}y");
        }
    }
    raw.to_owned()
}

/// Folds spellings that transliteration tables disagree on, the same way
/// on both sides of a comparison: `dzh` → `j` (Джамал / Jamal), `kh` → `h`,
/// `ph` → `f`, `x` → `ks`, `w` → `v`, `q` → `k`, `c` → `k` (`s` before e,
/// i, y; `ch` kept), `ou` and `oo` → `u`, `ee` → `i`, doubled letters once
/// (Hassan / Hasan, Youssef / Yusef).
pub fn fold(s: &str) -> String {
    if !s.is_ascii() {
        // Tokens are ASCII by construction; anything else is left alone.
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(b.len() + 2);
    let push = |out: &mut String, c: u8| {
        let c = char::from(c);
        if !(c.is_ascii_alphabetic() && out.ends_with(c)) {
            out.push(c);
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        let (bytes, used): (&[u8], usize) = match rest {
            [b'd', b'z', b'h', ..] => (b"j", 3),
            [b'k', b'h', ..] => (b"h", 2),
            [b'p', b'h', ..] => (b"f", 2),
            [b'c', b'h', ..] => (b"ch", 2),
            [b'c', b'e' | b'i' | b'y', ..] => (b"s", 1),
            [b'c', ..] => (b"k", 1),
            [b'o', b'u', ..] | [b'o', b'o', ..] => (b"u", 2),
            [b'e', b'e', ..] => (b"i", 2),
            [b'x', ..] => (b"ks", 1),
            [b'w', ..] => (b"v", 1),
            [b'q', ..] => (b"k", 1),
            _ => (&rest[..1], 1),
        };
        for c in bytes {
            push(&mut out, *c);
        }
        i += used;
    }
    out
}

fn classify(text: &str) -> TokenClass {
    if PARTICLES.contains(&text) {
        TokenClass::Particle
    } else if GENERIC.contains(&text) {
        TokenClass::Generic
    } else if text.len() == 1 {
        TokenClass::Initial
    } else {
        TokenClass::Word
    }
}

fn is_abjad(c: char) -> bool {
    matches!(c as u32,
        0x0590..=0x05FF   // Hebrew
        | 0x0600..=0x06FF // Arabic
        | 0x0700..=0x074F // Syriac
        | 0x0750..=0x077F // Arabic Supplement
        | 0x0780..=0x07BF // Thaana
        | 0x08A0..=0x08FF // Arabic Extended-A
        | 0xFB1D..=0xFB4F // Hebrew presentation forms
        | 0xFB50..=0xFDFF // Arabic presentation forms A
        | 0xFE70..=0xFEFF // Arabic presentation forms B
    )
}

/// Scripts written without spaces between syllables or words.
fn is_syllabic_ideograph(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF     // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0x20000..=0x2FA1F // CJK Extensions B-F, compatibility supplement
    )
}

/// A coarse consonant skeleton for comparing abjad-script tokens with their
/// Latin spellings: vowels and semivowels dropped, digraphs and
/// near-homophones folded, doubled letters collapsed (Arabic writes a
/// doubled consonant once), a final `h` (tā marbūṭa) dropped, a vowel onset
/// kept as `a`, a final `i`/`y` kept as `y` (Arabic writes it, ي).
/// `muhammad`, `mohamed` → `mhmt`; `usama` → `asm`; `mousavi` → `msy`;
/// `amin` → `amn`; `dawud` → `tt` (the letters around a vowel are not
/// doubled). Arabic-script tokens are read letter by letter instead
/// ([`Token::skeleton`]); this reads their transliteration only for other
/// abjad scripts.
pub fn skeleton(token: &str) -> String {
    let b = token.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    // A vowel onset is kept as `a` (alif or ʿayn in Arabic script).
    if matches!(b.first(), Some(b'a' | b'e' | b'i' | b'o' | b'u')) {
        out.push(b'a');
    }
    let mut i = 0;
    // Whether the last letter read was a consonant written to `out`.
    let mut after_consonant = false;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let (mapped, used) = match (c, next) {
            (b'k', Some(b'h')) | (b'g', Some(b'h')) => (b'k', 2),
            (b's', Some(b'h')) => (b's', 2),
            (b't', Some(b'h')) | (b'd', Some(b'h')) => (b't', 2),
            (b'z', Some(b'h')) => (b'z', 2),
            (b'c', Some(b'h')) => (b's', 2),
            (b'p', Some(b'h')) => (b'f', 2),
            // `G` is written ج (or Persian گ, `g`), as `J` is.
            (b'g', _) => (b'j', 1),
            (b'q' | b'c', _) => (b'k', 1),
            (b'd', _) => (b't', 1),
            (b'p', _) => (b'b', 1),
            (b'j', _) => (b'j', 1),
            (b'x', _) => (b'k', 1),
            (b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'w' | b'v', _) => (0, 1),
            _ => (c, 1),
        };
        if i == 0 && !out.is_empty() {
            // The onset vowel, already written.
        } else if mapped == 0 {
            after_consonant = false;
        } else if !(after_consonant && out.last() == Some(&mapped)) {
            out.push(mapped);
            after_consonant = true;
        }
        i += used;
    }
    if out.len() > 1 && out.last() == Some(&b'h') {
        out.pop();
    }
    let final_i = b.len() > 2 && (b.ends_with(b"i") || b.ends_with(b"y") || b.ends_with(b"ie"));
    if final_i && !out.is_empty() {
        out.push(b'y');
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The skeleton of a Latin token whose `v` Arabic would write ف (`VICTOR`
/// فكتور), where [`skeleton`] reads it as و (Persian `MOUSAVI` موسوی).
/// `base` is the spelling before folding (which writes `w` as `v`), as
/// skeletons are read from.
pub fn skeleton_with_f(base: &str) -> Option<String> {
    base.contains('v')
        .then(|| skeleton(&base.replace('v', "f")))
}

/// Articles, genealogical particles and connectives.
pub const PARTICLES: &[&str] = &[
    "al", "and", "abu", "bin", "bint", "da", "das", "de", "del", "della", "der", "des", "di", "do",
    "dos", "du", "e", "en", "et", "for", "la", "le", "les", "of", "the", "um", "umm", "van", "von",
    "y", "zu",
];

/// Words that many unrelated organisations share.
pub const GENERIC: &[&str] = &[
    "agency",
    "airlines",
    "airways",
    "association",
    "bank",
    "center",
    "centre",
    "chemical",
    "chemicals",
    "commercial",
    "construction",
    "development",
    "electronics",
    "energy",
    "engineering",
    "enterprise",
    "enterprises",
    "equipment",
    "exchange",
    "export",
    "factory",
    "foundation",
    "general",
    "global",
    "group",
    "holding",
    "holdings",
    "import",
    "industrial",
    "industries",
    "industry",
    "institute",
    "international",
    "intl",
    "investment",
    "investments",
    "logistics",
    "machinery",
    "manufacturing",
    "marine",
    "maritime",
    "national",
    "network",
    "office",
    "oil",
    "organization",
    "organisation",
    "partners",
    "petroleum",
    "products",
    "project",
    "projects",
    "research",
    "resources",
    "services",
    "service",
    "shipping",
    "solutions",
    "supply",
    "systems",
    "tech",
    "technologies",
    "technology",
    "trade",
    "trading",
    "ventures",
];

/// Spelling and transliteration variants of the same name, mapped to one
/// canonical form (the first of each row). Kept short on purpose: each row
/// is a name commonly romanized several ways in sanctions lists; typos and
/// rarer spellings are left to the fuzzy comparison.
pub const VARIANTS: &[&[&str]] = &[
    // Arabic given names and name parts
    &[
        "muhammad",
        "mohammed",
        "mohammad",
        "mohamed",
        "mohamad",
        "muhammed",
        "muhamed",
        "muhamad",
        "mohd",
        "mohamud",
        "mohammod",
        "mouhamed",
        "mouhammad",
        "mehmet",
        "mehmed",
        "muhamet",
    ],
    &["ahmad", "ahmed", "ahmet", "achmed", "akhmed", "ahmat"],
    &[
        "husayn", "hussein", "hussain", "husain", "husein", "hossein", "hosein", "huseyin",
        "houssein", "hussien",
    ],
    &["hasan", "hassan", "hasen", "hassen"],
    &[
        "yusuf", "yousef", "yousuf", "youssef", "yusef", "yousif", "yusif", "youssouf", "yussuf",
    ],
    &["qaida", "qaeda", "qaidah", "kaida"],
    &["usama", "osama", "oussama", "ousama"],
    &["umar", "omar", "omer"],
    &["abdul", "abdel", "abdal", "abdol", "abdoul", "abdoel"],
    &["abdullah", "abdallah", "abdulla", "abdalla", "abdellah"],
    &["ibrahim", "ebrahim", "ibraheem", "ebrahem", "ibrahem"],
    &["mustafa", "mostafa", "moustafa", "mustapha", "mostapha"],
    &["mahmud", "mahmoud", "mahmood", "mahmut"],
    &["khalid", "khaled", "halid"],
    &[
        "said", "saeed", "sayed", "sayyid", "saied", "saiid", "sayid",
    ],
    &["rahman", "rehman", "rahmaan"],
    &["rahim", "raheem"],
    &["hamid", "hameed", "hamed"],
    &["mahdi", "mehdi"],
    &["jafar", "jaafar", "jaffar", "djafar"],
    &["nasir", "nasser", "naser", "nassir"],
    &[
        "sulayman", "suleiman", "sulaiman", "soleiman", "suleyman", "soliman", "sulejman",
    ],
    &["yahya", "yehia", "yahia", "yehya"],
    &["zakariya", "zakaria", "zakariyya", "zakariah", "zakariyah"],
    &["abu", "abou", "abo"],
    &["bin", "ibn"],
    &["al", "el", "ul"],
    &["ali", "aly"],
    &["salih", "saleh", "salah"],
    &["hezbollah", "hizballah", "hizbullah", "hizbollah"],
    &["taliban", "taleban"],
    &[
        "qadhafi",
        "gaddafi",
        "qaddafi",
        "kadhafi",
        "gadhafi",
        "qadhdhafi",
        "kaddafi",
    ],
    // Russian and other Slavic given names
    &[
        "aleksandr",
        "alexander",
        "aleksander",
        "alexandr",
        "oleksandr",
    ],
    &[
        "aleksei", "alexei", "alexey", "aleksey", "oleksiy", "oleksii",
    ],
    &["sergei", "sergey", "serguei", "serhiy", "serhii"],
    &[
        "evgeni", "yevgeny", "yevgeniy", "evgeny", "evgeniy", "evgenii", "yevgeni", "yevgenii",
        "evgueni",
    ],
    &["dmitri", "dmitry", "dmitriy", "dmitrii"],
    &["yuri", "yury", "yuriy", "iouri", "yurii", "iurii"],
    &["andrei", "andrey", "andriy", "andrii"],
    &["nikolai", "nikolay", "mykola"],
    &["mikhail", "michail", "mykhailo", "mikhael"],
    &["pyotr", "petr", "piotr"],
    &["fyodor", "fedor", "feodor"],
    &["vyacheslav", "viacheslav"],
    &["anatoli", "anatoly", "anatoliy", "anatolii"],
    &["vitali", "vitaly", "vitaliy", "vitalii"],
    &["valeri", "valery", "valeriy", "valerii"],
    &["grigori", "grigory", "grigoriy", "grigorii"],
    &["gennadi", "gennady", "gennadiy", "gennadii"],
    &["arkadi", "arkady", "arkadiy", "arkadii"],
    &["yakov", "iakov", "jakov"],
    &["ilya", "ilia", "ilja"],
];

fn variants() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        for row in VARIANTS {
            if let Some(first) = row.first() {
                for v in row.iter() {
                    map.insert(*v, *first);
                }
            }
        }
        map
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expected: &str) {
        let got: Vec<String> = tokens(name)
            .iter()
            .map(|t| match t.class {
                TokenClass::Form => format!("[{}]", t.base),
                _ if t.abjad => format!("{}*", t.base),
                _ => t.base.clone(),
            })
            .collect();
        assert_eq!(got.join(" "), expected, "tokens of {name:?}");
    }

    #[test]
    fn normalizes_names() {
        check("ABU MARZOOK, Mousa Mohammed", "abu marzook mousa muhammad");
        check("Kateřina  Krejčová", "katerina krejcova");
        check("AL-SHANTI, Jamileh", "al shanti jamileh");
        check("O'Neil & Sons", "oneil sons");
        check("Al Qa'ida", "al qaida");
        check("JSC ARGUMENT", "[jsc] argument");
        check("Romashka, OOO", "romashka [ooo]");
        check("Владимир Путин", "vladimir putin");
        check("Евгений Пригожин", "evgeni prigozhin");
        check("王毅", "wang yi");
        check("Zhukovskiy", "zhukovsky");
        check("محمد حسين", "muhammad husayn");
        check("محمد حسن علوان", "muhammad hasan alwn*");
        // The article is split off, particles read as the lists write them.
        check("عبد الرحمن الحسيني", "abd al rhmn* al hsyny*");
        check("أبو بكر البغدادي", "abu bkr* al bghddy*");
        check("عبدالرحمن", "abd al rhmn*");
        check("", "");
        check("  --  ", "");
        // Only form words: they count as words, the name is not empty.
        check("Company Limited", "company limited");
    }

    #[test]
    fn folding() {
        for (a, b) in [
            ("muhammad", "muhamad"),
            ("hassan", "hasan"),
            ("youssef", "yusef"),
            ("dzhamal", "jamal"),
            ("khalid", "halid"),
            ("alexei", "aleksei"),
            ("wang", "vang"),
            ("qasim", "kasim"),
            ("carlos", "karlos"),
            ("cecilia", "sesilia"),
            ("chavez", "chavez"),
            ("saeed", "said"),
            ("marzook", "marzuk"),
            ("jackson", "jakson"),
            ("1100", "1100"),
        ] {
            assert_eq!(fold(a), b, "{a}");
        }
        // Company forms are recognised before folding.
        assert_eq!(tokens("ACME CO")[1].class, TokenClass::Form);
        assert_eq!(tokens("ACME CO")[1].text, "ko");
    }

    #[test]
    fn classes_and_weights() {
        let t = tokens("Bank of J. Smith LLC");
        let classes: Vec<TokenClass> = t.iter().map(|t| t.class).collect();
        assert_eq!(
            classes,
            [
                TokenClass::Generic,
                TokenClass::Particle,
                TokenClass::Initial,
                TokenClass::Word,
                TokenClass::Form
            ]
        );
        assert_eq!(t[4].weight(), 0.0);
        assert!(!t[4].is_content());
    }

    #[test]
    fn skeletons() {
        for (token, skel) in [
            ("muhammad", "mhmt"),
            ("mohamed", "mhmt"),
            ("mhmd", "mhmt"),
            ("usama", "asm"),
            ("asmh", "asm"),
            ("amin", "amn"),
            ("ali", "aly"),
            ("gula", "jl"),
            ("mousavi", "msy"),
            ("mwswy", "msy"),
            ("dawud", "tt"),
            ("haddad", "htt"),
            ("mashhur", "mshr"),
            ("saleh", "sl"),
            ("khalil", "kll"),
            ("chouka", "sk"),
            ("husayn", "hsn"),
            ("hsyn", "hsn"),
            ("ladin", "ltn"),
            ("ldn", "ltn"),
            ("qaida", "kt"),
        ] {
            assert_eq!(skeleton(token), skel, "{token}");
        }
    }

    /// Arabic-script words read letter by letter, as `skeleton` reads their
    /// Latin spellings (tokens of the name, `-` for Latin ones).
    #[test]
    fn arabic_skeletons() {
        for (name, expected) in [
            ("صالح", "sl"),
            ("محمدی", "mhmty"),
            ("تشوكة", "sk"),
            ("زحرني", "zhrny"),
            ("دوود", "tt"),
            ("حدد", "htt"),
            ("مشحر", "mshr"),
            ("خليل", "kll"),
            ("عزيز", "azz"),
            ("الرحمن", "- rhmn"),
            ("عبد الله", "- -"),
        ] {
            let got: Vec<String> = tokens(name)
                .iter()
                .map(|t| match (&t.skeleton, t.abjad) {
                    (Some(s), true) => s.clone(),
                    _ => "-".to_owned(),
                })
                .collect();
            assert_eq!(got.join(" "), expected, "skeletons of {name:?}");
        }
        // An Arabic-script word is a legal form only as the table writes
        // one in Arabic script (`فز` is not the Latin `FZ`).
        assert_eq!(tokens("فز حسن")[0].class, TokenClass::Word);
    }

    #[test]
    fn variant_rows_do_not_overlap() {
        let mut seen = HashMap::new();
        for row in VARIANTS {
            for v in row.iter() {
                if let Some(other) = seen.insert(*v, row[0]) {
                    panic!("{v} is in the rows of {other} and {}", row[0]);
                }
                assert_eq!(v.to_ascii_lowercase(), *v, "variant {v} must be lower case");
            }
        }
    }
}
