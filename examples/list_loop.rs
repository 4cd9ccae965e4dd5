// Temporary profiling harness (not committed).
use chrono::{TimeZone, Utc};
use portalfeed::config::Selectors;
use portalfeed::extract::extract_list;
use url::Url;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let n: usize = args[2].parse().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let url = Url::parse("http://vsb.example/zqzf/ldhd.htm").unwrap();
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let sel = Selectors::default();
    let mut total = 0;
    for _ in 0..n {
        let got = extract_list(
            std::hint::black_box(&text),
            &url,
            &sel,
            chrono_tz::Asia::Shanghai,
            now,
        );
        total += got.items.len();
    }
    println!("{total}");
}
