//! Build script: links the `portalfeed` binary with packed relative relocations (DT_RELR) on
//! Linux with glibc.
//!
//! A position-independent executable carries one 24-byte relocation record for every pointer in
//! its read-only data (vtables, string tables, panic locations): 1.5 MiB for portalfeed, which
//! the loader reads at every start and which then stays resident for the daemon's whole life.
//! Packed as a bitmap, the same relocations take a few KiB. This needs glibc 2.36 or later at run
//! time and binutils 2.38 (or lld) at link time, which Debian 12 and Ubuntu 22.10 have; on an
//! older system build with `PORTALFEED_PLAIN_RELOCS=1`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PORTALFEED_PLAIN_RELOCS");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let opted_out = std::env::var_os("PORTALFEED_PLAIN_RELOCS").is_some_and(|v| v != "0");
    if os == "linux" && env == "gnu" && !opted_out {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
