//! Runs the zero-config extractors on a saved page, for tuning them by hand:
//! `cargo run --example extract_file -- list|article FILE URL`.

use chrono::Utc;
use portalfeed::config::Selectors;
use portalfeed::extract::{extract_article, extract_list};
use portalfeed::fetch::charset;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (kind, file, url) = match args.as_slice() {
        [_, kind, file, url] => (kind.as_str(), file, url::Url::parse(url)?),
        _ => return Err("usage: extract_file list|article FILE URL".into()),
    };
    let text = charset::decode(&std::fs::read(file)?, None).text;
    let tz = chrono_tz::Asia::Shanghai;
    if kind == "list" {
        let page = extract_list(&text, &url, &Selectors::default(), tz, Utc::now());
        for i in &page.items {
            println!(
                "{:?} {} <{}>",
                i.date.map(|d| d.at.with_timezone(&tz).to_string()),
                i.title,
                i.url
            );
        }
        println!("next: {:?}", page.next_page.map(|u| u.to_string()));
    } else {
        let a = extract_article(&text, &url, None, None, tz, Utc::now())?;
        println!(
            "title: {:?}\npublished: {:?}\norigin: {:?}\nauthor: {:?}",
            a.title, a.published, a.origin, a.author
        );
        println!(
            "attachments: {:?}\ntext: {}\nhtml: {}",
            a.attachments, a.text, a.content_html
        );
    }
    Ok(())
}
