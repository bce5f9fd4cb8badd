//! Heuristics over query names and per-client rates that raise alerts besides the RPZ lists:
//! algorithmically generated names (high character entropy in a long label), tunnelling
//! (very long labels or names carrying data) and NXDOMAIN storms from one client.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hickory_proto::rr::Name;

#[derive(Debug, Clone)]
pub struct DetectSettings {
    /// Shannon entropy (bits per character) of the longest label above which a name looks
    /// generated; English-like labels stay under about 3.5.
    pub dga_entropy: f64,
    /// Labels shorter than this are not scored (short random labels are common: CDNs).
    pub dga_min_label: usize,
    /// A label this long, or a name this long, looks like data being carried (tunnelling).
    pub tunnel_label: usize,
    pub tunnel_name: usize,
    /// NXDOMAIN answers to one client within `storm_window` that make a storm.
    pub storm_nxdomains: u32,
    pub storm_window: Duration,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            dga_entropy: 3.8,
            dga_min_label: 12,
            tunnel_label: 52,
            tunnel_name: 180,
            storm_nxdomains: 100,
            storm_window: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// `dga`, `tunnel` or `nxdomain_storm`.
    pub rule: &'static str,
    pub description: String,
    pub score: f64,
}

pub struct Detector {
    settings: DetectSettings,
    storms: Mutex<HashMap<IpAddr, Storm>>,
}

struct Storm {
    since: Instant,
    count: u32,
    alerted: bool,
}

impl Detector {
    pub fn new(settings: DetectSettings) -> Detector {
        Detector { settings, storms: Mutex::new(HashMap::new()) }
    }

    /// Findings about the name itself.
    pub fn inspect_name(&self, name: &Name) -> Option<Finding> {
        let s = &self.settings;
        let labels: Vec<&[u8]> = name.iter().collect();
        let longest = labels.iter().map(|l| l.len()).max().unwrap_or(0);
        let total = name.len();
        if longest >= s.tunnel_label || total >= s.tunnel_name {
            return Some(Finding {
                rule: "tunnel",
                description: format!("query name of {total} bytes with a label of {longest}: data carried in DNS?"),
                score: longest as f64,
            });
        }
        let (label, entropy) = labels
            .iter()
            .filter(|l| l.len() >= s.dga_min_label)
            .map(|l| (*l, entropy(l)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        (entropy >= s.dga_entropy).then(|| Finding {
            rule: "dga",
            description: format!(
                "label '{}' has {entropy:.2} bits of entropy per character: algorithmically generated?",
                String::from_utf8_lossy(label)
            ),
            score: entropy,
        })
    }

    /// Counts an NXDOMAIN answer to `client`; the one that crosses the threshold in the
    /// window is reported (once per window).
    pub fn count_nxdomain(&self, client: IpAddr) -> Option<Finding> {
        let now = Instant::now();
        let mut storms = self.storms.lock().unwrap_or_else(|p| p.into_inner());
        if storms.len() > 100_000 {
            storms.retain(|_, s| now.duration_since(s.since) < self.settings.storm_window);
        }
        let storm = storms.entry(client).or_insert(Storm { since: now, count: 0, alerted: false });
        if now.duration_since(storm.since) >= self.settings.storm_window {
            *storm = Storm { since: now, count: 0, alerted: false };
        }
        storm.count += 1;
        if storm.count >= self.settings.storm_nxdomains && !storm.alerted {
            storm.alerted = true;
            return Some(Finding {
                rule: "nxdomain_storm",
                description: format!(
                    "{} NXDOMAIN answers to {client} within {}s",
                    storm.count,
                    self.settings.storm_window.as_secs()
                ),
                score: f64::from(storm.count),
            });
        }
        None
    }
}

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in bytes {
        counts[b.to_ascii_lowercase() as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) / n).map(|p| -p * p.log2()).sum()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn detector() -> Detector {
        Detector::new(DetectSettings { storm_nxdomains: 3, ..Default::default() })
    }

    #[test]
    fn generated_names_score_high_and_words_low() {
        let d = detector();
        assert!(d.inspect_name(&Name::from_str("www.city.example.lg.jp.").unwrap()).is_none());
        assert!(d.inspect_name(&Name::from_str("municipalityportal.example.jp.").unwrap()).is_none());
        let f = d.inspect_name(&Name::from_str("xj4q9zk2vbw7hp1m3c.example.com.").unwrap()).unwrap();
        assert_eq!(f.rule, "dga");
    }

    #[test]
    fn long_labels_look_like_tunnelling() {
        let label = "a1".repeat(30);
        let f = detector().inspect_name(&Name::from_str(&format!("{label}.t.example.")).unwrap()).unwrap();
        assert_eq!(f.rule, "tunnel");
    }

    #[test]
    fn a_storm_is_reported_once() {
        let d = detector();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(d.count_nxdomain(ip).is_none());
        assert!(d.count_nxdomain(ip).is_none());
        assert_eq!(d.count_nxdomain(ip).unwrap().rule, "nxdomain_storm");
        assert!(d.count_nxdomain(ip).is_none());
    }
}
