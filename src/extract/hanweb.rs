//! Hanweb (大汉) column pages carry their first page of items as an XML data island that a script
//! renders: `<script type="text/xml"><datastore>…<record><![CDATA[<li>…</li>]]></record>…`. The
//! records' HTML, joined under one `<ul>`, is the list.

use std::sync::LazyLock;

use regex::Regex;

static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>").expect("static regex")
});

/// The records of a data island as one HTML document, when the page has one.
pub fn records_html(html: &str) -> Option<String> {
    let start = html.find("<datastore")?;
    let island = &html[start..];
    let mut out = String::from("<html><body><ul class=\"datastore-records\">");
    let mut count = 0;
    for caps in RECORD.captures_iter(island) {
        let record = caps.get(1).map(|m| m.as_str()).unwrap_or("");
        let trimmed = record.trim_start();
        // Records are usually <li>s; wrap anything else so every record stays one sibling.
        if trimmed.starts_with("<li") {
            out.push_str(record);
        } else {
            out.push_str("<li>");
            out.push_str(record);
            out.push_str("</li>");
        }
        count += 1;
    }
    out.push_str("</ul></body></html>");
    (count > 0).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn records_become_one_list() {
        let html = r#"<script type="text/xml"><datastore><recordset><record><![CDATA[<li><a href="/art/2024/3/5/art_1_2.html">标题一</a></li>]]></record><record><![CDATA[<div><a href="/x">二</a></div>]]></record></recordset></datastore></script>"#;
        let out = super::records_html(html).unwrap();
        assert_eq!(out.matches("<li").count(), 2);
        assert!(super::records_html("<html></html>").is_none());
    }
}
