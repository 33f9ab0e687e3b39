//! Sign-in and sign-up throttling: a password guess costs the guesser, not
//! the site.
//!
//! Four budgets, each over a lockout window ([`ThrottleConfig::window`]):
//! - failed sign-ins per account (the login as typed, trimmed and lower-cased;
//!   a username and its e-mail address are two budgets), as Open edX locks an
//!   account after a few failures;
//! - failed sign-ins per client address, larger, so one address cannot try
//!   many accounts;
//! - all sign-ins per client address, larger still (a school behind one NAT
//!   signs in together), so even right passwords cannot keep the two password
//!   hashers busy for everyone else;
//! - registrations per client address, and password reset requests per
//!   client address (a budget of the same size, kept apart).
//!
//! An attempt is counted *before* its password is hashed (a success is then
//! forgiven by the failure budgets), so a flood of parallel guesses is capped too, and a refused
//! request costs no hash at all. Once a budget is spent, every attempt on it
//! (the right password included) is answered `429` with `Retry-After` until
//! the lockout ends.
//!
//! State is per node and in memory, so with N nodes an attacker gets up to N
//! budgets; each table holds at most [`MAX_TRACKED`] keys (stale ones are
//! pruned first, then any unlocked one), so memory stays bounded whatever
//! the number of addresses or logins tried. IPv6 clients are counted by their
//! /64 network, which one host usually owns whole.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use lectern_app::AppError;

/// Keys kept per table (accounts, addresses, attempts, registrations).
pub const MAX_TRACKED: usize = 20_000;

/// Budgets; see the module docs.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Failed sign-ins allowed per account within the window.
    pub account_failures: u32,
    /// Failed sign-ins allowed per client address within the window.
    pub address_failures: u32,
    /// Sign-ins (right or wrong) allowed per client address within the window.
    pub address_attempts: u32,
    /// Registrations allowed per client address within the window.
    pub registrations_per_address: u32,
    /// How long failures are remembered, and how long a spent budget locks.
    pub window: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            account_failures: 6,
            address_failures: 60,
            address_attempts: 300,
            registrations_per_address: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Refused: come back after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header (at least 1).
    pub fn seconds(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }

    /// What to tell the person refused.
    pub fn message(self) -> String {
        let minutes = self.seconds().div_ceil(60);
        let when = if minutes <= 1 {
            "in a minute".to_string()
        } else {
            format!("in {minutes} minutes")
        };
        format!("Too many attempts from here or for this account. Try again {when}.")
    }

    /// Makes `resp` a 429 with `Retry-After`.
    pub fn with_header(self, mut resp: Response) -> Response {
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(self.seconds()));
        resp
    }

    /// The refusal as a page.
    pub fn page(self) -> Response {
        self.with_header(crate::pages::error_page(
            StatusCode::TOO_MANY_REQUESTS,
            &self.message(),
        ))
    }

    /// The refusal as API JSON.
    pub fn json(self) -> Response {
        self.with_header(crate::error::ApiError::with_status(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            self.message(),
        ))
    }
}

#[derive(Debug)]
struct Bucket {
    count: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

impl Bucket {
    fn stale(&self, now: Instant, window: Duration) -> bool {
        match self.locked_until {
            Some(until) => until <= now,
            None => now.duration_since(self.since) >= window,
        }
    }
}

/// One budget: counts per key within the window.
#[derive(Debug)]
struct Table {
    limit: u32,
    window: Duration,
    map: HashMap<String, Bucket>,
}

impl Table {
    fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            map: HashMap::new(),
        }
    }

    /// Counts one attempt, or says how long the key is locked.
    fn take(&mut self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        if !self.map.contains_key(key) && !self.make_room(now) {
            tracing::warn!("throttle table full of locked keys; not tracking a new one");
            return Ok(());
        }
        let window = self.window;
        let bucket = self.map.entry(key.to_string()).or_insert(Bucket {
            count: 0,
            since: now,
            locked_until: None,
        });
        if let Some(until) = bucket.locked_until.filter(|u| *u > now) {
            return Err(RetryAfter(until - now));
        }
        if bucket.stale(now, window) {
            *bucket = Bucket {
                count: 0,
                since: now,
                locked_until: None,
            };
        }
        if bucket.count >= self.limit {
            bucket.locked_until = Some(now + window);
            return Err(RetryAfter(window));
        }
        bucket.count += 1;
        Ok(())
    }

    /// Gives back one counted attempt (it succeeded).
    fn forgive(&mut self, key: &str) {
        if let Some(b) = self.map.get_mut(key) {
            b.count = b.count.saturating_sub(1);
        }
    }

    fn clear(&mut self, key: &str) {
        self.map.remove(key);
    }

    /// Ensures one more key fits; false when every key is locked.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.map.len() < MAX_TRACKED {
            return true;
        }
        let window = self.window;
        self.map.retain(|_, b| !b.stale(now, window));
        if self.map.len() < MAX_TRACKED {
            return true;
        }
        let victim = self
            .map
            .iter()
            .find(|(_, b)| b.locked_until.is_none())
            .map(|(k, _)| k.clone());
        match victim {
            Some(k) => {
                self.map.remove(&k);
                true
            }
            None => false,
        }
    }
}

/// The node's throttle state.
#[derive(Debug)]
pub struct Throttle {
    accounts: Mutex<Table>,
    addresses: Mutex<Table>,
    attempts: Mutex<Table>,
    registrations: Mutex<Table>,
    /// Password reset requests per address: each may send a mail, so a
    /// client cannot turn the site into a mail cannon.
    resets: Mutex<Table>,
}

/// A sign-in attempt that passed the throttle; report how it ended.
#[must_use]
pub struct LoginAttempt<'a> {
    throttle: &'a Throttle,
    account: String,
    address: String,
}

impl LoginAttempt<'_> {
    /// Reports how the attempt ended: a wrong password (or a deactivated
    /// account) stays counted; the right one clears the account's failures
    /// and gives the address its attempt back; any other outcome (the
    /// database was unavailable) gives every budget its attempt back.
    pub fn finish<T>(self, result: &Result<T, AppError>) {
        match result {
            Ok(_) => {
                lock(&self.throttle.accounts).clear(&self.account);
                lock(&self.throttle.addresses).forgive(&self.address);
            }
            Err(AppError::Invalid { .. } | AppError::Forbidden(_)) => {}
            Err(_) => {
                lock(&self.throttle.accounts).forgive(&self.account);
                lock(&self.throttle.addresses).forgive(&self.address);
                lock(&self.throttle.attempts).forgive(&self.address);
            }
        }
    }
}

fn lock(m: &Mutex<Table>) -> std::sync::MutexGuard<'_, Table> {
    // A panic while holding the lock leaves counts that are still usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The budget key of a client address (IPv6 by its /64).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn account_key(login: &str) -> String {
    login
        .trim()
        .chars()
        .take(254)
        .collect::<String>()
        .to_lowercase()
}

impl Throttle {
    pub fn new(config: &ThrottleConfig) -> Self {
        Self {
            accounts: Mutex::new(Table::new(config.account_failures, config.window)),
            addresses: Mutex::new(Table::new(config.address_failures, config.window)),
            attempts: Mutex::new(Table::new(config.address_attempts, config.window)),
            registrations: Mutex::new(Table::new(config.registrations_per_address, config.window)),
            resets: Mutex::new(Table::new(config.registrations_per_address, config.window)),
        }
    }

    /// Counts a sign-in attempt against the address and the account, or
    /// refuses it (before any password is hashed).
    pub fn begin_login(&self, client: IpAddr, login: &str) -> Result<LoginAttempt<'_>, RetryAfter> {
        let now = Instant::now();
        let address = address_key(client);
        let account = account_key(login);
        // A budget that refuses gives back what the ones before it counted:
        // a refused attempt costs nothing but is not tried either.
        lock(&self.attempts).take(&address, now)?;
        if let Err(retry) = lock(&self.addresses).take(&address, now) {
            lock(&self.attempts).forgive(&address);
            return Err(retry);
        }
        if let Err(retry) = lock(&self.accounts).take(&account, now) {
            lock(&self.attempts).forgive(&address);
            lock(&self.addresses).forgive(&address);
            return Err(retry);
        }
        Ok(LoginAttempt {
            throttle: self,
            account,
            address,
        })
    }

    /// Counts a registration from this address, or refuses it.
    pub fn begin_registration(&self, client: IpAddr) -> Result<(), RetryAfter> {
        lock(&self.registrations).take(&address_key(client), Instant::now())
    }

    /// Counts a password reset request from this address (the same budget
    /// size as registrations, kept apart), or refuses it.
    pub fn begin_reset(&self, client: IpAddr) -> Result<(), RetryAfter> {
        lock(&self.resets).take(&address_key(client), Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_locks_for_the_window_then_frees() {
        let mut t = Table::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.take("k", start), Ok(()));
        }
        assert_eq!(t.take("k", start), Err(RetryAfter(Duration::from_secs(60))));
        let later = start + Duration::from_secs(59);
        assert_eq!(t.take("k", later), Err(RetryAfter(Duration::from_secs(1))));
        assert_eq!(t.take("other", later), Ok(()));
        assert_eq!(t.take("k", start + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn success_forgives_and_old_failures_expire() {
        let mut t = Table::new(2, Duration::from_secs(10));
        let start = Instant::now();
        t.take("k", start).unwrap();
        t.forgive("k");
        t.take("k", start).unwrap();
        t.take("k", start).unwrap();
        assert!(t.take("k", start + Duration::from_secs(1)).is_err());
        let mut t = Table::new(2, Duration::from_secs(10));
        t.take("k", start).unwrap();
        t.take("k", start).unwrap();
        assert_eq!(t.take("k", start + Duration::from_secs(11)), Ok(()));
    }

    #[test]
    fn tables_stay_bounded() {
        let mut t = Table::new(1, Duration::from_secs(10));
        let now = Instant::now();
        for i in 0..MAX_TRACKED + 500 {
            let _ = t.take(&format!("key{i}"), now);
        }
        assert!(t.map.len() <= MAX_TRACKED);
    }

    #[test]
    fn ipv6_counts_by_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7");
        assert_eq!(RetryAfter(Duration::from_millis(1500)).seconds(), 2);
    }
}
