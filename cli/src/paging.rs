//! Listings in pages: the node bounds each listing response in bytes and
//! hands out a `next_page_token`; `all_pages` asks again until it is empty,
//! so a listing of any size arrives whole.

use std::future::Future;

/// Calls `call(page_token)` from the first page (`""`) until the node
/// returns an empty token; the items of every page, in order.
pub async fn all_pages<T, F, Fut>(mut call: F) -> Result<Vec<T>, tonic::Status>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = call(token.clone()).await?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        if next == token {
            return Err(tonic::Status::internal(
                "the node returned the same page token twice",
            ));
        }
        token = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn follows_tokens_to_the_end() {
        let pages = |token: String| async move {
            Ok(match token.as_str() {
                "" => (vec![1, 2], "a".to_owned()),
                "a" => (vec![3], "b".to_owned()),
                _ => (vec![4], String::new()),
            })
        };
        assert_eq!(all_pages(pages).await.unwrap(), [1, 2, 3, 4]);
        let stuck = |_: String| async { Ok((vec![1], "same".to_owned())) };
        assert!(all_pages(stuck).await.is_err());
    }
}
