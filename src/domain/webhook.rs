//! Webhooks, as rules: where an event may be sent, how it is signed, and when it is tried again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Scope, events::EventType};

/// The longest URL an endpoint may have.
pub const MAX_URL: usize = 2048;
/// The most event types one endpoint may subscribe to.
pub const MAX_EVENT_TYPES: usize = 64;
/// The most endpoints one owner (an admin, or a park, bank or enterprise) may have.
pub const MAX_ENDPOINTS_PER_OWNER: u64 = 16;
/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// How far a receiver should let `t` stray from its own clock.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);
/// How much of a receiver's answer is read (and kept in the log).
pub const MAX_RESPONSE_READ: usize = 64 * 1024;

/// A URL an event may be sent to: `http` or `https`, with a host and no credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUrl {
    url: url::Url,
}

impl TargetUrl {
    /// Parses and checks the form of a target URL. Whether its host is on a private network is
    /// a separate question ([`is_public`]), asked again at every connection.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_URL {
            return Err(format!("the URL is longer than {MAX_URL} characters"));
        }
        let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the scheme is {:?}; only https:// and http:// URLs are sent to",
                url.scheme()
            ));
        }
        if url.host().is_none() {
            return Err("the URL has no host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a URL may not carry credentials; check the signature instead".into());
        }
        if url.fragment().is_some() {
            return Err("a URL may not have a #fragment".into());
        }
        if url.as_str().len() > MAX_URL {
            return Err(format!("the URL, encoded, is longer than {MAX_URL} characters"));
        }
        Ok(Self { url })
    }

    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// The host's address, when the URL names one rather than a domain.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.url.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (which holds
/// the cloud metadata services at 169.254.169.254 and fd00:ec2::254), shared, multicast,
/// documentation or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local, fd00::/8 included
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64: an IPv4 address inside
        || first == 0x2002 // 6to4: an IPv4 address inside
        || ip.to_ipv4().is_some()) // IPv4-compatible
}

/// The value of `Innoloan-Signature` for `body` sent at `t` (Unix seconds): `t=<t>` and one
/// `v1=<hex HMAC-SHA256 of "<t>.<body>">` per live secret, the newest first.
pub fn signature_header(t: i64, body: &[u8], secrets: &[&str]) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&sign(t, body, secret));
    }
    header
}

/// The hex HMAC-SHA256 of `"<t>.<body>"` under `secret`.
pub fn sign(t: i64, body: &[u8], secret: &str) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The delays between attempts: after the first attempt fails, the next comes after the first
/// delay, and so on; when every delay has been waited, the delivery has failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl Default for RetrySchedule {
    /// 30 s, 2 min, 10 min, 1 h, 6 h, then 24 h three times: about three days and seven hours.
    fn default() -> Self {
        Self::parse("30s,2m,10m,1h,6h,24h,24h,24h").unwrap_or(Self(vec![Duration::from_secs(30)]))
    }
}

impl RetrySchedule {
    /// A comma list of durations, each a whole number and a unit: `ms`, `s`, `m`, `h` or `d`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut delays = Vec::new();
        for part in text.split(',').map(str::trim) {
            let split = part.find(|c: char| !c.is_ascii_digit()).unwrap_or(part.len());
            let (number, unit) = part.split_at(split);
            let n: u64 =
                number.parse().map_err(|_| format!("{part:?} is not a duration such as 30s or 2m"))?;
            let seconds = match unit {
                "ms" => None,
                "s" => Some(1),
                "m" => Some(60),
                "h" => Some(3600),
                "d" => Some(86_400),
                _ => return Err(format!("{part:?} has no unit; use ms, s, m, h or d")),
            };
            let delay = match seconds {
                None => Duration::from_millis(n),
                Some(unit) => {
                    Duration::from_secs(n.checked_mul(unit).ok_or_else(|| format!("{part:?} is too long"))?)
                }
            };
            if delay > Duration::from_secs(7 * 86_400) {
                return Err(format!("{part:?} is longer than a week"));
            }
            delays.push(delay);
        }
        if delays.len() > 20 {
            return Err("at most 20 delays".into());
        }
        Ok(Self(delays))
    }

    /// The delay before attempt `attempts + 1`, after `attempts` have failed; `None` when the
    /// delivery has had all its attempts. `jitter` is in [0, 1): it stretches the delay by up to
    /// a fifth, so that endpoints that failed together are not all tried again together.
    pub fn after(&self, attempts: u32, jitter: f64) -> Option<Duration> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        self.0.get(index).map(|delay| delay.mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 5.0))
    }

    /// How many attempts a delivery gets: the first, and one after each delay.
    pub fn attempts(&self) -> usize {
        self.0.len() + 1
    }
}

/// A webhook endpoint: where its owner's events of the subscribed types are sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    /// The admins, or the park, bank or enterprise whose events it receives.
    pub owner: Scope,
    /// The signing secret, sealed (see `secrets`).
    pub sealed_secret: String,
    /// The secret before the last rotation, sealed; it signs too until `previous_secret_until`.
    pub sealed_previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Why the service disabled it, when it did.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One attempt to deliver one event to one endpoint, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub delivery_id: i64,
    pub endpoint_id: i64,
    pub event_id: i64,
    /// 1 for the first attempt of the delivery.
    pub attempt: u32,
    /// The receiver's HTTP status; `None` when it never answered.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// The receiver answered something else.
    Refused { status: u16 },
    /// No answer: refused connection, timeout, a target that may not be reached.
    Unreachable { error: String },
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Delivered { status } | Outcome::Refused { status } => Some(*status),
            Outcome::Unreachable { .. } => None,
        }
    }

    /// What went wrong, for the log.
    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Delivered { .. } => None,
            Outcome::Refused { status } => Some(format!("the receiver answered {status}")),
            Outcome::Unreachable { error } => Some(error.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_urls() {
        assert!(TargetUrl::parse("https://bank.example.com/hooks/innoloan").is_ok());
        assert!(TargetUrl::parse("http://203.0.113.9:8080/x").is_ok());
        let long = format!("https://x.example/{}", "é".repeat(1_000));
        assert!(long.len() < MAX_URL && TargetUrl::parse(&long).is_err(), "percent-encoded, it is too long");
        for bad in [
            "ftp://x.example/",
            "https://user:pw@x.example/",
            "not a url",
            "http://",
            "file:///etc/passwd",
            "https://x.example/#frag",
        ] {
            assert!(TargetUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn signature_is_stripe_style_hmac() {
        // Checked against Python: hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest()
        let header = signature_header(1_700_000_000, b"{}", &["whsec_test", "whsec_old"]);
        let parts: Vec<&str> = header.split(',').collect();
        assert_eq!(parts[0], "t=1700000000");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], "v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91");
        assert_ne!(parts[1], parts[2]);
    }

    #[test]
    fn schedules() {
        let default = RetrySchedule::default();
        assert_eq!(default.attempts(), 9);
        assert_eq!(default.after(1, 0.0), Some(Duration::from_secs(30)));
        assert_eq!(default.after(8, 0.0), Some(Duration::from_secs(86_400)));
        assert_eq!(default.after(9, 0.0), None);
        assert_eq!(default.after(0, 0.0), None);
        let test = RetrySchedule::parse("1s, 1s,500ms").unwrap();
        assert_eq!(test.after(3, 0.0), Some(Duration::from_millis(500)));
        assert!(test.after(1, 0.99).unwrap() < Duration::from_millis(1200));
        for bad in ["", "1", "1x", "10d", "-1s", "s"] {
            assert!(RetrySchedule::parse(bad).is_err(), "{bad}");
        }
    }
}
