//! The `portalfeed` binary as a user runs it: `check`, `check --live`, `poll`, exit statuses and
//! messages that name what was wrong and where.

mod common;

use common::{Setup, Site, run_binary, source};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn check_prints_each_source_and_exits_0() {
    let setup = Setup::new(&format!(
        "{}{}",
        source(
            "leadership",
            "https://xncz.gov.cn/zqzf/ldhd.htm",
            "title = \"领导活动\"\nmax_pages = 2"
        ),
        source(
            "headlines",
            "https://xncz.gov.cn/xwzx/ttxw.htm",
            "[source.select]\nitem = \"table.winstyle106390 tr\""
        ),
    ));
    let out = setup.run(&["check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ok, 2 source(s)"), "{stdout}");
    assert!(
        stdout.contains("source leadership \"领导活动\""),
        "{stdout}"
    );
    assert!(stdout.contains("schedule  */20 * * * * (next "), "{stdout}");
    assert!(
        stdout.contains("item=\"table.winstyle106390 tr\""),
        "{stdout}"
    );
    assert!(!setup.db_path().exists(), "check touches no database");
}

#[tokio::test]
async fn a_bad_config_exits_2_naming_file_line_and_key() {
    let setup = Setup::new(&source(
        "leadership",
        "https://xncz.gov.cn/zqzf/ldhd.htm",
        "schedul = \"*/5 * * * *\"",
    ));
    for command in [&["check"][..], &["poll"][..]] {
        let out = setup.run(command).await;
        assert_eq!(out.status.code(), Some(2));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("portalfeed.toml:11: source[0].schedul: unknown field `schedul`"),
            "{stderr}"
        );
    }
    assert!(
        !setup.db_path().exists(),
        "nothing is created for a bad config"
    );
}

#[tokio::test]
async fn a_missing_config_file_and_bad_arguments_exit_2() {
    let out = run_binary(
        std::path::Path::new("/nonexistent/portalfeed.toml"),
        &["poll"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/portalfeed.toml"));
    let setup = Setup::new(&source(
        "leadership",
        "https://xncz.gov.cn/zqzf/ldhd.htm",
        "",
    ));
    let out = setup.run(&["poll", "--source", "nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no source \"nope\"")
            && text(&out.stderr).contains("leadership")
    );
    let out = setup.run(&["frobnicate"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn the_config_path_comes_from_the_environment_when_not_given() {
    let setup = Setup::new(&source(
        "leadership",
        "https://xncz.gov.cn/zqzf/ldhd.htm",
        "",
    ));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_portalfeed"))
        .arg("check")
        .env("PORTALFEED_CONFIG", &setup.config_path)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&setup.config_path.display().to_string()));
}

#[tokio::test]
async fn poll_with_source_polls_only_that_source() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&format!(
        "{}{}",
        source(
            "leadership",
            &site.url("/zqzf/ldhd.htm"),
            "fetch_articles = false"
        ),
        source(
            "headlines",
            &site.url("/xwzx/ttxw.htm"),
            "fetch_articles = false"
        ),
    ));
    let out = setup.run(&["poll", "--source", "headlines"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(site.hits_of("/zqzf/ldhd.htm"), 0);
    assert_eq!(site.hits_of("/xwzx/ttxw.htm"), 1);
    assert!(text(&out.stdout).starts_with("headlines: 1 page(s), 8 item(s), 8 new"));
}

#[tokio::test]
async fn check_live_shows_what_would_be_stored_and_stores_nothing() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&source("leadership", &site.url("/zqzf/ldhd.htm"), ""));
    let out = setup.run(&["check", "--live"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("source leadership: 12 items on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2024-01-15 00:00 CST  区政府党组召开2023年度民主生活会 [pinned]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("next page: {}", site.url("/zqzf/ldhd/2.htm"))),
        "{stdout}"
    );
    assert!(
        stdout.contains("first article") && stdout.contains("published   2024-01-15 09:00 CST"),
        "{stdout}"
    );
    assert!(!setup.db_path().exists(), "a live check stores nothing");
}

#[tokio::test]
async fn check_live_exits_1_and_names_a_failing_source() {
    let site = Site::start("vsb").await;
    let setup = Setup::new(&source("broken", &site.url("/zqzf/antibot.htm"), ""));
    let out = setup.run(&["check", "--live"]).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("check broken: fetch")
            && stderr.contains("/zqzf/antibot.htm")
            && stderr.contains("firewall"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_shipped_configs_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for path in ["config/portalfeed.toml", "systemd/portalfeed.toml"] {
        let out = run_binary(&root.join(path), &["check"]).await;
        assert_eq!(out.status.code(), Some(0), "{path}: {}", text(&out.stderr));
    }
}
