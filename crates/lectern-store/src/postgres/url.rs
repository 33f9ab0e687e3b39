//! libpq's multi-host URL, which sqlx 0.8 does not read:
//! `postgres://USER:PW@h1:5432,h2,h3/DB?target_session_attrs=read-write&connect_timeout=2`.
//!
//! The URL is split into one ordinary single-host URL per host (same user,
//! password, database and parameters), and each goes through sqlx's own
//! parser, so `sslmode`, `options`, percent-encoding and `~/.pgpass` mean
//! what they always meant. Two parameters are ours and are taken out before
//! sqlx sees them (it would warn about them): `target_session_attrs`
//! (`read-write` or `any`; a list of hosts defaults to `read-write`, one
//! host to `any`, as libpq does) and `connect_timeout` (whole seconds per
//! host, 1 to 30, default 2; libpq's "0 = wait forever" is refused, since
//! a dead first host would then stall every reconnect).
//!
//! A one-host URL without our two parameters goes to sqlx exactly as
//! written. Error messages name the host by position and never repeat the
//! URL, so a password cannot leak into a log.

use std::str::FromStr;
use std::time::Duration;

use lectern_app::StoreError;
use sqlx::postgres::PgConnectOptions;

/// At most this many hosts in one URL (each costs up to `connect_timeout`
/// when it is down).
pub(crate) const MAX_HOSTS: usize = 16;
/// `connect_timeout` when the URL has none.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest `connect_timeout` accepted, in seconds.
const MAX_CONNECT_TIMEOUT_SECS: u64 = 30;

/// Which server a connection may use (libpq's `target_session_attrs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionAttrs {
    /// Only a server that accepts writes (`SHOW transaction_read_only` is `off`).
    ReadWrite,
    /// The first server that answers.
    Any,
}

/// A parsed `database_url`: the hosts in the order given, each as complete
/// connect options, and how to choose among them.
#[derive(Debug, Clone)]
pub(crate) struct PgTargets {
    pub(crate) hosts: Vec<PgConnectOptions>,
    pub(crate) attrs: SessionAttrs,
    pub(crate) connect_timeout: Duration,
}

impl PgTargets {
    /// `host:port` of host `i`, for logs and messages (never the password).
    pub(crate) fn label(&self, i: usize) -> String {
        self.hosts
            .get(i)
            .map_or_else(String::new, |o| match o.get_socket() {
                Some(dir) => format!("{}:{}", dir.display(), o.get_port()),
                None => format!("{}:{}", o.get_host(), o.get_port()),
            })
    }

    /// All hosts' labels, comma-separated.
    pub(crate) fn labels(&self) -> String {
        (0..self.hosts.len())
            .map(|i| self.label(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn bad(msg: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("bad PostgreSQL URL: {msg}"))
}

/// Parses a `postgres://` or `postgresql://` URL with one or more hosts.
pub(crate) fn parse(url: &str) -> Result<PgTargets, StoreError> {
    let url = url.trim();
    let (scheme, rest) = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|s| url.strip_prefix(s).map(|r| (*s, r)))
        .ok_or_else(|| bad("it must start with postgres:// or postgresql://"))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let (userinfo, host_list) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };

    let mut attrs = None;
    let mut connect_timeout = None;
    let mut kept = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "target_session_attrs" => attrs = Some(parse_attrs(value)?),
            "connect_timeout" => connect_timeout = Some(parse_connect_timeout(value)?),
            _ => kept.push(pair),
        }
    }

    let hosts: Vec<&str> = host_list.split(',').collect();
    if hosts.len() > MAX_HOSTS {
        return Err(bad(format!(
            "{} hosts given; at most {MAX_HOSTS} are allowed",
            hosts.len()
        )));
    }
    let single = hosts.len() == 1;
    let mut options = Vec::with_capacity(hosts.len());
    for (i, host) in hosts.iter().enumerate() {
        if !single {
            check_host(i + 1, host)?;
        }
        let one = if single && attrs.is_none() && connect_timeout.is_none() {
            url.to_string()
        } else {
            let query = if kept.is_empty() {
                String::new()
            } else {
                format!("?{}", kept.join("&"))
            };
            format!("{scheme}{userinfo}{host}{path}{query}")
        };
        let parsed = PgConnectOptions::from_str(&one).map_err(|e| {
            let what = if single {
                String::new()
            } else {
                format!(" (host {})", i + 1)
            };
            bad(format!(
                "{what}{}",
                without_secret(&e.to_string(), userinfo)
            ))
        })?;
        options.push(parsed);
    }
    Ok(PgTargets {
        hosts: options,
        attrs: attrs.unwrap_or(if single {
            SessionAttrs::Any
        } else {
            SessionAttrs::ReadWrite
        }),
        connect_timeout: connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
    })
}

fn parse_attrs(value: &str) -> Result<SessionAttrs, StoreError> {
    match value {
        "read-write" => Ok(SessionAttrs::ReadWrite),
        "any" => Ok(SessionAttrs::Any),
        other => Err(bad(format!(
            "target_session_attrs={other:?} is not supported: use read-write or any"
        ))),
    }
}

fn parse_connect_timeout(value: &str) -> Result<Duration, StoreError> {
    match value.parse::<u64>() {
        Ok(secs) if (1..=MAX_CONNECT_TIMEOUT_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
        _ => Err(bad(format!(
            "connect_timeout={value:?} must be whole seconds from 1 to {MAX_CONNECT_TIMEOUT_SECS}"
        ))),
    }
}

/// One entry of a host list: `name`, `name:port`, `[v6]` or `[v6]:port`.
fn check_host(n: usize, host: &str) -> Result<(), StoreError> {
    if host.is_empty() {
        return Err(bad(format!("host {n} of the host list is empty")));
    }
    let port = if let Some(v6) = host.strip_prefix('[') {
        match v6.split_once(']') {
            Some((_, "")) => None,
            Some((_, rest)) => Some(rest.strip_prefix(':').unwrap_or("x")),
            None => return Err(bad(format!("host {n}: an unclosed '['"))),
        }
    } else {
        host.split_once(':').map(|(_, p)| p)
    };
    match port {
        Some(p) if p.parse::<u16>().map_or(true, |p| p == 0) => Err(bad(format!(
            "host {n}: the port must be a number from 1 to 65535"
        ))),
        _ => Ok(()),
    }
}

/// `message` with the URL's password (if any) replaced by `***`.
fn without_secret(message: &str, userinfo: &str) -> String {
    let secret = userinfo
        .trim_end_matches('@')
        .split_once(':')
        .map(|(_, pw)| pw)
        .unwrap_or("");
    if secret.is_empty() {
        message.to_string()
    } else {
        message.replace(secret, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(url: &str) -> String {
        parse(url).unwrap_err().to_string()
    }

    #[test]
    fn a_host_list_becomes_one_target_per_host_in_order() {
        let t = parse(
            "postgres://app:s3cret@10.0.0.1:6432,db2,[::1]:5433/lectern?target_session_attrs=read-write&connect_timeout=3&sslmode=disable",
        )
        .unwrap();
        assert_eq!(t.hosts.len(), 3);
        assert_eq!(t.labels(), "10.0.0.1:6432, db2:5432, [::1]:5433");
        assert_eq!(t.attrs, SessionAttrs::ReadWrite);
        assert_eq!(t.connect_timeout, Duration::from_secs(3));
        for h in &t.hosts {
            assert_eq!(h.get_username(), "app");
            assert_eq!(h.get_database(), Some("lectern"));
            assert!(matches!(
                h.get_ssl_mode(),
                sqlx::postgres::PgSslMode::Disable
            ));
        }
    }

    #[test]
    fn defaults_follow_libpq() {
        let many = parse("postgresql://u@a,b/d").unwrap();
        assert_eq!(many.attrs, SessionAttrs::ReadWrite);
        assert_eq!(many.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        let one = parse("postgres://u@a/d").unwrap();
        assert_eq!(one.attrs, SessionAttrs::Any);
        assert_eq!(one.labels(), "a:5432");
        let any = parse("postgres://u@a,b/d?target_session_attrs=any").unwrap();
        assert_eq!(any.attrs, SessionAttrs::Any);
        let one_rw = parse("postgres://u@a:7/d?target_session_attrs=read-write").unwrap();
        assert_eq!(one_rw.attrs, SessionAttrs::ReadWrite);
        assert_eq!(one_rw.labels(), "a:7");
    }

    #[test]
    fn other_parameters_reach_every_host() {
        let t = parse("postgres://u@a,b/d?options=-c%20synchronous_commit%3Don&application_name=x")
            .unwrap();
        for h in &t.hosts {
            assert_eq!(h.get_options(), Some("-c synchronous_commit=on"));
            assert_eq!(h.get_application_name(), Some("x"));
        }
    }

    #[test]
    fn bad_urls_are_refused_clearly_without_the_password() {
        let cases = [
            (
                "postgres://u:hunter2@a,,b/d",
                "host 2 of the host list is empty",
            ),
            (
                "postgres://u:hunter2@a,b:99999/d",
                "host 2: the port must be a number",
            ),
            (
                "postgres://u:hunter2@a,b:x/d",
                "host 2: the port must be a number",
            ),
            ("postgres://u:hunter2@a,[::1/d", "host 2: an unclosed '['"),
            (
                "postgres://u:hunter2@a,b/d?target_session_attrs=standby",
                "target_session_attrs=\"standby\" is not supported",
            ),
            (
                "postgres://u:hunter2@a,b/d?connect_timeout=0",
                "connect_timeout=\"0\" must be whole seconds from 1 to 30",
            ),
            (
                "postgres://u:hunter2@a/d?connect_timeout=100",
                "must be whole seconds from 1 to 30",
            ),
            ("mysql://u:hunter2@a/d", "must start with postgres://"),
        ];
        for (url, want) in cases {
            let e = err(url);
            assert!(e.contains(want), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{url}: {e}");
        }
        let many = format!("postgres://u:hunter2@{}/d", vec!["h"; 17].join(","));
        let e = err(&many);
        assert!(e.contains("at most 16") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_plain_url_is_sqlx_s_own_parse() {
        let url = "postgres://u:pw@h:6000/d?sslmode=disable";
        let ours = parse(url).unwrap();
        let theirs = PgConnectOptions::from_str(url).unwrap();
        assert_eq!(format!("{:?}", ours.hosts[0]), format!("{theirs:?}"));
    }
}
