//! The client's address, for login throttling: the peer's, or, when the peer is a trusted
//! proxy (`TRUSTED_PROXIES`), the nearest address in `X-Forwarded-For` that is not one.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address to count failed logins against.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.ip();
    if !is_trusted(&peer) {
        return peer;
    }
    // Proxies append; walk from the nearest hop and stop at the first untrusted one.
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        let spoofed = headers(&["203.0.113.1"]);
        // A direct client cannot choose its address by sending the header.
        assert_eq!(
            client_ip(stranger, &spoofed, &trusted),
            "198.51.100.9".parse::<IpAddr>().unwrap()
        );
        // Behind the proxy, the address the proxy saw.
        assert_eq!(
            client_ip(proxy, &headers(&["203.0.113.1, 198.51.100.7"]), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Chained trusted proxies are skipped.
        assert_eq!(
            client_ip(proxy, &headers(&["198.51.100.7", "10.9.9.9"]), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // No usable header: the proxy itself.
        assert_eq!(
            client_ip(proxy, &headers(&["garbage"]), &trusted),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
        // Nothing trusted: always the peer.
        assert_eq!(
            client_ip(proxy, &spoofed, &[]),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
    }
}
