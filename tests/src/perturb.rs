//! Perturbations of sanctions-list names shared by the screening quality test
//! (`tests/screening_quality.rs`) and the screening benchmark
//! (`examples/screening_bench.rs`): splitting, joining and transliterating
//! are defined once, so the Cyrillic and joined-word floors and the
//! benchmark's figures measure the same thing. (Typos and reorderings still
//! differ: the test's are fixed edits its floors were set on, the
//! benchmark's random ones.)
//!
//! Randomness comes in as `below(n)`, a number in `0..n`, rather than as a
//! generator: each caller keeps its own seeded generator, because its floors
//! or published figures were measured on that exact stream.

/// Words of a name as written (punctuation kept inside words, commas dropped).
pub fn words(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Two neighbouring words run together, as when a space is lost; None for a
/// single word.
pub fn joined(name: &str, mut below: impl FnMut(usize) -> usize) -> Option<String> {
    let mut w = words(name);
    if w.len() < 2 {
        return None;
    }
    let i = below(w.len() - 1);
    let next = w.remove(i + 1);
    w[i].push_str(&next);
    Some(w.join(" "))
}

/// The name in capitals, rewritten into another script by `table`; what the
/// table lacks is kept. At each position the first entry that matches wins,
/// so a table lists digraphs before their single letters.
pub fn transliterate(name: &str, table: &[(&str, &str)]) -> String {
    let upper = name.to_uppercase();
    let mut out = String::new();
    let mut rest = upper.as_str();
    'next: while !rest.is_empty() {
        for (from, to) in table {
            if let Some(r) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = r;
                continue 'next;
            }
        }
        let mut chars = rest.chars();
        out.extend(chars.next());
        rest = chars.as_str();
    }
    out
}

/// Latin capitals to Cyrillic, digraphs first: how a Russian-language
/// document would spell a listed name.
pub const CYRILLIC: &[(&str, &str)] = &[
    ("SHCH", "Щ"),
    ("ZH", "Ж"),
    ("KH", "Х"),
    ("TS", "Ц"),
    ("CH", "Ч"),
    ("SH", "Ш"),
    ("YU", "Ю"),
    ("YA", "Я"),
    ("YE", "Е"),
    ("A", "А"),
    ("B", "Б"),
    ("V", "В"),
    ("G", "Г"),
    ("D", "Д"),
    ("E", "Е"),
    ("Z", "З"),
    ("I", "И"),
    ("Y", "Й"),
    ("K", "К"),
    ("L", "Л"),
    ("M", "М"),
    ("N", "Н"),
    ("O", "О"),
    ("P", "П"),
    ("R", "Р"),
    ("S", "С"),
    ("T", "Т"),
    ("U", "У"),
    ("F", "Ф"),
    ("C", "К"),
    ("Q", "К"),
    ("W", "В"),
    ("X", "КС"),
    ("J", "Дж"),
    ("H", "Х"),
];

/// The name as an Arabic-language document would write it: the article
/// `AL-` attached to the next word (`ال`), long vowels and diphthongs
/// written (`OU`, `EE`, `AY` → و, ي), single short vowels left out (`HASAN`
/// → حسن), doubled letters written once, a final `-A`/`-AH` as tā marbūṭa
/// (ة), a vowel opening a word as alif (ا). Latin letters without an Arabic
/// one take the nearest (P → ب, V → ف, G → ج, X → كس).
///
/// Common Arabic given names and name parts are written as Arabic writers
/// spell them ([`ARABIC_SPELLINGS`]: `ALI` → علي, not الي; `SALEH` → صالح,
/// with its emphatic ṣād; `ABDUL AZIZ` → عبد العزيز), since no writer
/// spells those letter by letter from the Latin. The table holds the
/// Arabic spelling only, as a dictionary would; how the matcher reads it is
/// not the perturbation's business, and most of its words are not in the
/// matcher's own table (`normalize::ARABIC_WORDS`).
pub fn arabic(name: &str) -> String {
    let upper = name.to_uppercase();
    let mut words: Vec<String> = upper
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut article = false;
    for w in words.drain(..) {
        if (w == "AL" || w == "EL") && !article {
            article = true;
            continue;
        }
        // `ABDUL AZIZ`, `ABDEL-RAHMAN`: ʿabd and the article of the next word.
        if matches!(w.as_str(), "ABDUL" | "ABDEL" | "ABDAL" | "ABDOL") && !article {
            out.push("عبد".to_owned());
            article = true;
            continue;
        }
        let spelled = ARABIC_SPELLINGS
            .iter()
            .find(|(latin, _)| latin.split('/').any(|l| l == w))
            .map(|(_, a)| (*a).to_owned());
        let mut a = spelled.unwrap_or_else(|| arabic_word(&w));
        if article {
            a = format!("ال{a}");
            article = false;
        }
        out.push(a);
    }
    if article {
        out.push("ال".to_owned());
    }
    out.join(" ")
}

/// Latin spellings (separated by `/`) of common Arabic names and name
/// parts, and their usual Arabic spelling.
pub const ARABIC_SPELLINGS: &[(&str, &str)] = &[
    ("ALI/ALY", "علي"),
    ("ABD", "عبد"),
    ("ABDULLAH/ABDALLAH/ABDULLA", "عبد الله"),
    ("ABU/ABOU/ABO", "أبو"),
    ("UMM/UM", "أم"),
    (
        "MUHAMMAD/MOHAMMED/MOHAMMAD/MOHAMED/MOHAMAD/MUHAMMED/MUHAMED",
        "محمد",
    ),
    ("AHMAD/AHMED", "أحمد"),
    ("MAHMUD/MAHMOUD", "محمود"),
    ("HASAN/HASSAN", "حسن"),
    ("HUSAYN/HUSSEIN/HUSAIN/HUSSAIN/HUSEIN", "حسين"),
    ("UMAR/OMAR", "عمر"),
    ("UTHMAN/OTHMAN/OSMAN", "عثمان"),
    ("IBRAHIM/EBRAHIM", "إبراهيم"),
    ("ISMAIL", "إسماعيل"),
    ("YUSUF/YOUSEF/YOUSSEF/YUSIF/YOUSIF", "يوسف"),
    ("MUSA/MOUSA", "موسى"),
    ("ISA/EISSA", "عيسى"),
    ("SALIH/SALEH/SALAH", "صالح"),
    ("SAID/SAEED/SAYID", "سعيد"),
    ("SAAD/SAD", "سعد"),
    ("KHALID/KHALED", "خالد"),
    ("KHALIL", "خليل"),
    ("AZIZ", "عزيز"),
    ("AMIN/AMEEN", "أمين"),
    ("ANAS", "أنس"),
    ("JAMAL", "جمال"),
    ("FAYSAL/FAISAL", "فيصل"),
    ("NASIR/NASSER/NASER", "ناصر"),
    ("ABBAS", "عباس"),
    ("ADIL/ADEL", "عادل"),
    ("RASHID/RACHID", "رشيد"),
    ("HAMID", "حميد"),
    ("MAJID", "ماجد"),
    ("TARIQ/TAREK/TARIK", "طارق"),
    ("ZIYAD/ZIAD", "زياد"),
    ("IYAD", "إياد"),
    ("WALID/WALEED", "وليد"),
    ("SAMI", "سامي"),
    ("FUAD/FOUAD", "فؤاد"),
    ("NUR/NOUR", "نور"),
    ("KARIM", "كريم"),
    ("RAHIM", "رحيم"),
    ("QASIM/QASSIM/KASSEM/QASEM", "قاسم"),
    ("HAMZA/HAMZAH", "حمزة"),
    ("MUSTAFA/MOSTAFA", "مصطفى"),
    ("SULAYMAN/SULEIMAN/SULAIMAN", "سليمان"),
    ("YAHYA", "يحيى"),
    ("JAFAR/JAAFAR", "جعفر"),
    ("HAYTHAM/HAITHAM", "هيثم"),
    ("SAMIR", "سمير"),
    ("MUNIR/MONIR", "منير"),
    ("BAKR", "بكر"),
    ("SALIM/SALEM", "سالم"),
    ("SALMAN", "سلمان"),
    ("MANSUR/MANSOUR", "منصور"),
    ("YASIN/YASSIN", "ياسين"),
    ("MARWAN", "مروان"),
    ("IMAD", "عماد"),
    ("AYMAN", "أيمن"),
    ("USAMA/OSAMA", "أسامة"),
    ("TAHA", "طه"),
    ("FATIMA/FATIMAH", "فاطمة"),
    ("MARYAM/MARIAM", "مريم"),
    ("ZAYNAB/ZEINAB", "زينب"),
];

fn arabic_word(w: &str) -> String {
    if w.bytes().all(|b| b.is_ascii_digit()) {
        return w.to_owned();
    }
    const PAIRS: &[(&str, &str)] = &[
        ("SH", "ش"),
        ("KH", "خ"),
        ("TH", "ث"),
        ("DH", "ذ"),
        ("GH", "غ"),
        ("CH", "تش"),
        ("OU", "و"),
        ("OO", "و"),
        ("UU", "و"),
        ("EE", "ي"),
        ("II", "ي"),
        ("IE", "ي"),
        ("AA", "ا"),
        ("AY", "ي"),
        ("AI", "ي"),
        ("EY", "ي"),
        ("EI", "ي"),
        ("AW", "و"),
        ("AU", "و"),
    ];
    let consonant = |c: char| -> Option<&'static str> {
        Some(match c {
            'B' | 'P' => "ب",
            'T' => "ت",
            'J' | 'G' => "ج",
            'H' => "ح",
            'D' => "د",
            'R' => "ر",
            'Z' => "ز",
            'S' => "س",
            'F' | 'V' => "ف",
            'Q' => "ق",
            'K' | 'C' => "ك",
            'L' => "ل",
            'M' => "م",
            'N' => "ن",
            'W' => "و",
            'Y' => "ي",
            'X' => "كس",
            _ => return None,
        })
    };
    let chars: Vec<char> = w.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut last = ' ';
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().take(2).collect();
        let end = i + 1 == chars.len();
        if i == 0 && "AEIOU".contains(c) {
            out.push('ا');
            // `OU`, `EE` … at the start: the alif carries the long vowel too.
            let pair = PAIRS.iter().find(|(p, _)| rest == *p);
            if let Some((_, to)) = pair.filter(|(_, to)| *to != "ا") {
                out.push_str(to);
                i += 2;
            } else {
                i += 1;
            }
            last = c;
            continue;
        }
        if let Some((_, to)) = PAIRS.iter().find(|(p, _)| rest == *p) {
            out.push_str(to);
            i += 2;
            last = ' ';
            continue;
        }
        if c == last {
            i += 1;
            continue;
        }
        last = c;
        let final_ah = c == 'A' && i + 2 == chars.len() && chars[i + 1] == 'H';
        match c {
            'A' if end || final_ah => {
                out.push('ة');
                i += usize::from(final_ah);
            }
            'I' | 'Y' if end => out.push('ي'),
            'A' | 'E' | 'I' | 'O' | 'U' => {}
            _ => match consonant(c) {
                Some(a) => out.push_str(a),
                None => out.push(c),
            },
        }
        i += 1;
    }
    out
}
