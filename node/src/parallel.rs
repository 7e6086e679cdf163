//! CPU-bound work split over every core with scoped threads: the few
//! whole-store passes (re-verifying every envelope, comparing names
//! against every record held, scoring a batch of applications) that would
//! otherwise use one core of the node's two.

/// `work` over `items` in one part per core (one part when there is one
/// core or fewer than `min` items), each part's result in order. A part
/// that panicked is `Err`; the caller decides what that means.
pub fn by_core<T: Sync, R: Send>(
    items: &[T],
    min: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<std::thread::Result<R>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || items.len() < min.max(2) {
        return vec![Ok(work(items))];
    }
    let per = items.len().div_ceil(cores);
    let work = &work;
    std::thread::scope(|scope| {
        let running: Vec<_> = items
            .chunks(per)
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        running.into_iter().map(|r| r.join()).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_worked_once_in_order_and_a_panic_stays_in_its_part() {
        let items: Vec<u32> = (0..1_000).collect();
        let parts = by_core(&items, 10, |part| part.to_vec());
        let joined: Vec<u32> = parts.into_iter().flat_map(|p| p.unwrap()).collect();
        assert_eq!(joined, items);
        let small = by_core(&items[..3], 10, |part| part.len());
        assert_eq!(small.len(), 1);
        // One core runs everything on the caller's thread, where a panic
        // is the caller's.
        if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
            let parts = by_core(&items, 10, |part| {
                assert!(!part.contains(&0), "injected");
                part.len()
            });
            assert_eq!(parts.iter().filter(|p| p.is_err()).count(), 1);
            assert!(parts.len() >= 2);
        }
    }
}
