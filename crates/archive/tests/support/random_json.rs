//! A hand-written generator of random JSON events for property-style tests: the values the
//! codec treats specially (timestamps, hex ids, parts of `event.original`, digit runs, extreme
//! numbers) are generated often, and near-misses of each (uppercase hex, `+09:00` offsets,
//! leading zeros, 20-digit runs) just as often.

#![allow(dead_code)]

use serde_json::{Map, Number, Value, json};

use super::rng::Rng;

const KEYS: &[&str] = &[
    "a",
    "b",
    "event",
    "original",
    "message",
    "@timestamp",
    "id",
    "ingested",
    "host.name",
    "",
    "名前",
    "x.y.z",
    "port",
    "tags",
    "count",
    "ratio",
    "k with space",
    "😀",
];

const WORDS: &[&str] = &[
    "sshd",
    "web01",
    "Failed",
    "password",
    "root",
    "10.1.2.3",
    "514",
    "ユーザー",
    "ログイン失敗",
    "0",
    "007",
    "-",
    "",
    " ",
    "12345678901234567890123",
    "a\"b\\c",
    "\n\t",
    "\u{0}",
    "é",
];

pub struct RandomJson {
    pub rng: Rng,
}

impl RandomJson {
    pub fn new(seed: u64) -> Self {
        RandomJson { rng: Rng::new(seed) }
    }

    fn word(&mut self) -> String {
        (*self.rng.pick(WORDS)).to_string()
    }

    fn text(&mut self) -> String {
        let n = self.rng.below(12);
        let mut parts = Vec::new();
        for _ in 0..n {
            parts.push(self.word());
            if self.rng.chance(30) {
                parts.push(self.rng.next_u64().to_string());
            }
        }
        parts.join(if self.rng.chance(50) { " " } else { "" })
    }

    fn timestamp(&mut self) -> String {
        let secs = self.rng.range(0, 4_000_000_000) as i64 - 500_000_000;
        let nanos = match self.rng.below(5) {
            0 => 0,
            1 => self.rng.below(1000) * 1_000_000,
            2 => self.rng.below(1_000_000) * 1000,
            _ => self.rng.below(1_000_000_000),
        };
        let ts = jiff::Timestamp::new(secs, nanos as i32).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        match self.rng.below(5) {
            0 => format!("{}", ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")),
            1 => format!("{}", ts.strftime("%Y-%m-%dT%H:%M:%S+09:00")),
            2 => ts.to_string().replace('Z', "z"),
            _ => ts.to_string(),
        }
    }

    fn hex(&mut self) -> String {
        let s = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        match self.rng.below(4) {
            0 => s.to_uppercase(),
            1 => s[..31].to_string(),
            _ => s,
        }
    }

    fn uuid_v7(&mut self, ms: u64) -> String {
        let hi = (ms << 16) | (0x7 << 12) | self.rng.below(0x1000);
        let lo = (0b10 << 62) | self.rng.below(1 << 40);
        format!("{hi:016x}{lo:016x}")
    }

    pub fn string(&mut self, original: Option<&str>) -> String {
        match self.rng.below(10) {
            0 | 1 => match original {
                Some(o) if !o.is_empty() => {
                    // A part of the original, at char boundaries.
                    let chars: Vec<char> = o.chars().collect();
                    let a = self.rng.below(chars.len() as u64) as usize;
                    let b = a + self.rng.below((chars.len() - a) as u64 + 1) as usize;
                    chars[a..b].iter().collect()
                }
                _ => self.word(),
            },
            2 => self.timestamp(),
            3 => self.hex(),
            4 => {
                let ms = self.rng.range(0, 1 << 47);
                self.uuid_v7(ms)
            }
            5 => self.rng.next_u64().to_string(),
            6 => format!("{:0width$}", self.rng.below(1000), width = self.rng.range(1, 8) as usize),
            _ => self.text(),
        }
    }

    pub fn number(&mut self, original: Option<&str>) -> Value {
        match self.rng.below(12) {
            0 => json!(i64::MIN),
            1 => json!(i64::MAX),
            2 => json!(u64::MAX),
            3 => json!(self.rng.next_u64()),
            4 => json!(-(self.rng.below(1 << 40) as i64)),
            5 => json!(self.rng.below(200)),
            6 => Value::Number(
                Number::from_f64(f64::from_bits(self.rng.next_u64() & !(0x7ff << 52) | (self.rng.below(0x7fe) << 52)))
                    .unwrap_or(Number::from(0)),
            ),
            7 => json!(match self.rng.below(6) {
                0 => 0.0,
                1 => -0.0,
                2 => 1e308,
                3 => 5e-324,
                4 => 0.1,
                _ => -2.5,
            }),
            8 => {
                // A number written in the original, when there is one.
                let digits: String = original
                    .unwrap_or("")
                    .chars()
                    .skip_while(|c| !c.is_ascii_digit())
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                digits.parse::<i64>().map(Value::from).unwrap_or(json!(7))
            }
            _ => json!(self.rng.range(0, 100_000) as i64 - 50_000),
        }
    }

    pub fn scalar(&mut self, original: Option<&str>) -> Value {
        match self.rng.below(10) {
            0 => Value::Null,
            1 => Value::Bool(self.rng.chance(50)),
            2..=4 => self.number(original),
            _ => Value::String(self.string(original)),
        }
    }

    pub fn value(&mut self, depth: u32, original: Option<&str>) -> Value {
        if depth == 0 || self.rng.chance(55) {
            return self.scalar(original);
        }
        if self.rng.chance(50) {
            let n = self.rng.below(5);
            Value::Array((0..n).map(|_| self.value(depth - 1, original)).collect())
        } else {
            let n = self.rng.below(5);
            let mut m = Map::new();
            for _ in 0..n {
                let k = (*self.rng.pick(KEYS)).to_string();
                let v = self.value(depth - 1, original);
                m.insert(k, v);
            }
            Value::Object(m)
        }
    }

    /// An event: usually with an `event.original`, sometimes with odd structure around it.
    pub fn event(&mut self) -> Value {
        let original = if self.rng.chance(80) {
            Some(format!("<{}>{} {}", self.rng.below(192), self.text(), self.text()))
        } else {
            None
        };
        let o = original.as_deref();
        let mut m = Map::new();
        if self.rng.chance(80) {
            m.insert("@timestamp".into(), Value::String(self.timestamp()));
        }
        let mut event = Map::new();
        if let Some(o) = o {
            event.insert("original".into(), Value::String(o.to_string()));
        }
        if self.rng.chance(70) {
            let ms = self.rng.range(0, 1 << 47);
            event.insert("id".into(), Value::String(self.uuid_v7(ms)));
        }
        if self.rng.chance(50) {
            event.insert("ingested".into(), Value::String(self.timestamp()));
        }
        match self.rng.below(10) {
            0 => {
                m.insert("event".into(), Value::Array(vec![Value::Object(event)]));
            }
            1 => {
                m.insert("event.original".into(), json!(o));
            }
            _ => {
                m.insert("event".into(), Value::Object(event));
            }
        }
        for _ in 0..self.rng.below(8) {
            let k = (*self.rng.pick(KEYS)).to_string();
            let v = self.value(4, o);
            m.insert(k, v);
        }
        Value::Object(m)
    }
}
