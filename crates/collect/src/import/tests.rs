use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

use super::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn all(importer: Importer) -> Vec<Value> {
    importer.flat_map(|batch| batch.unwrap()).map(|e| serde_json::to_value(e).unwrap()).collect()
}

#[test]
fn syslog_text_file_is_detected_and_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "messages",
        b"\nMar  1 12:00:00 web01 sshd[1]: a\nMar  1 12:00:01 web01 sshd[1]: b\r\ngarbage\n",
    );
    let importer = Importer::open(&path, ImportOptions::default()).unwrap();
    assert!(!importer.is_gzip());
    let events = all(importer);
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["message"], "b");
    assert!(events[2]["tags"].to_string().contains("_parse_failure"));
    assert!(events.iter().all(|e| e["organization"]["id"] == "unassigned"));
}

#[test]
fn gzip_is_detected_by_magic_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = Vec::new();
    for i in 0..2500 {
        body.extend_from_slice(format!("{{\"message\":\"m{i}\"}}\n").as_bytes());
    }
    // Two gzip members back to back, as `cat a.gz b.gz` makes.
    let mut data = gzip(&body[..body.len() / 2 + 3]);
    data.extend(gzip(&body[body.len() / 2 + 3..]));
    let path = write(dir.path(), "events.log", &data);
    let options = ImportOptions { tenant: Some("aoba".into()), ..Default::default() };
    let mut importer = Importer::open(&path, options).unwrap();
    assert!(importer.is_gzip());
    let mut sizes = Vec::new();
    let mut count = 0;
    while let Some(batch) = importer.next_batch().unwrap() {
        sizes.push(batch.len());
        assert!(batch.iter().all(|e| e.tenant() == "aoba"));
        count += batch.len();
    }
    assert_eq!(count, 2500);
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert_eq!(importer.format(), ImportFormat::Ndjson);
    assert_eq!(importer.bytes_read(), importer.total_bytes());
    assert_eq!(importer.stats().events, 2500);
}

#[test]
fn long_lines_are_cut_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut line = b"<13>Mar  1 12:00:00 host app: ".to_vec();
    line.extend(std::iter::repeat_n(b'x', 200_000));
    line.extend_from_slice(b"\n<13>Mar  1 12:00:00 host app: next\n");
    let path = write(dir.path(), "big.log", &line);
    let options = ImportOptions { max_line_bytes: 1024, ..Default::default() };
    let mut importer = Importer::open(&path, options).unwrap();
    let events = importer.next_batch().unwrap().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].tags.iter().any(|t| t == "_truncated"));
    assert!(events[0].event.original.as_ref().unwrap().len() <= 1024);
    assert_eq!(events[1].message.as_deref(), Some("next"));
    assert_eq!(importer.stats().truncated, 1);
}

#[test]
fn sender_attribution_and_address() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "fw.log", b"<13>Mar  1 12:00:00 fw app: x\n");
    let options = ImportOptions {
        sender: Some("192.0.2.1".parse().unwrap()),
        format: ImportFormat::Syslog,
        ..Default::default()
    };
    let events = all(Importer::open(&path, options).unwrap());
    assert_eq!(events[0]["log"]["source"]["address"], "192.0.2.1");
    assert_eq!(events[0]["organization"]["id"], "unassigned");
    assert!(events[0]["tags"].to_string().contains("_unassigned_sender"));
}

#[test]
fn forced_ndjson_stores_non_json_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.ndjson", b"plain text\n{\"message\":\"ok\"}\n");
    let options = ImportOptions { format: ImportFormat::Ndjson, ..Default::default() };
    let mut importer = Importer::open(&path, options).unwrap();
    let events = importer.next_batch().unwrap().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].message.as_deref(), Some("plain text"));
    assert_eq!(importer.stats().parse_failures, 1);
}

#[test]
fn corrupt_gzip_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = gzip(b"{\"message\":\"a\"}\n{\"message\":\"b\"}\n");
    let len = data.len();
    data.truncate(len - 12);
    let path = write(dir.path(), "cut.gz", &data);
    let mut importer = Importer::open(&path, ImportOptions::default()).unwrap();
    let mut error = None;
    loop {
        match importer.next_batch() {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let message = error.expect("a cut gzip stream is an error").to_string();
    assert!(message.contains("cut.gz") && message.contains("line"), "{message}");
}

#[test]
fn missing_file_names_the_path() {
    let err = Importer::open(Path::new("/nonexistent/x.log"), ImportOptions::default()).err().unwrap();
    assert!(err.to_string().contains("/nonexistent/x.log"));
}

#[test]
fn empty_file_yields_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty", b"");
    let mut importer = Importer::open(&path, ImportOptions::default()).unwrap();
    assert!(importer.next_batch().unwrap().is_none());
    assert_eq!(importer.format(), ImportFormat::Auto);
}

#[test]
fn importer_can_move_to_a_blocking_thread() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<Importer>();
    assert_send::<ImportError>();
}
