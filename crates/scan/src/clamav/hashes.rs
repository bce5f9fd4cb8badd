//! Hash signatures: whole files (`.hdb` MD5, `.hsb` SHA-1/SHA-256, plain SHA-256 lists) and
//! PE sections (`.mdb`, `.msb`); `.fp`/`.sfp` entries use the same store as an allow list.

/// Signatures of one hash algorithm, sorted by digest once loading is done (`finish`):
/// 16 to 32 bytes of digest, a size and a name index per signature, nothing else.
#[derive(Default)]
pub struct HashTable<const N: usize> {
    entries: Vec<Entry<N>>,
    sorted: bool,
}

#[derive(Clone, Copy)]
struct Entry<const N: usize> {
    digest: [u8; N],
    /// `ANY_SIZE` for `*`.
    size: u64,
    name: u32,
}

const ANY_SIZE: u64 = u64::MAX;

impl<const N: usize> HashTable<N> {
    pub fn insert(&mut self, digest: [u8; N], size: Option<u64>, name: u32) {
        self.entries.push(Entry { digest, size: size.unwrap_or(ANY_SIZE), name });
        self.sorted = false;
    }

    /// Sorts the table for lookups and gives back the slack of loading.
    pub fn finish(&mut self) {
        self.entries.sort_unstable_by_key(|e| e.digest);
        self.entries.shrink_to_fit();
        self.sorted = true;
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Distinct digests.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Names of signatures for this digest and size.
    pub fn lookup(&self, digest: &[u8; N], size: u64) -> impl Iterator<Item = u32> + '_ {
        // Loading always ends with `finish`; a table used before it is searched whole.
        let range = if self.sorted {
            let start = self.entries.partition_point(|e| e.digest < *digest);
            let end = start + self.entries[start..].partition_point(|e| e.digest == *digest);
            start..end
        } else {
            0..self.entries.len()
        };
        let digest = *digest;
        self.entries[range]
            .iter()
            .filter(move |e| e.digest == digest && (e.size == ANY_SIZE || e.size == size))
            .map(|e| e.name)
    }
}

/// All hash-based signatures of a database.
#[derive(Default)]
pub struct HashSignatures {
    pub md5: HashTable<16>,
    pub sha1: HashTable<20>,
    pub sha256: HashTable<32>,
    pub section_md5: HashTable<16>,
    pub section_sha1: HashTable<20>,
    pub section_sha256: HashTable<32>,
}

/// Parses the hex digest and size of a hash line; `None` size means any (`*`).
pub fn parse_digest(hex_digest: &str) -> Result<Vec<u8>, String> {
    let digest = hex::decode(hex_digest.trim()).map_err(|_| format!("'{hex_digest}' is not a hex digest"))?;
    match digest.len() {
        16 | 20 | 32 => Ok(digest),
        n => Err(format!("digest of {n} bytes is neither MD5, SHA-1 nor SHA-256")),
    }
}

pub fn parse_size(text: &str) -> Result<Option<u64>, String> {
    match text.trim() {
        "*" => Ok(None),
        n => n.parse::<u64>().map(Some).map_err(|_| format!("bad size '{n}'")),
    }
}

impl HashSignatures {
    /// Adds a digest of any supported length to the file or section tables.
    pub fn add(&mut self, digest: &[u8], size: Option<u64>, name: u32, section: bool) {
        match (digest.len(), section) {
            (16, false) => self.md5.insert(to_array(digest), size, name),
            (20, false) => self.sha1.insert(to_array(digest), size, name),
            (32, false) => self.sha256.insert(to_array(digest), size, name),
            (16, true) => self.section_md5.insert(to_array(digest), size, name),
            (20, true) => self.section_sha1.insert(to_array(digest), size, name),
            (32, true) => self.section_sha256.insert(to_array(digest), size, name),
            _ => {}
        }
    }

    pub fn len(&self) -> usize {
        self.md5.len()
            + self.sha1.len()
            + self.sha256.len()
            + self.section_md5.len()
            + self.section_sha1.len()
            + self.section_sha256.len()
    }

    pub fn finish(&mut self) {
        self.md5.finish();
        self.sha1.finish();
        self.sha256.finish();
        self.section_md5.finish();
        self.section_sha1.finish();
        self.section_sha256.finish();
    }

    pub fn has_sections(&self) -> bool {
        !(self.section_md5.is_empty() && self.section_sha1.is_empty() && self.section_sha256.is_empty())
    }

    /// Names matching the whole object; digests are computed only for tables in use.
    pub fn match_file(&self, data: &[u8], sha256: &[u8; 32], out: &mut Vec<u32>) {
        use sha2::Digest;
        let size = data.len() as u64;
        out.extend(self.sha256.lookup(sha256, size));
        if !self.md5.is_empty() {
            out.extend(self.md5.lookup(&md5::Md5::digest(data).into(), size));
        }
        if !self.sha1.is_empty() {
            out.extend(self.sha1.lookup(&sha1::Sha1::digest(data).into(), size));
        }
    }

    /// Names matching one PE section's raw bytes.
    pub fn match_section(&self, section: &[u8], out: &mut Vec<u32>) {
        use sha2::Digest;
        let size = section.len() as u64;
        if !self.section_md5.is_empty() {
            out.extend(self.section_md5.lookup(&md5::Md5::digest(section).into(), size));
        }
        if !self.section_sha1.is_empty() {
            out.extend(self.section_sha1.lookup(&sha1::Sha1::digest(section).into(), size));
        }
        if !self.section_sha256.is_empty() {
            out.extend(self.section_sha256.lookup(&sha2::Sha256::digest(section).into(), size));
        }
    }
}

fn to_array<const N: usize>(digest: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&digest[..N]);
    out
}
