//! Who the client is on the network: the peer's address, or — when the peer is a reverse proxy
//! the operator named with `serve --trusted-proxy` — the address that proxy saw, read from
//! `X-Forwarded-For` right to left, skipping the trusted proxies. The login throttle keys on
//! it, so that behind a proxy five failures lock out one client, not everyone. An address a
//! client wrote itself is never believed: only what a trusted proxy appended counts.

use actix_web::{HttpRequest, web};
use std::net::IpAddr;

use scelle_verifier::model::FieldError;
use scelle_verifier::t;

/// The reverse proxies whose `X-Forwarded-For` the node believes.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    /// The proxies' addresses as an operator writes them (`10.0.0.5`, `::1`).
    pub fn parse(addresses: &[String]) -> Result<Self, FieldError> {
        addresses
            .iter()
            .map(|a| {
                a.trim()
                    .parse()
                    .map_err(|_| FieldError::new("trusted-proxy", t!("field-not-an-ip-address")))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For` values.
    pub fn client_of<'a>(&self, peer: IpAddr, forwarded: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.trusts(&peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded.flat_map(|h| h.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                // A hop we cannot read: believe nothing to its left.
                return client;
            };
            client = ip;
            if !self.trusts(&ip) {
                return ip;
            }
        }
        client
    }
}

/// The client address of `req`, as the throttle keys on it.
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client_of(peer, forwarded).to_string(),
        None => peer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_what_trusted_proxies_appended_is_believed() {
        let proxies = TrustedProxies::parse(&["10.0.0.5".into(), "10.0.0.6".into()]).unwrap();
        // Straight from a client: its own header is ignored.
        assert_eq!(
            proxies.client_of(ip("203.0.113.9"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.9")
        );
        // Through one trusted proxy: the address it appended.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), ["198.51.100.1"].into_iter()),
            ip("198.51.100.1")
        );
        // A client that forged a first hop: the proxy's own append wins.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), ["1.2.3.4, 198.51.100.1"].into_iter()),
            ip("198.51.100.1")
        );
        // Two trusted proxies in a row, headers split over two lines.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), ["198.51.100.7", "10.0.0.6"].into_iter()),
            ip("198.51.100.7")
        );
        // An unreadable hop: nothing to its left is believed.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), ["198.51.100.7, garbage"].into_iter()),
            ip("10.0.0.5")
        );
        // A trusted proxy with no header: the proxy itself.
        assert_eq!(
            proxies.client_of(ip("10.0.0.5"), [].into_iter()),
            ip("10.0.0.5")
        );
        assert!(TrustedProxies::parse(&["not-an-ip".into()]).is_err());
    }
}
