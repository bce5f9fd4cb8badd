//! ICAP server (RFC 3507) so that Squid or another proxy can use the engine as its virus
//! scanner: OPTIONS, REQMOD and RESPMOD, previews, and 204 No Content for clean bodies.
//! Infected bodies are replaced by an HTTP 403 page naming the threat.

use crate::engine::Engine;
use crate::verdict::{ScanReport, Verdict};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const MAX_HEADER_BYTES: usize = 64 * 1024;
const PREVIEW_BYTES: usize = 4096;

/// Called with every report of a scan made for a proxy, to record detections.
pub type ReportHook = Arc<dyn Fn(&ScanReport, SocketAddr) + Send + Sync>;

pub struct IcapServer {
    engine: Arc<Engine>,
    on_report: Option<ReportHook>,
}

/// One ICAP request: method, service path, ICAP headers, encapsulated HTTP parts.
#[derive(Debug, Default)]
struct Request {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    req_hdr: Vec<u8>,
    res_hdr: Vec<u8>,
    body: Option<Vec<u8>>,
    body_truncated: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn allows_204(&self) -> bool {
        self.header("Allow").is_some_and(|v| v.split(',').any(|a| a.trim() == "204"))
    }
}

#[derive(Debug)]
enum IcapError {
    Closed,
    Bad(String),
    Io(std::io::Error),
}

impl From<std::io::Error> for IcapError {
    fn from(e: std::io::Error) -> Self {
        IcapError::Io(e)
    }
}

impl IcapServer {
    pub fn new(engine: Arc<Engine>, on_report: Option<ReportHook>) -> Arc<IcapServer> {
        Arc::new(IcapServer { engine, on_report })
    }

    /// Accepts connections until the listener fails or the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (socket, peer) = listener.accept().await?;
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(IcapError::Io(e)) = server.connection(socket, peer).await {
                    tracing::debug!(%peer, error = %e, "icap connection ended");
                }
            });
        }
    }

    async fn connection(&self, socket: TcpStream, peer: SocketAddr) -> Result<(), IcapError> {
        let (read, mut write) = socket.into_split();
        let mut reader = BufReader::new(read);
        loop {
            let mut request = match read_head(&mut reader).await {
                Ok(request) => request,
                Err(IcapError::Closed) => return Ok(()),
                Err(IcapError::Bad(message)) => {
                    write.write_all(&simple_response(400, "Bad Request", &message)).await?;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let response = match request.method.as_str() {
                "OPTIONS" => self.options(&request),
                "REQMOD" | "RESPMOD" => {
                    let encapsulated = request.header("Encapsulated").unwrap_or("").to_string();
                    if let Err(e) =
                        read_encapsulated(&mut reader, &mut write, &mut request, &encapsulated, self.limit()).await
                    {
                        let message = match e {
                            IcapError::Bad(message) => message,
                            other => return Err(other),
                        };
                        write.write_all(&simple_response(400, "Bad Request", &message)).await?;
                        return Ok(());
                    }
                    self.modify(request, peer).await
                }
                _ => simple_response(405, "Method Not Allowed", "only OPTIONS, REQMOD and RESPMOD"),
            };
            write.write_all(&response).await?;
        }
    }

    fn limit(&self) -> usize {
        self.engine.limits.max_object_size as usize
    }

    fn istag(&self) -> String {
        format!("\"mamori-{}\"", self.engine.store.snapshot().version)
    }

    fn options(&self, request: &Request) -> Vec<u8> {
        let methods = if request.uri.contains("req") { "REQMOD" } else { "RESPMOD" };
        format!(
            "ICAP/1.0 200 OK\r\nMethods: {methods}\r\nService: mamori-scan/{}\r\nISTag: {}\r\n\
             Encapsulated: null-body=0\r\nMax-Connections: 1000\r\nOptions-TTL: 300\r\nAllow: 204\r\n\
             Preview: {PREVIEW_BYTES}\r\nTransfer-Preview: *\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            self.istag()
        )
        .into_bytes()
    }

    async fn modify(&self, request: Request, peer: SocketAddr) -> Vec<u8> {
        let Some(body) = request.body.as_ref().filter(|b| !b.is_empty()) else {
            return self.unmodified(&request);
        };
        let name = object_name(&request);
        let engine = self.engine.clone();
        let data = body.clone();
        let scan_name = name.clone();
        let report = match tokio::task::spawn_blocking(move || engine.scan_bytes(&scan_name, &data, "")).await {
            Ok(report) => report,
            Err(e) => return simple_response(500, "Server Error", &format!("scan failed: {e}")),
        };
        if let Some(hook) = &self.on_report {
            hook(&report, peer);
        }
        match &report.verdict {
            Verdict::Infected { names } => self.blocked(&name, &names.join(", ")),
            Verdict::Suspicious { reasons } if request.body_truncated => {
                let _ = reasons; // a body too large to scan whole passes, as with other scanners
                self.unmodified(&request)
            }
            Verdict::Suspicious { reasons } => self.blocked(&name, &reasons.join("; ")),
            Verdict::Clean | Verdict::Error { .. } => self.unmodified(&request),
        }
    }

    /// 204 when the client allows it, else the message echoed back unchanged.
    fn unmodified(&self, request: &Request) -> Vec<u8> {
        if request.allows_204() {
            return format!("ICAP/1.0 204 No Content\r\nISTag: {}\r\n\r\n", self.istag()).into_bytes();
        }
        let (first, first_name) =
            if request.method == "REQMOD" { (&request.req_hdr, "req-hdr") } else { (&request.res_hdr, "res-hdr") };
        let body_name = if request.method == "REQMOD" { "req-body" } else { "res-body" };
        let mut head = format!("ICAP/1.0 200 OK\r\nISTag: {}\r\n", self.istag());
        match &request.body {
            Some(_) => head.push_str(&format!("Encapsulated: {first_name}=0, {body_name}={}\r\n\r\n", first.len())),
            None => head.push_str(&format!("Encapsulated: {first_name}=0, null-body={}\r\n\r\n", first.len())),
        }
        let mut out = head.into_bytes();
        out.extend_from_slice(first);
        if let Some(body) = &request.body {
            write_chunked(&mut out, body);
        }
        out
    }

    /// A 403 page in place of the infected message.
    fn blocked(&self, name: &str, threat: &str) -> Vec<u8> {
        let html = format!(
            "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>mamori: blocked</title></head>\
             <body><h1>ブロックしました / Blocked</h1><p>このファイルからマルウェアが検出されました。 / Malware was \
             found in this file.</p><p>{}: {}</p></body></html>",
            html_escape(name),
            html_escape(threat)
        );
        let http = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            html.len()
        );
        let threat_header: String = threat.chars().filter(|c| !c.is_control()).collect();
        let mut out = format!(
            "ICAP/1.0 200 OK\r\nISTag: {}\r\nX-Infection-Found: Type=0; Resolution=2; Threat={threat_header};\r\n\
             X-Virus-ID: {threat_header}\r\nEncapsulated: res-hdr=0, res-body={}\r\n\r\n",
            self.istag(),
            http.len()
        )
        .into_bytes();
        out.extend_from_slice(http.as_bytes());
        write_chunked(&mut out, html.as_bytes());
        out
    }
}

/// The file name a body most likely has: Content-Disposition, else the URL's last segment.
fn object_name(request: &Request) -> String {
    let res_hdr = String::from_utf8_lossy(&request.res_hdr);
    for line in res_hdr.lines() {
        if line.to_ascii_lowercase().starts_with("content-disposition:")
            && let Some(at) = line.find("filename=")
        {
            return line[at + 9..].trim().trim_matches('"').to_string();
        }
    }
    let req_hdr = String::from_utf8_lossy(&request.req_hdr);
    let target = req_hdr.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("body");
    let path = target.split(['?', '#']).next().unwrap_or(target);
    let last = path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("body");
    last.to_string()
}

async fn read_line(reader: &mut (impl AsyncBufRead + Unpin), limit: usize) -> Result<String, IcapError> {
    let mut line = Vec::new();
    let n = (&mut *reader).take(limit as u64).read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Err(IcapError::Closed);
    }
    if !line.ends_with(b"\n") {
        return Err(IcapError::Bad("line too long or truncated".into()));
    }
    Ok(String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string())
}

async fn read_head(reader: &mut (impl AsyncBufRead + Unpin)) -> Result<Request, IcapError> {
    let mut first = read_line(reader, MAX_HEADER_BYTES).await?;
    while first.is_empty() {
        first = read_line(reader, MAX_HEADER_BYTES).await?;
    }
    let mut parts = first.split_whitespace();
    let (Some(method), Some(uri), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(IcapError::Bad(format!("bad request line: {first}")));
    };
    if !version.starts_with("ICAP/1.") {
        return Err(IcapError::Bad(format!("not ICAP: {version}")));
    }
    let mut request = Request { method: method.to_string(), uri: uri.to_string(), ..Default::default() };
    let mut total = 0;
    loop {
        let line = read_line(reader, MAX_HEADER_BYTES).await?;
        total += line.len();
        if total > MAX_HEADER_BYTES {
            return Err(IcapError::Bad("ICAP headers too large".into()));
        }
        if line.is_empty() {
            return Ok(request);
        }
        let (name, value) = line.split_once(':').ok_or_else(|| IcapError::Bad(format!("bad header: {line}")))?;
        request.headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

/// Reads the parts the `Encapsulated` header announces; with a preview that did not end the
/// body (`ieof`), asks for the rest with 100 Continue.
async fn read_encapsulated(
    reader: &mut (impl AsyncBufRead + Unpin),
    writer: &mut (impl AsyncWriteExt + Unpin),
    request: &mut Request,
    encapsulated: &str,
    limit: usize,
) -> Result<(), IcapError> {
    let mut sections: Vec<(String, usize)> = Vec::new();
    for item in encapsulated.split(',') {
        let (name, offset) =
            item.trim().split_once('=').ok_or_else(|| IcapError::Bad(format!("bad Encapsulated: {encapsulated}")))?;
        let offset = offset.trim().parse().map_err(|_| IcapError::Bad(format!("bad Encapsulated: {encapsulated}")))?;
        sections.push((name.trim().to_string(), offset));
    }
    for index in 0..sections.len() {
        let (name, offset) = &sections[index];
        if name.ends_with("-body") {
            if name != "null-body" {
                read_body(reader, writer, request, limit).await?;
            }
            break;
        }
        let next = sections.get(index + 1).map(|(_, o)| *o).ok_or_else(|| IcapError::Bad("no body section".into()))?;
        let length = next.checked_sub(*offset).filter(|&l| l <= MAX_HEADER_BYTES);
        let length = length.ok_or_else(|| IcapError::Bad(format!("bad Encapsulated offsets: {encapsulated}")))?;
        let mut part = vec![0u8; length];
        reader.read_exact(&mut part).await?;
        match name.as_str() {
            "req-hdr" => request.req_hdr = part,
            "res-hdr" => request.res_hdr = part,
            other => return Err(IcapError::Bad(format!("unknown section {other}"))),
        }
    }
    Ok(())
}

async fn read_body(
    reader: &mut (impl AsyncBufRead + Unpin),
    writer: &mut (impl AsyncWriteExt + Unpin),
    request: &mut Request,
    limit: usize,
) -> Result<(), IcapError> {
    let mut body = Vec::new();
    let previewing = request.header("Preview").is_some();
    let ended_by_ieof = read_chunks(reader, &mut body, limit, &mut request.body_truncated).await?;
    if previewing && !ended_by_ieof {
        writer.write_all(b"ICAP/1.0 100 Continue\r\n\r\n").await?;
        writer.flush().await?;
        read_chunks(reader, &mut body, limit, &mut request.body_truncated).await?;
    }
    request.body = Some(body);
    Ok(())
}

/// Reads chunks up to the last (zero-size) one; returns whether it carried `ieof`. Bytes
/// beyond `limit` are read and dropped, so the connection stays in sync.
async fn read_chunks(
    reader: &mut (impl AsyncBufRead + Unpin),
    body: &mut Vec<u8>,
    limit: usize,
    truncated: &mut bool,
) -> Result<bool, IcapError> {
    loop {
        let line = read_line(reader, 1024).await?;
        let (size, extension) = line.split_once(';').unwrap_or((line.as_str(), ""));
        let size =
            usize::from_str_radix(size.trim(), 16).map_err(|_| IcapError::Bad(format!("bad chunk size: {line}")))?;
        if size == 0 {
            // Trailers (rare) up to the empty line.
            while !read_line(reader, MAX_HEADER_BYTES).await?.is_empty() {}
            return Ok(extension.trim() == "ieof");
        }
        let mut chunk = vec![0u8; size.min(1 << 20)];
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len());
            reader.read_exact(&mut chunk[..n]).await?;
            let room = limit.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..n.min(room)]);
            *truncated |= n > room;
            left -= n;
        }
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).await?;
        if &crlf != b"\r\n" {
            return Err(IcapError::Bad("chunk not followed by CRLF".into()));
        }
    }
}

fn write_chunked(out: &mut Vec<u8>, body: &[u8]) {
    for chunk in body.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
}

fn simple_response(code: u16, reason: &str, message: &str) -> Vec<u8> {
    let message: String = message.chars().filter(|c| !c.is_control()).collect();
    format!("ICAP/1.0 {code} {reason}\r\nX-Error: {message}\r\nEncapsulated: null-body=0\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
