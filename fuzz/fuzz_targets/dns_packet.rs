//! Every DNS packet a client can send: the service decodes it or answers FORMERR, never
//! panics; whatever it sends back decodes and, over UDP, fits the size the client offered.
//! The first byte picks the transport and whether the bytes are instead a zone file.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use hickory_proto::rr::Name;
use libfuzzer_sys::fuzz_target;
use mamori_dns::catalog::{Catalog, ServedZone};
use mamori_dns::zone::Zone;
use mamori_dns::{DnsService, DnsState, Reply, Transport};

const ZONE: &str = "$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n*.w TXT \"x\"\nc CNAME ns\nsub NS ns.sub\nns.sub A 192.0.2.2\n";

fn service() -> &'static (tokio::runtime::Runtime, Arc<DnsService>) {
    static S: OnceLock<(tokio::runtime::Runtime, Arc<DnsService>)> = OnceLock::new();
    S.get_or_init(|| {
        let origin: Name = "example.".parse().unwrap();
        let zone = Zone::parse(ZONE, &origin, None).unwrap();
        let served = ServedZone::new("t".into(), zone, vec!["127.0.0.1/32".parse().unwrap()]);
        let state = DnsState::new(Catalog::new(vec![served]).unwrap(), Default::default(), vec![], Default::default());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let svc = DnsService::new(state, None, None, Default::default(), Default::default());
        (rt, Arc::new(svc))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, packet)) = data.split_first() else { return };
    if mode == b'Z' {
        // The zone-file parser: any text loads or is refused with a message.
        if let Ok(text) = std::str::from_utf8(packet) {
            let _ = Zone::parse(text, &"example.".parse().unwrap(), None);
        }
        return;
    }
    let (rt, svc) = service();
    let transport = if mode & 1 == 0 { Transport::Udp } else { Transport::Tcp };
    let client: SocketAddr = "127.0.0.1:5300".parse().unwrap();
    match rt.block_on(svc.handle(packet, client, transport)) {
        Reply::One(bytes) => {
            hickory_proto::op::Message::from_vec(&bytes).expect("our reply decodes");
            if transport == Transport::Udp {
                assert!(bytes.len() <= 1232, "a UDP reply of {} bytes", bytes.len());
            }
        }
        Reply::Many(messages) => assert!(!messages.is_empty()),
        Reply::Nothing => {}
    }
});
