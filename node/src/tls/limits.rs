//! Who may hold how much of the accept loop, as plain counters so the rules
//! are testable without sockets: TLS handshakes in progress (in total and per
//! source address) and established connections (in total, per certificate
//! identity, per foreign jurisdiction, with a reserve that only the node's own
//! jurisdiction may use).
//!
//! Each admission is a guard that gives its counts back when dropped. A
//! refusal names the [`Limit`] it hit; [`Limit::label`] is the `result` of
//! `concord_limits_hit`, and [`RefusalLog`] turns a flood of refusals into a
//! few log lines.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::identity::{Caller, Jurisdiction};

/// A bound a connection ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// `max_pending_handshakes`: handshakes in progress, all sources together.
    PendingHandshakes,
    /// `max_pending_handshakes_per_address`: handshakes in progress from one address.
    PendingHandshakesPerAddress,
    /// `tls_start_timeout_ms`: no complete ClientHello in time.
    TlsStartTimeout,
    /// `handshake_timeout_ms`: the handshake did not finish in time.
    HandshakeTimeout,
    /// `max_connections`: established connections, all callers together.
    Connections,
    /// `max_connections_per_identity`.
    ConnectionsPerIdentity,
    /// `max_connections_per_jurisdiction`: all identities of one foreign jurisdiction.
    ConnectionsPerJurisdiction,
    /// `reserved_connections_own_jurisdiction`: what is left is kept for the
    /// node's own jurisdiction.
    OwnJurisdictionReserve,
}

impl Limit {
    /// The `result` label of `concord_limits_hit`: the config key, without its unit.
    pub fn label(self) -> &'static str {
        match self {
            Limit::PendingHandshakes => "max_pending_handshakes",
            Limit::PendingHandshakesPerAddress => "max_pending_handshakes_per_address",
            Limit::TlsStartTimeout => "tls_start_timeout",
            Limit::HandshakeTimeout => "handshake_timeout",
            Limit::Connections => "max_connections",
            Limit::ConnectionsPerIdentity => "max_connections_per_identity",
            Limit::ConnectionsPerJurisdiction => "max_connections_per_jurisdiction",
            Limit::OwnJurisdictionReserve => "reserved_connections_own_jurisdiction",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Limit::PendingHandshakes => "too many TLS handshakes in progress; connection closed",
            Limit::PendingHandshakesPerAddress => {
                "too many TLS handshakes in progress from one address; connection closed"
            }
            Limit::TlsStartTimeout => "no TLS ClientHello in time; connection closed",
            Limit::HandshakeTimeout => "TLS handshake timed out; connection closed",
            Limit::Connections => "connection limit reached; closing",
            Limit::ConnectionsPerIdentity => "per-identity connection limit reached; closing",
            Limit::ConnectionsPerJurisdiction => {
                "per-jurisdiction connection limit reached; closing"
            }
            Limit::OwnJurisdictionReserve => {
                "only the connections reserved for the own jurisdiction are left; closing"
            }
        }
    }

    /// A slow client rather than a full node: logged at info, not warn.
    fn is_timeout(self) -> bool {
        matches!(self, Limit::TlsStartTimeout | Limit::HandshakeTimeout)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many of something each key holds; keys at zero are forgotten, so the
/// map is as large as the set of current holders.
struct Tally<K>(HashMap<K, usize>);

impl<K: Hash + Eq> Tally<K> {
    fn new() -> Self {
        Tally(HashMap::new())
    }
    fn get(&self, k: &K) -> usize {
        self.0.get(k).copied().unwrap_or(0)
    }
    fn add(&mut self, k: K) {
        *self.0.entry(k).or_insert(0) += 1;
    }
    fn remove(&mut self, k: &K) {
        if let Some(n) = self.0.get_mut(k) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.0.remove(k);
            }
        }
    }
}

/// The source a per-address bound counts: the IPv4 address (also when it
/// arrives IPv4-mapped), or the /64 prefix of an IPv6 address, since one
/// holder of a /64 can pick any address in it.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// TLS handshakes in progress.
pub struct PendingHandshakes {
    max_total: usize,
    max_per_address: usize,
    state: Mutex<PendingState>,
}

struct PendingState {
    total: usize,
    per_address: Tally<IpAddr>,
}

/// One handshake's place; given back when dropped.
pub struct PendingSlot {
    owner: Arc<PendingHandshakes>,
    source: IpAddr,
}

impl PendingHandshakes {
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<Self> {
        Arc::new(PendingHandshakes {
            max_total,
            max_per_address,
            state: Mutex::new(PendingState {
                total: 0,
                per_address: Tally::new(),
            }),
        })
    }

    /// A place for a handshake from `remote`, or the bound that refuses it.
    /// The per-address bound is checked first, so one source flooding is
    /// named as such, and cannot fill the total on its own.
    pub fn begin(self: &Arc<Self>, remote: IpAddr) -> Result<PendingSlot, Limit> {
        let source = source_key(remote);
        let mut state = lock(&self.state);
        if state.per_address.get(&source) >= self.max_per_address {
            return Err(Limit::PendingHandshakesPerAddress);
        }
        if state.total >= self.max_total {
            return Err(Limit::PendingHandshakes);
        }
        state.total += 1;
        state.per_address.add(source);
        Ok(PendingSlot {
            owner: self.clone(),
            source,
        })
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut state = lock(&self.owner.state);
        state.total = state.total.saturating_sub(1);
        state.per_address.remove(&self.source);
    }
}

/// Bounds on established (authenticated) connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionBounds {
    pub max_total: usize,
    pub max_per_identity: usize,
    /// Every foreign jurisdiction's identities together; the node's own
    /// jurisdiction is bounded by `max_total` only.
    pub max_per_jurisdiction: usize,
    /// Of `max_total`, this many only the node's own jurisdiction may use:
    /// foreign jurisdictions together hold at most `max_total - reserved_own`.
    pub reserved_own: usize,
}

/// Established connections by caller.
pub struct Connections {
    own: Jurisdiction,
    bounds: ConnectionBounds,
    state: Mutex<ConnectionState>,
}

struct ConnectionState {
    total: usize,
    foreign: usize,
    per_identity: Tally<Caller>,
    per_jurisdiction: Tally<Jurisdiction>,
}

/// One connection's hold on every count it was admitted under; given back
/// when the connection closes.
pub struct ConnectionSlot {
    owner: Arc<Connections>,
    caller: Caller,
}

impl Connections {
    pub fn new(own: Jurisdiction, bounds: ConnectionBounds) -> Arc<Self> {
        Arc::new(Connections {
            own,
            bounds,
            state: Mutex::new(ConnectionState {
                total: 0,
                foreign: 0,
                per_identity: Tally::new(),
                per_jurisdiction: Tally::new(),
            }),
        })
    }

    /// Admits a connection of `caller`, or names the bound it would break.
    pub fn admit(self: &Arc<Self>, caller: &Caller) -> Result<ConnectionSlot, Limit> {
        let b = self.bounds;
        let foreign = caller.jurisdiction != self.own;
        let mut state = lock(&self.state);
        if state.total >= b.max_total {
            return Err(Limit::Connections);
        }
        if state.per_identity.get(caller) >= b.max_per_identity {
            return Err(Limit::ConnectionsPerIdentity);
        }
        if foreign {
            if state.per_jurisdiction.get(&caller.jurisdiction) >= b.max_per_jurisdiction {
                return Err(Limit::ConnectionsPerJurisdiction);
            }
            if state.foreign >= b.max_total.saturating_sub(b.reserved_own) {
                return Err(Limit::OwnJurisdictionReserve);
            }
            state.foreign += 1;
            state.per_jurisdiction.add(caller.jurisdiction.clone());
        }
        state.total += 1;
        state.per_identity.add(caller.clone());
        Ok(ConnectionSlot {
            owner: self.clone(),
            caller: caller.clone(),
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let foreign = self.caller.jurisdiction != self.owner.own;
        let mut state = lock(&self.owner.state);
        state.total = state.total.saturating_sub(1);
        state.per_identity.remove(&self.caller);
        if foreign {
            state.foreign = state.foreign.saturating_sub(1);
            state.per_jurisdiction.remove(&self.caller.jurisdiction);
        }
    }
}

/// Logs refusals without letting a flood write one line per connection:
/// the first refusal of each limit at once, then at most one line per
/// `every`, carrying how many refusals of that limit went unlogged since.
pub struct RefusalLog {
    every: Duration,
    /// Per limit: when its last line was written, and refusals since.
    state: Mutex<HashMap<Limit, (Instant, u64)>>,
}

impl RefusalLog {
    pub const EVERY: Duration = Duration::from_secs(5);

    pub fn new(every: Duration) -> Self {
        RefusalLog {
            every,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a refusal at `now` gets a line; if so, how many refusals of
    /// the same limit went unlogged before it.
    fn due(&self, limit: Limit, now: Instant) -> Option<u64> {
        let mut state = lock(&self.state);
        match state.get_mut(&limit) {
            Some((last, unlogged)) if now.saturating_duration_since(*last) < self.every => {
                *unlogged += 1;
                None
            }
            Some((last, unlogged)) => {
                let n = *unlogged;
                (*last, *unlogged) = (now, 0);
                Some(n)
            }
            None => {
                state.insert(limit, (now, 0));
                Some(0)
            }
        }
    }

    /// Records one refusal of a connection from `remote` (by `caller`, once
    /// the handshake told who it is).
    pub fn refused(&self, limit: Limit, remote: SocketAddr, caller: Option<&Caller>) {
        let Some(unlogged) = self.due(limit, Instant::now()) else {
            return;
        };
        let caller = caller.map(tracing::field::display);
        let limit_name = limit.label();
        if limit.is_timeout() {
            tracing::info!(
                %remote,
                caller,
                limit = limit_name,
                refused_since_last_line = unlogged,
                "{}",
                limit.describe()
            );
        } else {
            tracing::warn!(
                %remote,
                caller,
                limit = limit_name,
                refused_since_last_line = unlogged,
                "{}",
                limit.describe()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(uri: &str) -> Caller {
        uri.parse().unwrap()
    }

    /// Admits each caller of `steps` in order, holding every admission, and
    /// compares what happened with `expected` (`None`: admitted).
    fn check(bounds: ConnectionBounds, steps: &[(&str, Option<Limit>)]) {
        let connections = Connections::new("DE".parse().unwrap(), bounds);
        let mut held = Vec::new();
        for (i, (uri, expected)) in steps.iter().enumerate() {
            let got = connections.admit(&caller(uri)).map(|slot| held.push(slot));
            assert_eq!(got.err(), *expected, "step {i}: {uri}");
        }
    }

    const BOUNDS: ConnectionBounds = ConnectionBounds {
        max_total: 6,
        max_per_identity: 2,
        max_per_jurisdiction: 3,
        reserved_own: 2,
    };

    #[test]
    fn a_foreign_jurisdiction_is_capped_whatever_names_its_ca_mints() {
        check(
            BOUNDS,
            &[
                ("concord://FR/node/a", None),
                ("concord://FR/node/a", None),
                ("concord://FR/node/a", Some(Limit::ConnectionsPerIdentity)),
                ("concord://FR/node/b", None),
                (
                    "concord://FR/node/c",
                    Some(Limit::ConnectionsPerJurisdiction),
                ),
                ("concord://JP/node/a", None),
                // Four foreign connections: the other two are the reserve.
                ("concord://JP/node/b", Some(Limit::OwnJurisdictionReserve)),
                ("concord://DE/admin/root", None),
                ("concord://DE/analyst/ana", None),
                ("concord://DE/analyst/bob", Some(Limit::Connections)),
            ],
        );
    }

    #[test]
    fn the_own_jurisdiction_may_use_the_whole_total() {
        check(
            BOUNDS,
            &[
                ("concord://DE/analyst/a", None),
                ("concord://DE/analyst/b", None),
                ("concord://DE/analyst/c", None),
                ("concord://DE/analyst/d", None),
                ("concord://DE/analyst/e", None),
                ("concord://DE/analyst/f", None),
                ("concord://DE/analyst/g", Some(Limit::Connections)),
                ("concord://FR/node/a", Some(Limit::Connections)),
            ],
        );
        // The reserve caps what foreign jurisdictions hold together; it does
        // not keep them out of places the own jurisdiction leaves free.
        check(
            BOUNDS,
            &[
                ("concord://DE/analyst/a", None),
                ("concord://DE/analyst/b", None),
                ("concord://DE/analyst/c", None),
                ("concord://DE/analyst/d", None),
                ("concord://DE/analyst/e", None),
                ("concord://FR/node/a", None),
                ("concord://DE/analyst/f", Some(Limit::Connections)),
            ],
        );
    }

    #[test]
    fn closed_connections_give_every_count_back() {
        let connections = Connections::new("DE".parse().unwrap(), BOUNDS);
        let fr = caller("concord://FR/node/a");
        for _ in 0..10 {
            let a = connections.admit(&fr).unwrap();
            let b = connections.admit(&fr).unwrap();
            drop((a, b));
        }
        let state = lock(&connections.state);
        assert_eq!((state.total, state.foreign), (0, 0));
        assert!(state.per_identity.0.is_empty() && state.per_jurisdiction.0.is_empty());
    }

    #[test]
    fn one_source_cannot_take_every_pending_handshake() {
        let pending = PendingHandshakes::new(4, 2);
        let flooder: IpAddr = "127.0.0.2".parse().unwrap();
        let a = pending.begin(flooder).unwrap();
        let _b = pending.begin(flooder).unwrap();
        assert_eq!(
            pending.begin(flooder).err(),
            Some(Limit::PendingHandshakesPerAddress)
        );
        // Another source still gets in, until the total is reached.
        let other: IpAddr = "127.0.0.1".parse().unwrap();
        let _c = pending.begin(other).unwrap();
        let _d = pending.begin("10.0.0.9".parse().unwrap()).unwrap();
        assert_eq!(pending.begin(other).err(), Some(Limit::PendingHandshakes));
        drop(a);
        assert!(pending.begin(flooder).is_ok());
    }

    #[test]
    fn sources_are_addresses_and_ipv6_prefixes() {
        let key = |s: &str| source_key(s.parse().unwrap()).to_string();
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), key("2001:db8:1:2::5"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn a_flood_of_refusals_is_logged_now_and_then_with_a_count() {
        let log = RefusalLog::new(Duration::from_secs(5));
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let limit = Limit::PendingHandshakesPerAddress;
        assert_eq!(log.due(limit, at(0)), Some(0));
        for ms in 1..=300 {
            assert_eq!(log.due(limit, at(ms)), None);
        }
        // Another limit has its own first line.
        assert_eq!(log.due(Limit::Connections, at(10)), Some(0));
        assert_eq!(log.due(limit, at(5_000)), Some(300));
        assert_eq!(log.due(limit, at(5_001)), None);
    }
}
