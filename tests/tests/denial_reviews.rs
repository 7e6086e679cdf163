//! Denial reviews on real node processes, time moved through the node's
//! clock (never by sleeping): each own denial falls due for review
//! `denial_review_after_days` after its latest version; an amendment
//! restarts its clock, a revocation ends it; an overdue one shows in
//! `due-for-review`, `status` and the metrics.

use std::path::Path;
use std::time::Duration;

use anyhow::ensure;
use concord_tests::*;
use serde_json::Value;

const DAY: Duration = Duration::from_secs(86_400);

fn deny(officer: &Path, party: &str) -> String {
    issue_denial_to(officer, party, "FR")
}

fn due(officer: &Path, within: &str) -> Value {
    json_as(officer, &["denial", "due-for-review", "--within", within])
}

fn ids(list: &Value) -> Vec<String> {
    list["denials"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn denials_fall_due_for_review_and_an_amendment_or_revocation_settles_them() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let olivia = de.issue("officer", "olivia");
    let first = deny(&olivia, "Zeta Dual-Use GmbH");
    let second = deny(&olivia, "Omega Precision LLC");

    let now = due(&olivia, "30d");
    assert_eq!(now["review_after_days"], 1095, "{now:#}");
    assert!(ids(&now).is_empty(), "{now:#}");
    assert_eq!(ids(&due(&olivia, "1100d")), [first.clone(), second.clone()]);

    // Ten days before the review date, both are due within 30 days.
    de.advance_clock(DAY * 1085);
    let soon = eventually("DE's clock to move", || async {
        let d = due(&olivia, "30d");
        ensure!(ids(&d).len() == 2, "{d}");
        Ok(d)
    })
    .await
    .unwrap();
    assert!(
        soon["denials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["overdue"] == false),
        "{soon:#}"
    );

    // An amendment is a review: it restarts the clock.
    json_as(
        &olivia,
        &[
            "denial",
            "amend",
            &first,
            "--reason",
            "reviewed: the end user is still listed",
        ],
    );
    assert_eq!(ids(&due(&olivia, "30d")), std::slice::from_ref(&second));

    // Past its date, the other is overdue, in status and the metrics too.
    de.advance_clock(DAY * 20);
    let late = eventually("the second denial to be overdue", || async {
        let d = due(&olivia, "1s");
        ensure!(d["denials"][0]["overdue"] == true, "{d}");
        Ok(d)
    })
    .await
    .unwrap();
    assert_eq!(ids(&late), std::slice::from_ref(&second));
    let status = json_as(&de.admin_profile(), &["status"]);
    assert_eq!(status["denials_overdue_for_review"], 1, "{status:#}");
    assert_eq!(metric(&de, "concord_denials_review_overdue"), 1);
    let text = concord_ok(&["--profile", path_str(&de.admin_profile()), "status"]);
    assert!(text.contains("review overdue  1  !! ATTENTION"), "{text}");

    // A revocation ends it.
    json_as(
        &olivia,
        &["denial", "revoke", &second, "--reason", "reviewed: lifted"],
    );
    assert!(ids(&due(&olivia, "30d")).is_empty());
    let status = json_as(&de.admin_profile(), &["status"]);
    assert_eq!(status["denials_overdue_for_review"], 0, "{status:#}");
}
