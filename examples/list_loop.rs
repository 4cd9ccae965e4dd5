//! Calls `extract_list` N times on one saved page, for counting instructions per call with
//! callgrind (BENCHMARKS.md §1): run it with N = 101 and N = 201 and divide the difference by 100,
//! which leaves out start-up and the one-time compilation of regexes and selectors.
//! `cargo build --release --example list_loop`, then
//! `valgrind --tool=callgrind target/release/examples/list_loop FILE N`.

use chrono::{TimeZone, Utc};
use portalfeed::config::Selectors;
use portalfeed::extract::extract_list;
use url::Url;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (file, n) = match args.as_slice() {
        [_, file, n] => (file, n.parse::<usize>()?),
        _ => return Err("usage: list_loop FILE N".into()),
    };
    let text = std::fs::read_to_string(file)?;
    // Fixed inputs, so that every run does the same work.
    let url = Url::parse("http://vsb.example/zqzf/ldhd.htm")?;
    let now = Utc
        .with_ymd_and_hms(2024, 5, 1, 0, 0, 0)
        .single()
        .ok_or("fixed date")?;
    let select = Selectors::default();
    let mut items = 0;
    for _ in 0..n {
        let page = extract_list(
            std::hint::black_box(&text),
            &url,
            &select,
            chrono_tz::Asia::Shanghai,
            now,
        );
        items += page.items.len();
    }
    println!("{items} items in {n} calls");
    Ok(())
}
