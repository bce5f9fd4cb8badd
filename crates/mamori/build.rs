//! Link options of mamori's programs.

fn main() {
    // `mamori-scanner` packs its relative relocations (DT_RELR, glibc 2.36 and later): as a
    // position-independent program its relocation table is otherwise 1.2 MB that the dynamic
    // loader reads at every start and that then stays resident (measured with
    // /proc/PID/pagemap: 14.2 MiB resident with the ClamAV benchmark database loaded, 12.9 MiB
    // packed). Only on Linux with GNU-compatible linkers, where the option exists.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bin=mamori-scanner=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
