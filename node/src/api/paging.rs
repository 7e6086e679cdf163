//! Byte-bounded pages for listings that are built whole in memory (the
//! licensing lists, the catalog, consultations): however many items match,
//! one response holds at most [`PAGE_BYTES`] of them, encoded (always at
//! least one), and a `next_page_token` naming the last item returned. The
//! caller sends the same request again with the token until it is empty.

use crate::error::Error;

/// Most bytes of encoded items in one listing response, well below the
/// smallest `limits.max_message_bytes` (`config::MIN_MESSAGE_BYTES`).
pub const PAGE_BYTES: usize = 1024 * 1024;

/// The page of `items` (in the listing's order) after the item `token`
/// names, and the token of the next page (empty on the last). `key` names
/// an item uniquely within the listing.
pub fn page<T: prost::Message>(
    items: Vec<T>,
    token: &str,
    key: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, String), Error> {
    page_within(items, token, key, PAGE_BYTES)
}

/// `items` in order, cut into runs of at most [`PAGE_BYTES`] encoded (each
/// run at least one item): the messages of a streamed listing.
pub fn chunks<T: prost::Message>(items: Vec<T>) -> Vec<Vec<T>> {
    chunks_within(items, PAGE_BYTES)
}

fn chunks_within<T: prost::Message>(items: Vec<T>, budget: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut used = 0usize;
    for item in items {
        let cost = item.encoded_len();
        match out.last_mut() {
            Some(run) if used + cost <= budget => run.push(item),
            _ => {
                out.push(vec![item]);
                used = 0;
            }
        }
        used += cost;
    }
    out
}

fn page_within<T: prost::Message>(
    items: Vec<T>,
    token: &str,
    key: impl Fn(&T) -> &str,
    budget: usize,
) -> Result<(Vec<T>, String), Error> {
    let start = if token.is_empty() {
        0
    } else {
        let after = hex::decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                Error::InvalidArgument("page_token: not a token this node returned".into())
            })?;
        items
            .iter()
            .position(|i| key(i) == after)
            .map(|p| p + 1)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "page_token: {after:?} is no longer in this listing; list again from the start"
                ))
            })?
    };
    let mut out = Vec::new();
    let mut used = 0usize;
    let mut rest = items.into_iter().skip(start).peekable();
    while let Some(item) = rest.next_if(|i| out.is_empty() || used + i.encoded_len() <= budget) {
        used += item.encoded_len();
        out.push(item);
    }
    let next = match (rest.peek(), out.last()) {
        (Some(_), Some(last)) => hex::encode(key(last)),
        _ => String::new(),
    };
    Ok((out, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_proto::v1 as pb;

    fn party(id: &str, bytes: usize) -> pb::PartyRecord {
        pb::PartyRecord {
            id: id.into(),
            name: "n".repeat(bytes),
            ..Default::default()
        }
    }

    #[test]
    fn pages_hold_what_fits_and_resume_after_the_last() {
        let all: Vec<pb::PartyRecord> = (0..7).map(|i| party(&format!("P-{i}"), 90)).collect();
        let (mut seen, mut token, mut pages) = (Vec::new(), String::new(), 0);
        loop {
            let (items, next) = page_within(all.clone(), &token, |p| &p.id, 250).unwrap();
            assert!(!items.is_empty() && items.len() <= 2, "{}", items.len());
            seen.extend(items.into_iter().map(|p| p.id));
            pages += 1;
            if next.is_empty() {
                break;
            }
            token = next;
        }
        assert_eq!(pages, 4);
        let ids: Vec<String> = all.iter().map(|p| p.id.clone()).collect();
        assert_eq!(seen, ids);
        // An item larger than the budget still comes, alone.
        let (items, next) = page_within(all.clone(), "", |p| &p.id, 10).unwrap();
        assert_eq!((items.len(), next.is_empty()), (1, false));
        // Streamed: the same runs, every item once.
        let runs = chunks_within(all.clone(), 250);
        assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2, 1]);
        assert!(chunks_within(Vec::<pb::PartyRecord>::new(), 250).is_empty());
        // Tokens of vanished items and made-up tokens are refused.
        for bad in [hex::encode("P-99"), "zz".into()] {
            let err = page_within(all.clone(), &bad, |p| &p.id, 250).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        }
    }
}
