//! Loading ClamAV databases from files, directories and `.cvd`/`.cld` containers, with
//! counts of what was loaded and of every line that could not be (never silently dropped).

use super::ClamDatabase;
use crate::containers::{Flow, tar};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Signature file types this loader reads; other files in a database directory are
/// reported as unsupported.
pub const SIGNATURE_EXTENSIONS: [&str; 19] = [
    "hdb", "hsb", "hdu", "hsu", "mdb", "msb", "mdu", "msu", "ndb", "ndu", "ldb", "ldu", "fp", "sfp", "ign", "ign2",
    "sha256", "cvd", "cld",
];

/// Files in a ClamAV database that describe rather than detect; they are not signatures.
const METADATA_EXTENSIONS: [&str; 3] = ["info", "cfg", "dat"];

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadStats {
    /// Signatures loaded per file type (`ndb`, `hdb`, ...).
    pub loaded: BTreeMap<String, u64>,
    /// Signatures not loaded, per type and reason.
    pub unsupported: BTreeMap<String, u64>,
    /// The first few unsupported lines, as `source:line: reason`.
    pub examples: Vec<String>,
    #[serde(skip)]
    pub(super) current_source: String,
}

impl LoadStats {
    pub fn loaded_total(&self) -> u64 {
        self.loaded.values().sum()
    }

    pub fn unsupported_total(&self) -> u64 {
        self.unsupported.values().sum()
    }

    fn reject(&mut self, kind: &str, source: &str, line: usize, reason: &str) {
        let key: String = format!(".{kind}: {reason}").chars().take(80).collect();
        *self.unsupported.entry(key).or_default() += 1;
        if self.examples.len() < 20 {
            self.examples.push(format!("{source}:{line}: {reason}"));
        }
    }
}

/// The header of a `.cvd`/`.cld` file: `ClamAV-VDB:time:version:sigs:flevel:md5:dsig:builder:stime`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CvdHeader {
    pub build_time: String,
    pub version: u64,
    pub signatures: u64,
    /// Seconds since the epoch the database was built at, when present.
    pub build_epoch: Option<i64>,
}

pub fn parse_cvd_header(data: &[u8]) -> Result<CvdHeader, String> {
    let header = data.get(..512).ok_or("file shorter than a CVD header")?;
    let text = String::from_utf8_lossy(header);
    let fields: Vec<&str> = text.trim_end_matches([' ', '\0']).split(':').collect();
    if fields.first() != Some(&"ClamAV-VDB") || fields.len() < 4 {
        return Err("not a ClamAV CVD/CLD file (bad header)".into());
    }
    Ok(CvdHeader {
        build_time: fields[1].to_string(),
        version: fields[2].trim().parse().map_err(|_| "bad CVD version")?,
        signatures: fields[3].trim().parse().unwrap_or(0),
        build_epoch: fields.get(8).and_then(|t| t.trim().parse().ok()),
    })
}

impl ClamDatabase {
    /// Loads the lines of one signature file of type `kind`.
    pub fn load_text(&mut self, kind: &str, source: &str, text: &str) {
        self.stats.current_source = Path::new(source).file_stem().map_or(source.into(), |s| s.to_string_lossy().into());
        for (number, line) in text.lines().enumerate() {
            match self.add_line(kind, line) {
                Ok(true) => *self.stats.loaded.entry(kind.to_string()).or_default() += 1,
                Ok(false) => {}
                Err(reason) => self.stats.reject(kind, source, number + 1, &reason),
            }
        }
    }

    /// Loads one file: a CVD/CLD container or a signature file named by its extension.
    /// Returns the CVD header when the file is one.
    pub fn load_file(&mut self, path: &Path) -> Result<Option<CvdHeader>, String> {
        let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let source = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let kind = path.extension().map_or_else(String::new, |e| e.to_string_lossy().to_lowercase());
        if kind == "cvd" || kind == "cld" || data.starts_with(b"ClamAV-VDB:") {
            return self.load_cvd(&source, &data).map(Some);
        }
        self.load_named(&source, &kind, &data);
        Ok(None)
    }

    fn load_named(&mut self, source: &str, kind: &str, data: &[u8]) {
        if METADATA_EXTENSIONS.contains(&kind) {
            return;
        }
        let text = String::from_utf8_lossy(data);
        if SIGNATURE_EXTENSIONS.contains(&kind) {
            self.load_text(kind, source, &text);
        } else {
            let lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count() as u64;
            let key = format!(".{kind}: signature type not supported");
            *self.stats.unsupported.entry(key).or_default() += lines;
        }
    }

    /// A CVD is a 512-byte header and a gzip'd tar; a CLD the same with a plain tar.
    pub fn load_cvd(&mut self, source: &str, data: &[u8]) -> Result<CvdHeader, String> {
        let header = parse_cvd_header(data)?;
        let body = &data[512..];
        let archive = if body.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .map_err(|e| format!("{source}: cannot decompress: {e}"))?;
            out
        } else {
            body.to_vec()
        };
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut collect = |name: String, content: &[u8]| {
            files.push((name, content.to_vec()));
            Flow::Continue
        };
        tar::walk(&archive, u64::MAX, &mut collect).map_err(|_| format!("{source}: broken tar inside the CVD"))?;
        for (name, content) in files {
            let kind = Path::new(&name).extension().map_or_else(String::new, |e| e.to_string_lossy().to_lowercase());
            self.load_named(&format!("{source}/{name}"), &kind, &content);
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Object;
    use super::*;
    use crate::filetype::FileType;
    use sha2::Digest;

    fn scan(db: &ClamDatabase, data: &[u8]) -> Vec<String> {
        let sha256: [u8; 32] = sha2::Sha256::digest(data).into();
        db.scan(&Object { data, file_type: crate::filetype::detect(data), sha256: &sha256 })
    }

    #[test]
    fn loads_and_matches_each_kind() {
        let mut db = ClamDatabase::new();
        let data = b"hello malware world";
        let md5 = hex::encode(md5::Md5::digest(data));
        let sha = hex::encode(sha2::Sha256::digest(data));
        db.load_text("hdb", "t.hdb", &format!("{md5}:{}:Test.Md5\n", data.len()));
        db.load_text("hsb", "t.hsb", &format!("{sha}:*:Test.Sha256\n"));
        db.load_text("ndb", "t.ndb", "Test.Body:0:*:6d616c77617265\nTest.Eof:0:EOF-5:776f726c64\n");
        db.load_text("ldb", "t.ldb", "Test.Logical;Engine:51-255,Target:0;0&1;68656c6c6f;776f726c64\n");
        db.load_text("ldb", "t.ldb", "Test.Pcre;Engine:81-255,Target:0;0&1;6d616c;0/w.rld$/\n");
        db.load_text("ldb", "t.ldb", "Test.ByteCompare;Engine:81-255,Target:0;0&1;68656c6c6f;0(>>1#ib1#=0x65)\n");
        db.load_text("ldb", "t.ldb", "Test.PcreMiss;Engine:81-255,Target:0;0&1;6d616c;0/^world/\n");
        db.load_text("ldb", "t.ldb", "Test.Macro;Engine:51-255,Target:0;0&1;616161;${6-7}12$\n");
        // Holds when its pattern is absent: checked on every object, not only on anchor hits.
        db.load_text("ldb", "t.ldb", "Test.Absent;Target:0;0=0;4141414141\n");
        db.load_text("ldb", "t.ldb", "Test.FullWord;Target:0;0&1;68656c6c6f::f;6d616c::f\n");
        db.load_text("xyz", "t.xyz", "whatever\n");
        db.finish().unwrap();
        let found = scan(&db, data);
        for name in
            ["Test.Md5", "Test.Sha256", "Test.Body", "Test.Eof", "Test.Logical", "Test.Pcre", "Test.ByteCompare"]
        {
            assert!(found.iter().any(|f| f == name), "{name} missing from {found:?}");
        }
        assert!(!found.iter().any(|f| f == "Test.PcreMiss"), "{found:?}");
        assert!(!found.iter().any(|f| f == "Test.FullWord"), "'mal' is not a whole word in 'malware': {found:?}");
        assert!(!scan(&db, b"AAAAA").iter().any(|f| f == "Test.Absent"));
        assert_eq!(db.stats.unsupported_total(), 2, "{:?}", db.stats.unsupported);
        assert_eq!(scan(&db, b"nothing here"), vec!["Test.Absent".to_string()]);
        let _ = FileType::Text;
    }

    #[test]
    fn rejects_bad_cvd_header() {
        assert!(parse_cvd_header(&[0u8; 600]).is_err());
        let mut header = b"ClamAV-VDB:22 Nov 2026 03-00 +0000:27000:100:90:md5:sig:builder:1795000000".to_vec();
        header.resize(512, b' ');
        let parsed = parse_cvd_header(&header).unwrap();
        assert_eq!(parsed.version, 27000);
        assert_eq!(parsed.build_epoch, Some(1795000000));
    }
}
