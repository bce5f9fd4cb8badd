//! Tenant attribution speed: 10,000 prefixes (IPv4 and IPv6, nested), random addresses.
//! Run by `bench/tenant-lookup`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use ipnet::IpNet;
use mamori_core::prefix_map::PrefixMap;

fn main() {
    let prefixes: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let lookups: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(20_000_000);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let nets: Vec<(IpNet, usize)> = (0..prefixes)
        .map(|i| {
            let net = if i % 4 == 3 {
                let addr = Ipv6Addr::from(((0x2001_0db8u128) << 96) | ((rnd() as u128) << 32));
                IpNet::new(IpAddr::V6(addr), 32 + (rnd() % 33) as u8).unwrap()
            } else {
                IpNet::new(IpAddr::V4(Ipv4Addr::from(rnd() as u32)), 12 + (rnd() % 17) as u8).unwrap()
            };
            (net.trunc(), i)
        })
        .collect();
    let t = Instant::now();
    let map = PrefixMap::new(nets);
    let build = t.elapsed();
    let ips: Vec<IpAddr> = (0..1 << 16)
        .map(|i| {
            if i % 4 == 3 {
                IpAddr::V6(Ipv6Addr::from(((0x2001_0db8u128) << 96) | rnd() as u128))
            } else {
                IpAddr::V4(Ipv4Addr::from(rnd() as u32))
            }
        })
        .collect();
    let mut hits = 0usize;
    let t = Instant::now();
    for i in 0..lookups {
        if black_box(map.lookup(black_box(ips[i & 0xffff]))).is_some() {
            hits += 1;
        }
    }
    let per = t.elapsed().as_nanos() as f64 / lookups as f64;
    println!(
        "{prefixes} prefixes built in {:.1} ms; {lookups} lookups, {hits} hits, {per:.1} ns per lookup",
        build.as_secs_f64() * 1000.0
    );
}
