//! The ClientHello reader of the web proxy's CONNECT tunnels: any bytes a client sends first.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori_proxy::server_name(data);
});
