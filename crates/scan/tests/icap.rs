//! The ICAP server over raw sockets: OPTIONS, RESPMOD and REQMOD with and without preview,
//! 204 for clean bodies, a replacement 403 for infected ones.

use mamori_scan::clamav::EICAR;
use mamori_scan::icap::IcapServer;
use mamori_scan::{Engine, Limits, SignatureConfig, SignatureStore};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start() -> std::net::SocketAddr {
    let store = Arc::new(SignatureStore::open(SignatureConfig::default()));
    let engine = Arc::new(Engine::new(store, Limits::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(IcapServer::new(engine, None).serve(listener));
    addr
}

/// Reads one ICAP response: head, then (when there is a body) chunks up to `0\r\n\r\n`.
async fn read_response(socket: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        socket.read_exact(&mut byte).await.unwrap();
        out.push(byte[0]);
        let text = String::from_utf8_lossy(&out);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let head = &text[..head_end];
            let has_body = head.contains("res-body=") || head.contains("req-body=");
            if !has_body || text[head_end + 4..].ends_with("0\r\n\r\n") {
                return text.into_owned();
            }
        }
    }
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n0\r\n\r\n");
    out
}

fn respmod(body: &[u8], preview: Option<usize>) -> (Vec<u8>, Vec<u8>) {
    let req_hdr = b"GET http://example.jp/files/eicar.com HTTP/1.1\r\nHost: example.jp\r\n\r\n".to_vec();
    let res_hdr = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    let preview_header = preview.map(|p| format!("Preview: {p}\r\n")).unwrap_or_default();
    let mut head = format!(
        "RESPMOD icap://127.0.0.1/respmod ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\n{preview_header}\
         Encapsulated: req-hdr=0, res-hdr={}, res-body={}\r\n\r\n",
        req_hdr.len(),
        req_hdr.len() + res_hdr.len()
    )
    .into_bytes();
    head.extend_from_slice(&req_hdr);
    head.extend_from_slice(&res_hdr);
    (head, body.to_vec())
}

#[tokio::test]
async fn options_advertises_preview_and_204() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(b"OPTIONS icap://127.0.0.1/respmod ICAP/1.0\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let response = read_response(&mut socket).await;
    assert!(response.starts_with("ICAP/1.0 200 OK\r\n"), "{response}");
    assert!(response.contains("Methods: RESPMOD"), "{response}");
    assert!(response.contains("Allow: 204"), "{response}");
    assert!(response.contains("Preview: "), "{response}");
    assert!(response.contains("ISTag: \"mamori-1\""), "{response}");
}

#[tokio::test]
async fn respmod_clean_is_204_and_infected_is_403() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let (mut request, body) = respmod(b"hello, clean body", None);
    request.extend(chunked(&body));
    socket.write_all(&request).await.unwrap();
    let response = read_response(&mut socket).await;
    assert!(response.starts_with("ICAP/1.0 204 No Content"), "{response}");

    // Same connection (keep-alive): an infected body.
    let (mut request, body) = respmod(EICAR.as_bytes(), None);
    request.extend(chunked(&body));
    socket.write_all(&request).await.unwrap();
    let response = read_response(&mut socket).await;
    assert!(response.starts_with("ICAP/1.0 200 OK"), "{response}");
    assert!(response.contains("X-Infection-Found: Type=0; Resolution=2; Threat=Eicar-Test-Signature;"), "{response}");
    assert!(response.contains("HTTP/1.1 403 Forbidden"), "{response}");
}

#[tokio::test]
async fn preview_then_continue() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let (mut request, body) = respmod(EICAR.as_bytes(), Some(10));
    // Preview of 10 bytes without ieof: the server must answer 100 Continue.
    request.extend_from_slice(b"a\r\n");
    request.extend_from_slice(&body[..10]);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    socket.write_all(&request).await.unwrap();
    let mut continue_line = [0u8; 25];
    socket.read_exact(&mut continue_line).await.unwrap();
    assert_eq!(&continue_line, b"ICAP/1.0 100 Continue\r\n\r\n");
    socket.write_all(&chunked(&body[10..])).await.unwrap();
    let response = read_response(&mut socket).await;
    assert!(response.contains("Threat=Eicar-Test-Signature"), "{response}");

    // A preview that holds the whole body (ieof): no 100 Continue, direct answer.
    let (mut request, body) = respmod(b"tiny", Some(10));
    request.extend_from_slice(b"4\r\ntiny\r\n0; ieof\r\n\r\n");
    let _ = body;
    socket.write_all(&request).await.unwrap();
    let response = read_response(&mut socket).await;
    assert!(response.starts_with("ICAP/1.0 204 No Content"), "{response}");
}

#[tokio::test]
async fn reqmod_upload_and_echo_without_204() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let req_hdr = b"POST http://example.jp/upload HTTP/1.1\r\nHost: example.jp\r\n\r\n";
    let head = format!(
        "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, req-body={}\r\n\r\n",
        req_hdr.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(req_hdr);
    request.extend(chunked(b"clean upload"));
    socket.write_all(&request).await.unwrap();
    // No Allow: 204, so the request comes back unchanged in a 200.
    let response = read_response(&mut socket).await;
    assert!(response.starts_with("ICAP/1.0 200 OK"), "{response}");
    assert!(response.contains("POST http://example.jp/upload"), "{response}");
    assert!(response.contains("clean upload"), "{response}");

    let mut request = format!(
        "REQMOD icap://127.0.0.1/reqmod ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, req-body={}\r\n\r\n",
        req_hdr.len()
    )
    .into_bytes();
    request.extend_from_slice(req_hdr);
    request.extend(chunked(EICAR.as_bytes()));
    socket.write_all(&request).await.unwrap();
    let response = read_response(&mut socket).await;
    assert!(response.contains("HTTP/1.1 403 Forbidden"), "{response}");
}

#[tokio::test]
async fn garbage_gets_400_not_a_hang() {
    let addr = start().await;
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket.write_all(b"HELLO there\r\n\r\n").await.unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("ICAP/1.0 400"), "{response}");
}
