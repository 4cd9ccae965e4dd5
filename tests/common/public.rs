//! The public page's fixture: the portal polled once (headlines and leadership) and `serve`
//! running with mail, for the HTTP test of the page (tests/public_page.rs) and the browser test
//! (tests/browser.rs).

use super::daemon::{DaemonSetup, Running};
use super::smtp::SmtpServer;
use super::{Site, source};

pub struct Public {
    pub site: Site,
    pub smtp: SmtpServer,
    pub setup: DaemonSetup,
    pub server: Running,
}

/// The fixture portal polled once (headlines and leadership) and `serve` running with mail.
pub async fn public() -> Public {
    let site = Site::start("vsb").await;
    let smtp = SmtpServer::start().await;
    let sources = format!(
        "{}{}",
        source(
            "headlines",
            &site.url("/xwzx/ttxw.htm"),
            "title = \"头条新闻\"\nfetch_articles = false"
        ),
        source(
            "leadership",
            &site.url("/zqzf/ldhd/1.htm"),
            "title = \"领导活动\"\nfetch_articles = false"
        ),
    );
    let email = format!(
        "[email]\nsmtp_url = \"{}\"\nfrom = \"城中区政务信息订阅 <subscribe@example.gov.cn>\"\nsecret = \"test-secret-0123456789\"\n",
        smtp.url()
    );
    let setup = DaemonSetup::new(
        "title = \"西宁市城中区人民政府信息订阅\"",
        &format!("{sources}{email}"),
    );
    let out = super::run_binary(&setup.config_path, &["poll"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = setup.start_serve().await;
    Public {
        site,
        smtp,
        setup,
        server,
    }
}
