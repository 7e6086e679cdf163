//! The XML formats' common reader: quick-xml's events gathered into one
//! small element tree per record (a UN `INDIVIDUAL`, an EU
//! `sanctionEntity`), handed on and dropped, so memory holds one record at
//! a time beside the file.
//!
//! Names are local names: a namespace prefix or default namespace (the EU
//! files have one) does not change what an element is called here. Text is
//! unescaped, its runs of white space and control characters made one
//! space, and trimmed. A text or attribute longer than [`MAX_TEXT`] is cut
//! there, so it still fails the entry's length checks when it is used as a
//! field and costs nothing when it is not; a record with more than
//! [`MAX_ELEMENTS`] elements is reported instead of read.
//!
//! [`parse_list`] is what the UN and EU lists share around their entries.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{Lines, Parsed};
use crate::screening::entry::{WatchlistEntry, MAX_NAME};

/// Longest text kept of one element or attribute: past any field limit.
pub const MAX_TEXT: usize = 4 * MAX_NAME;
/// Most elements in one record (a UN entry has a few dozen).
pub const MAX_ELEMENTS: usize = 20_000;

/// One element: its local name, attributes, text and children.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The attribute called `name` (local name), or "".
    pub fn attr(&self, name: &str) -> &str {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Children called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child called `name`, or "".
    pub fn text_of(&self, name: &str) -> &str {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map_or("", |c| c.text.as_str())
    }
}

/// What a pass over a document found besides its records.
#[derive(Debug)]
pub struct Outline {
    /// Local name of the root element ("" if there is none).
    pub root: String,
}

/// A record that could not be read, and why.
#[derive(Debug)]
pub struct Unreadable {
    pub line: u64,
    pub reason: String,
}

/// Which XML list a file is meant to be: its records' element names, its
/// root element, and what it is called when a file is not one.
pub struct ListFormat {
    pub is_record: fn(&str) -> bool,
    pub root: &'static str,
    /// As in "not a UN consolidated list".
    pub called: &'static str,
}

/// The ids an XML list's entries were read under, each with its line.
pub type SeenIds = HashMap<String, u64>;

/// Reads an XML list: `entry` makes each record into an entry (or reports
/// it in `parsed` and makes none), and the entries made are validated. A
/// file whose root is another element and that yields no entry is not of
/// this format, and is reported so.
pub fn parse_list(
    file: &str,
    bytes: &[u8],
    format: &ListFormat,
    entry: fn(&str, u64, &Element, &mut Parsed, &mut SeenIds) -> Option<WatchlistEntry>,
) -> Parsed {
    let mut parsed = Parsed::default();
    let mut entries = Vec::new();
    let mut lines = Vec::new();
    let mut by_id = SeenIds::new();
    let mut too_big = Vec::new();
    let outline = records(
        bytes,
        format.is_record,
        |line, r| {
            if let Some(e) = entry(file, line, &r, &mut parsed, &mut by_id) {
                entries.push(e);
                lines.push(line);
            }
        },
        |u| too_big.push(u),
    );
    for u in too_big {
        parsed.malformed(file, u.line, u.reason);
    }
    match outline {
        Ok(o) if o.root != format.root && entries.is_empty() => parsed.malformed(
            file,
            1,
            format!("not {}: root element is {:?}", format.called, o.root),
        ),
        Ok(_) => {}
        Err(u) => parsed.malformed(file, u.line, u.reason),
    }
    parsed.entries = entries;
    parsed.validate(file, &lines);
    parsed
}

/// Calls `record(line, element)` for each element whose local name
/// `is_record` accepts, wherever it is (records are not looked for inside
/// records). Stops at the first XML error, which is returned with its line
/// after every record before it was handed on; a record over
/// [`MAX_ELEMENTS`] is passed to `too_big` and skipped.
pub fn records(
    bytes: &[u8],
    is_record: impl Fn(&str) -> bool,
    mut record: impl FnMut(u64, Element),
    mut too_big: impl FnMut(Unreadable),
) -> Result<Outline, Unreadable> {
    let text = as_text(bytes);
    let mut lines = Lines::new(text.as_bytes());
    let mut reader = Reader::from_str(&text);
    let mut outline = Outline {
        root: String::new(),
    };
    // The record being read: its start line, element count, open elements.
    let mut open: Vec<Element> = Vec::new();
    let mut start_line = 0;
    let mut count = 0usize;
    let mut oversized = false;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| Unreadable {
            line: lines.at(reader.error_position()),
            reason: format!("unreadable XML: {e}"),
        })?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(s) | Event::Empty(s) if outline.root.is_empty() => {
                outline.root = local(&s);
                // The root may itself be a record (a file of one entity).
                if is_record(&outline.root) {
                    if empty {
                        record(lines.at(at), element(&s));
                    } else {
                        start_line = lines.at(at);
                        count = 1;
                        oversized = false;
                        open.push(element(&s));
                    }
                }
            }
            Event::Start(s) => {
                if !open.is_empty() {
                    count += 1;
                    oversized |= count > MAX_ELEMENTS;
                    open.push(if oversized {
                        Element::default()
                    } else {
                        element(&s)
                    });
                } else if is_record(&local(&s)) {
                    start_line = lines.at(at);
                    count = 1;
                    oversized = false;
                    open.push(element(&s));
                }
            }
            Event::Empty(s) => {
                if let Some(parent) = open.last_mut() {
                    count += 1;
                    oversized |= count > MAX_ELEMENTS;
                    if !oversized {
                        parent.children.push(element(&s));
                    }
                } else if is_record(&local(&s)) {
                    record(lines.at(at), element(&s));
                }
            }
            Event::End(_) => {
                if let Some(done) = open.pop() {
                    match open.last_mut() {
                        Some(parent) if !oversized => parent.children.push(done),
                        Some(_) => {}
                        None if oversized => too_big(Unreadable {
                            line: start_line,
                            reason: format!(
                                "{}: more than {MAX_ELEMENTS} elements; not read",
                                done.name
                            ),
                        }),
                        None => record(start_line, finish(done)),
                    }
                }
            }
            Event::Text(t) => {
                if let Some(e) = open.last_mut() {
                    let t = t.xml_content(quick_xml::XmlVersion::Implicit1_0);
                    push_text(&mut e.text, &t.unwrap_or(Cow::Borrowed("")));
                }
            }
            Event::CData(t) => {
                if let Some(e) = open.last_mut() {
                    push_text(&mut e.text, &String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(e) = open.last_mut() {
                    let name = String::from_utf8_lossy(&r).into_owned();
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => quick_xml::escape::resolve_predefined_entity(&name)
                            .map_or_else(|| format!("&{name};"), str::to_owned),
                    };
                    push_text(&mut e.text, &resolved);
                }
            }
            Event::Eof => return Ok(outline),
            _ => {}
        }
    }
}

/// The document as text: UTF-8, or Latin-1 when it is not valid UTF-8; a
/// leading byte-order mark dropped.
fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()),
    }
}

fn local(s: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(s.local_name().as_ref()).into_owned()
}

fn element(s: &BytesStart<'_>) -> Element {
    let attrs = s
        .attributes()
        .flatten()
        .filter(|a| {
            let key = a.key.as_ref();
            key != b"xmlns" && !key.starts_with(b"xmlns:")
        })
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(Cow::into_owned)
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            let mut text = String::new();
            push_text(&mut text, &value);
            (key, tidy(text))
        })
        .collect();
    Element {
        name: local(s),
        attrs,
        ..Element::default()
    }
}

/// Appends `more`, keeping at most [`MAX_TEXT`] bytes (cut on a character boundary).
fn push_text(text: &mut String, more: &str) {
    let room = MAX_TEXT.saturating_sub(text.len());
    if room == 0 {
        return;
    }
    let mut end = more.len().min(room);
    while !more.is_char_boundary(end) {
        end -= 1;
    }
    text.push_str(&more[..end]);
}

/// Runs of white space and control characters as one space, trimmed.
fn tidy(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Tidies the text of a finished record, recursively.
fn finish(mut e: Element) -> Element {
    let mut stack = vec![&mut e];
    while let Some(e) = stack.pop() {
        e.text = tidy(std::mem::take(&mut e.text));
        stack.extend(e.children.iter_mut());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(xml: &str, name: &str) -> (Vec<(u64, Element)>, Result<Outline, Unreadable>) {
        let mut out = Vec::new();
        let r = records(
            xml.as_bytes(),
            |n| n == name,
            |l, e| out.push((l, e)),
            |_| {},
        );
        (out, r)
    }

    #[test]
    fn records_with_lines_namespaces_and_entities() {
        let xml = "<?xml version=\"1.0\"?>\n<x:export xmlns:x=\"urn:a\" xmlns=\"urn:b\">\n  <x:rec id=\"1\" x:kind=\"a &amp; b\">\n    <n>  A &amp; B\n  &#x41;&lt;</n><n><![CDATA[C<D]]></n>\n  </x:rec>\n  <rec id=\"2\"/>\n</x:export>\n";
        let (recs, outline) = collect(xml, "rec");
        assert_eq!(outline.unwrap().root, "export");
        assert_eq!(recs.len(), 2);
        let (line, r) = &recs[0];
        assert_eq!(*line, 3);
        assert_eq!((r.attr("id"), r.attr("kind")), ("1", "a & b"));
        let names: Vec<&str> = r.all("n").map(|n| n.text.as_str()).collect();
        assert_eq!(names, ["A & B A<", "C<D"]);
        assert_eq!((recs[1].0, recs[1].1.attr("id")), (7, "2"));
    }

    #[test]
    fn an_error_says_where_after_the_records_before_it() {
        let (recs, r) = collect("<a>\n<rec/>\n<rec>\n</a>", "rec");
        assert_eq!(recs.len(), 1);
        let err = r.unwrap_err();
        assert_eq!(err.line, 4, "{}", err.reason);
        assert!(err.reason.starts_with("unreadable XML"), "{}", err.reason);
    }

    #[test]
    fn huge_text_is_cut_and_huge_records_are_refused() {
        let xml = format!("<a><rec><n>{}</n></rec></a>", "x".repeat(10 * MAX_TEXT));
        let (recs, _) = collect(&xml, "rec");
        assert_eq!(recs[0].1.text_of("n").len(), MAX_TEXT);

        let xml = format!(
            "<a><rec>{}</rec><rec/></a>",
            "<n/>".repeat(MAX_ELEMENTS + 1)
        );
        let mut refused = Vec::new();
        let mut kept = 0;
        records(
            xml.as_bytes(),
            |n| n == "rec",
            |_, _| kept += 1,
            |u| refused.push(u),
        )
        .unwrap();
        assert_eq!(kept, 1);
        assert_eq!(refused.len(), 1);
        assert!(
            refused[0].reason.contains("more than"),
            "{}",
            refused[0].reason
        );
    }
}
