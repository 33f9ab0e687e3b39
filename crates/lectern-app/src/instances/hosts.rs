//! Host names: the one check on the names an instance answers, and the one
//! reading of a request's host. Both lower-case and drop a trailing dot and
//! the port, so `Host: A.Example.org.:8080` and `a.example.org` route alike.

use crate::{AppError, AppResult};

/// Longest host name (DNS's limit).
const MAX_HOST_LEN: usize = 253;

/// A host name an instance may answer: DNS labels of letters, digits and
/// inner hyphens, at least two of them; not an IP address (addresses are
/// the operators' way to reach the deployment itself), no port.
pub fn check_host(host: &str) -> AppResult<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let is_address = host.parse::<std::net::IpAddr>().is_ok()
        || host
            .split('.')
            .all(|l| l.chars().all(|c| c.is_ascii_digit()));
    if host.len() <= MAX_HOST_LEN && host.contains('.') && labels_ok && !is_address {
        Ok(host)
    } else {
        Err(AppError::field(
            "host",
            format!(
                "{host:?} is not a host name an instance can answer \
                 (like learn.example.org: letters, digits, hyphens and dots; no port, no address)"
            ),
        ))
    }
}

/// The host a request names (its `Host` header or the URI's authority),
/// lower case, without port or trailing dot; `None` when it names none or
/// one that cannot be a host name.
pub fn host_of_request(authority: &str) -> Option<String> {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 address: `[::1]:8080`.
        &rest[..rest.find(']')?]
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => authority,
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'));
    ok.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_hosts_are_lower_case_names_without_port() {
        assert_eq!(
            check_host(" Learn.Example.ORG. ").unwrap(),
            "learn.example.org"
        );
        assert_eq!(check_host("a-1.b.test").unwrap(), "a-1.b.test");
        for bad in [
            "",
            "localhost",
            "a..b",
            "-a.b",
            "a-.b",
            "a.b:80",
            "a_b.test",
            "10.0.0.1",
            "::1",
            "a b.test",
            "ünï.test",
        ] {
            assert!(check_host(bad).is_err(), "{bad:?}");
        }
        assert!(check_host(&format!("{}.test", "a".repeat(64))).is_err());
    }

    #[test]
    fn a_requests_host_loses_its_port_case_and_trailing_dot() {
        assert_eq!(
            host_of_request("A.Example.org.:8080").as_deref(),
            Some("a.example.org")
        );
        assert_eq!(host_of_request("a.test").as_deref(), Some("a.test"));
        assert_eq!(
            host_of_request("127.0.0.1:80").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(host_of_request("[::1]:8080").as_deref(), Some("::1"));
        assert_eq!(host_of_request(""), None);
        assert_eq!(host_of_request("a/b"), None);
        assert_eq!(host_of_request("[::1"), None);
    }
}
