//! How an RPZ owner name says what it matches (the RPZ draft, draft-vixie-dnsop-dns-rpz §4):
//! the last label before the policy zone's origin names the trigger kind, and address
//! triggers spell a prefix as `<length>.<reversed address>`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::Name;
use ipnet::IpNet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The query name, exactly.
    Qname(Name),
    /// Every name strictly below this one (`*.name`).
    QnameWildcard(Name),
    ClientIp(IpNet),
    ResponseIp(IpNet),
    NsName(Name),
    NsNameWildcard(Name),
    NsIp(IpNet),
}

impl Trigger {
    /// The ECS-ish name of the trigger kind, for events.
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Qname(_) | Trigger::QnameWildcard(_) => "qname",
            Trigger::ClientIp(_) => "client-ip",
            Trigger::ResponseIp(_) => "response-ip",
            Trigger::NsName(_) | Trigger::NsNameWildcard(_) => "nsdname",
            Trigger::NsIp(_) => "nsip",
        }
    }
}

/// Classifies `relative`, an owner name with the policy zone's origin removed (labels in
/// order, leftmost first).
pub fn classify(relative: &[String]) -> Result<Trigger, String> {
    let Some(last) = relative.last() else {
        return Err("the policy zone's apex is not a trigger".into());
    };
    let body = &relative[..relative.len() - 1];
    match last.to_ascii_lowercase().as_str() {
        "rpz-client-ip" => Ok(Trigger::ClientIp(ip_prefix(body)?)),
        "rpz-ip" => Ok(Trigger::ResponseIp(ip_prefix(body)?)),
        "rpz-nsip" => Ok(Trigger::NsIp(ip_prefix(body)?)),
        "rpz-nsdname" => {
            name_trigger(body).map(|(n, w)| if w { Trigger::NsNameWildcard(n) } else { Trigger::NsName(n) })
        }
        _ => name_trigger(relative).map(|(n, w)| if w { Trigger::QnameWildcard(n) } else { Trigger::Qname(n) }),
    }
}

/// A name (with a leading `*` meaning "below") from labels.
fn name_trigger(labels: &[String]) -> Result<(Name, bool), String> {
    let (wild, labels) = match labels.first() {
        Some(l) if l == "*" => (true, &labels[1..]),
        _ => (false, labels),
    };
    let mut name = Name::from_labels(labels.iter().map(|l| l.as_bytes())).map_err(|e| e.to_string())?;
    name.set_fqdn(true);
    Ok((name.to_lowercase(), wild))
}

/// `32.1.2.0.192` → 192.0.2.1/32; `128.1.zz.db8.2001` → 2001:db8::1/128.
pub fn ip_prefix(labels: &[String]) -> Result<IpNet, String> {
    let bad = || format!("'{}' is not an RPZ address trigger", labels.join("."));
    let (len, rest) = labels.split_first().ok_or_else(bad)?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    let addr: Vec<&str> = rest.iter().rev().map(String::as_str).collect();
    let ip = if addr.len() == 4 && !addr.iter().any(|l| l.eq_ignore_ascii_case("zz")) {
        let mut octets = [0u8; 4];
        for (o, l) in octets.iter_mut().zip(&addr) {
            *o = l.parse().map_err(|_| bad())?;
        }
        IpAddr::V4(Ipv4Addr::from(octets))
    } else {
        let text = addr.iter().map(|l| if l.eq_ignore_ascii_case("zz") { "" } else { l }).collect::<Vec<_>>().join(":");
        // A leading or trailing `zz` needs the doubled colon of the text form.
        let text = if text.starts_with(':') { format!(":{text}") } else { text };
        let text = if text.ends_with(':') { format!("{text}:") } else { text };
        IpAddr::V6(text.parse::<Ipv6Addr>().map_err(|_| bad())?)
    };
    let net = IpNet::new(ip, len).map_err(|_| bad())?;
    if net.trunc() != net {
        return Err(format!("{}: address has bits set past the prefix length", bad()));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &str) -> Vec<String> {
        s.split('.').map(String::from).collect()
    }

    #[test]
    fn address_triggers_read_reversed() {
        assert_eq!(ip_prefix(&labels("32.1.2.0.192")).unwrap(), "192.0.2.1/32".parse::<IpNet>().unwrap());
        assert_eq!(ip_prefix(&labels("24.0.2.0.192")).unwrap(), "192.0.2.0/24".parse::<IpNet>().unwrap());
        assert_eq!(ip_prefix(&labels("128.1.zz.db8.2001")).unwrap(), "2001:db8::1/128".parse::<IpNet>().unwrap());
        assert_eq!(ip_prefix(&labels("64.zz.db8.2001")).unwrap(), "2001:db8::/64".parse::<IpNet>().unwrap());
        assert!(ip_prefix(&labels("33.1.2.0.192")).is_err());
        assert!(ip_prefix(&labels("x.1.2.0.192")).is_err());
    }

    #[test]
    fn kinds_come_from_the_last_label() {
        assert_eq!(classify(&labels("32.1.2.0.192.rpz-client-ip")).unwrap().kind(), "client-ip");
        assert_eq!(classify(&labels("32.1.2.0.192.rpz-nsip")).unwrap().kind(), "nsip");
        assert!(matches!(classify(&labels("*.ns.example.rpz-nsdname")).unwrap(), Trigger::NsNameWildcard(_)));
        assert!(matches!(classify(&labels("*.bad.example")).unwrap(), Trigger::QnameWildcard(_)));
        assert!(matches!(classify(&labels("bad.example")).unwrap(), Trigger::Qname(_)));
    }
}
