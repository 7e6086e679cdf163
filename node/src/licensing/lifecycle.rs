//! The license lifecycle as a pure state machine:
//!
//! ```text
//! submitted --review--> under-review --approve--> approved --revoke--> revoked
//!                                    --deny-----> denied --appeal--> appealed --uphold---> appeal-upheld
//!                                    --return---> returned                    --overturn-> appeal-overturned
//!                                                 returned --resubmit--> submitted
//! ```
//!
//! `amend` changes an application's terms in `submitted`, `under-review` or
//! `returned` and leaves its state as it is. `submit` creates a license and
//! is never a transition. An approved licence past its validity is shown as
//! `expired` (derived from its terms, never stored) and allows nothing.
//! Every state not listed on the left of an arrow is final.

use crate::error::Error;
use crate::kebab::kebab_enum;

kebab_enum!(
    LicenseState {
        Submitted = "submitted",
        UnderReview = "under-review",
        Approved = "approved",
        Denied = "denied",
        Returned = "returned",
        Appealed = "appealed",
        AppealUpheld = "appeal-upheld",
        AppealOverturned = "appeal-overturned",
        Revoked = "revoked",
        Expired = "expired",
    }
);

kebab_enum!(
    /// What an officer does to a license.
    LicenseAction {
        Submit = "submit",
        Review = "review",
        Approve = "approve",
        Deny = "deny",
        Return = "return",
        Appeal = "appeal",
        Uphold = "uphold",
        Overturn = "overturn",
        Revoke = "revoke",
        Amend = "amend",
        Resubmit = "resubmit",
    }
);

impl LicenseAction {
    /// The audit trail's verb for this action.
    pub fn audit_action(self) -> &'static str {
        match self {
            LicenseAction::Submit => "license.submit",
            LicenseAction::Review => "license.review",
            LicenseAction::Approve | LicenseAction::Deny | LicenseAction::Return => {
                "license.decide"
            }
            LicenseAction::Appeal => "license.appeal",
            LicenseAction::Uphold | LicenseAction::Overturn => "license.appeal-decide",
            LicenseAction::Revoke => "license.revoke",
            LicenseAction::Amend => "license.amend",
            LicenseAction::Resubmit => "license.resubmit",
        }
    }

    /// Decisions record the waivers matching the application when made.
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            LicenseAction::Approve
                | LicenseAction::Deny
                | LicenseAction::Return
                | LicenseAction::Uphold
                | LicenseAction::Overturn
                | LicenseAction::Revoke
        )
    }
}

/// The state `action` leads to from `state`, or None when it is not allowed there.
pub fn next(state: LicenseState, action: LicenseAction) -> Option<LicenseState> {
    use LicenseAction as A;
    use LicenseState as S;
    match (state, action) {
        (S::Submitted, A::Review) => Some(S::UnderReview),
        (S::UnderReview, A::Approve) => Some(S::Approved),
        (S::UnderReview, A::Deny) => Some(S::Denied),
        (S::UnderReview, A::Return) => Some(S::Returned),
        (S::Denied, A::Appeal) => Some(S::Appealed),
        (S::Appealed, A::Uphold) => Some(S::AppealUpheld),
        (S::Appealed, A::Overturn) => Some(S::AppealOverturned),
        (S::Approved, A::Revoke) => Some(S::Revoked),
        (S::Submitted | S::UnderReview | S::Returned, A::Amend) => Some(state),
        (S::Returned, A::Resubmit) => Some(S::Submitted),
        _ => None,
    }
}

/// The actions allowed in `state`.
pub fn allowed(state: LicenseState) -> Vec<LicenseAction> {
    LicenseAction::ALL
        .iter()
        .copied()
        .filter(|a| next(state, *a).is_some())
        .collect()
}

/// `next`, as the error a caller sees for an illegal transition.
pub fn transition(
    id: &str,
    state: LicenseState,
    action: LicenseAction,
) -> Result<LicenseState, Error> {
    next(state, action).ok_or_else(|| {
        let allowed: Vec<&str> = allowed(state).iter().map(|a| a.as_str()).collect();
        let now = if allowed.is_empty() {
            "nothing; the license is closed".to_owned()
        } else {
            allowed.join(", ")
        };
        Error::FailedPrecondition(format!(
            "license {id} is {state}; cannot {action} it (allowed now: {now})"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use LicenseAction as A;
    use LicenseState as S;

    /// Every legal transition; anything else must be refused.
    const LEGAL: &[(S, A, S)] = &[
        (S::Submitted, A::Review, S::UnderReview),
        (S::UnderReview, A::Approve, S::Approved),
        (S::UnderReview, A::Deny, S::Denied),
        (S::UnderReview, A::Return, S::Returned),
        (S::Denied, A::Appeal, S::Appealed),
        (S::Appealed, A::Uphold, S::AppealUpheld),
        (S::Appealed, A::Overturn, S::AppealOverturned),
        (S::Approved, A::Revoke, S::Revoked),
        (S::Submitted, A::Amend, S::Submitted),
        (S::UnderReview, A::Amend, S::UnderReview),
        (S::Returned, A::Amend, S::Returned),
        (S::Returned, A::Resubmit, S::Submitted),
    ];

    fn check(state: S, action: A, expected: Option<S>) {
        let got = transition("DE-L-1", state, action);
        match expected {
            Some(to) => assert_eq!(got.ok(), Some(to), "{state} --{action}-->"),
            None => match got {
                Err(Error::FailedPrecondition(m)) => {
                    assert!(
                        m.contains(state.as_str()) && m.contains(action.as_str()),
                        "{m}"
                    );
                }
                other => panic!("{state} --{action}--> should be refused, got {other:?}"),
            },
        }
    }

    #[test]
    fn every_state_times_every_action() {
        for &state in S::ALL {
            for &action in A::ALL {
                let expected = LEGAL
                    .iter()
                    .find(|(s, a, _)| *s == state && *a == action)
                    .map(|(_, _, to)| *to);
                check(state, action, expected);
            }
        }
        // Submission is never a transition, and final states allow nothing.
        for &state in S::ALL {
            check(state, A::Submit, None);
        }
        for state in [S::AppealUpheld, S::AppealOverturned, S::Revoked, S::Expired] {
            assert!(allowed(state).is_empty(), "{state}");
        }
        // A returned application is not a dead end.
        assert_eq!(allowed(S::Returned), vec![A::Amend, A::Resubmit]);
    }

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(s.as_str().parse::<S>().unwrap(), *s);
        }
        for a in A::ALL {
            assert_eq!(a.as_str().parse::<A>().unwrap(), *a);
        }
        assert!("approved!".parse::<S>().is_err());
    }

    proptest! {
        /// Any sequence of attempted actions keeps the license in a defined
        /// state, changes it only by a legal transition, and leaves it
        /// untouched when refused.
        #[test]
        fn random_action_sequences_stay_in_defined_states(
            actions in prop::collection::vec(prop::sample::select(A::ALL.to_vec()), 0..40)
        ) {
            let mut state = S::Submitted;
            let mut history = vec![state];
            for action in actions {
                match transition("DE-L-1", state, action) {
                    Ok(to) => {
                        prop_assert!(LEGAL.contains(&(state, action, to)));
                        state = to;
                        history.push(to);
                    }
                    Err(Error::FailedPrecondition(_)) => {
                        prop_assert!(next(state, action).is_none());
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                }
                prop_assert!(S::ALL.contains(&state));
            }
            // The only way back is returned -> submitted; expired is never
            // reached by a transition (it is derived from the terms), and a
            // final state stays final.
            for pair in history.windows(2) {
                prop_assert!(pair[1] != S::Expired);
                if pair[1] == S::Submitted {
                    prop_assert!(pair[0] == S::Returned || pair[0] == S::Submitted);
                }
                if allowed(pair[0]).is_empty() {
                    prop_assert_eq!(pair[0], pair[1]);
                }
            }
        }
    }
}
