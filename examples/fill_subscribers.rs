//! Fills a database with subscribers and new items, for the mail benchmark (`benches/mail/run.sh`):
//!
//! ```text
//! cargo run --release --example fill_subscribers -- CONFIG_PATH [SUBSCRIBERS]
//! ```
//!
//! Everything goes through the public store API, the way the daemon would store it, in this order:
//! 1. one baseline poll per configured source (`Store::record_poll` with [`BASELINE`] items): a
//!    source's first poll is never mailed;
//! 2. SUBSCRIBERS (default 10,000) active subscribers `bench{n}@example.org`, schedule
//!    `immediate`, each with a pseudo-random non-empty subset of the sources (fixed-seed LCG);
//! 3. a second poll per source with [`NEW_PER_SOURCE`] new items of its own, plus the first new
//!    item of the next source (in config order, wrapping), so that an item listed by two of a
//!    subscriber's sources has to be mailed once.
//!
//! With 4 sources that is 20 new items, and each subscriber has 6–20 of them due. The items carry a
//! Chinese title, a ~200-character summary and a 来源, like a real article. The database named by
//! the config must not hold subscribers yet.

use std::time::Instant;

use chrono::{Duration, Utc};
use portalfeed::config::Config;
use portalfeed::store::{ArticleContent, ArticleOutcome, ItemRecord, PollRecord, Store};
use url::Url;

/// Items in each source's baseline poll.
const BASELINE: usize = 3;
/// New items of its own in each source's second poll.
const NEW_PER_SOURCE: usize = 5;
const SEED: u64 = 0x6d61_696c_2024;

/// Knuth's MMIX LCG; the high bits are the output.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TITLES: [&str; 8] = [
    "关于开展冬季安全生产大检查的通知",
    "区政府召开第三季度经济运行分析会",
    "城中区老旧小区改造项目公示",
    "关于公布行政许可事项清单的公告",
    "区应急管理局开展消防安全隐患排查整治",
    "高校毕业生就业招聘会将于本周六举行",
    "关于印发重点工作任务分解方案的通知",
    "区教育局部署义务教育阶段招生工作",
];
const SENTENCES: [&str; 6] = [
    "会议传达学习了有关会议精神，安排部署下一阶段重点工作。",
    "会议强调，各部门要进一步提高政治站位，压实工作责任，确保各项目标任务按期完成。",
    "活动现场，工作人员通过发放宣传资料、设置咨询台等方式，向群众宣传相关政策法规。",
    "对检查中发现的问题，检查组当场反馈并提出整改意见，要求建立台账、限期整改。",
    "下一步，我区将持续加大工作力度，完善长效机制，不断提升群众获得感、幸福感、安全感。",
    "如对公示内容有异议，请在公示期内以书面形式实名向有关部门反映。",
];

/// Item `k` of source number `s` (0-based) in poll `poll` (0 baseline, 1 new).
fn item(rng: &mut Lcg, s: usize, poll: usize, k: usize) -> ItemRecord {
    let title = format!(
        "{}（{}-{}-{}）",
        TITLES[rng.below(TITLES.len())],
        s + 1,
        poll,
        k + 1
    );
    let mut summary = String::new();
    while summary.chars().count() < 200 {
        summary.push_str(SENTENCES[rng.below(SENTENCES.len())]);
    }
    let summary: String = summary.chars().take(200).collect();
    let content_html = format!("<p>{summary}</p>");
    let url = format!(
        "http://127.0.0.1:9/info/{}/{}.htm",
        1001 + s,
        10_000 * (poll + 1) + k
    );
    ItemRecord {
        url: Url::parse(&url).expect("generated URL"),
        title,
        published: Some(Utc::now() - Duration::minutes(rng.below(600) as i64)),
        article: ArticleOutcome::Fetched(ArticleContent {
            content_html,
            summary,
            origin: Some("城中区融媒体中心".to_string()),
            author: None,
            attachments: Vec::new(),
        }),
    }
}

fn poll(store: &Store, source_id: &str, items: Vec<ItemRecord>) -> Result<u32, String> {
    store
        .record_poll(&PollRecord {
            source_id: source_id.to_string(),
            started: Utc::now(),
            pages: 1,
            not_modified: false,
            items,
            validators: Vec::new(),
        })
        .map(|c| c.items_new)
        .map_err(|e| format!("record_poll {source_id}: {e}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (config_path, subscribers) = match args.as_slice() {
        [_, c] => (c, 10_000),
        [_, c, n] => (c, n.parse().map_err(|e| format!("SUBSCRIBERS: {e}"))?),
        _ => return Err("usage: fill_subscribers CONFIG_PATH [SUBSCRIBERS]".into()),
    };
    let started = Instant::now();
    let config = Config::load(std::path::Path::new(config_path))?;
    let ids: Vec<String> = config.sources.iter().map(|s| s.id.clone()).collect();
    let n = ids.len();
    if n == 0 || n > 16 {
        return Err("the config needs 1 to 16 sources".into());
    }
    let store = Store::open(&config.service.database)?;
    if !store.subscribers()?.is_empty() {
        return Err(format!(
            "{}: already has subscribers (remove it first)",
            config.service.database.display()
        )
        .into());
    }
    store.sync_sources(
        config
            .sources
            .iter()
            .map(|s| (s.id.as_str(), s.title.as_str(), s.list_url.as_str())),
    )?;
    let mut rng = Lcg(SEED);

    // 1. Baselines.
    for (s, id) in ids.iter().enumerate() {
        let items = (0..BASELINE).map(|k| item(&mut rng, s, 0, k)).collect();
        poll(&store, id, items)?;
    }

    // 2. Subscribers, each with a non-empty subset of the sources (a bit mask in 1..2^n).
    let mut masks = Vec::with_capacity(subscribers);
    for i in 0..subscribers {
        let mask = 1 + rng.below((1 << n) - 1);
        let chosen: Vec<String> = (0..n)
            .filter(|b| mask & (1 << b) != 0)
            .map(|b| ids[b].clone())
            .collect();
        store.upsert_subscriber(
            &format!("bench{:05}@example.org", i + 1),
            &chosen,
            "immediate",
            "active",
        )?;
        masks.push(mask);
    }
    // Items are mailed when first seen at or after the subscriber's `since` (whole seconds): make
    // sure the new items come at least one tick after the last subscription.
    std::thread::sleep(std::time::Duration::from_millis(1100));

    // 3. New items: each source's own, plus the first new one of the next source.
    let fresh: Vec<Vec<ItemRecord>> = (0..n)
        .map(|s| {
            (0..NEW_PER_SOURCE)
                .map(|k| item(&mut rng, s, 1, k))
                .collect()
        })
        .collect();
    let mut listed = 0;
    for (s, id) in ids.iter().enumerate() {
        let mut items = fresh[s].clone();
        if n > 1 {
            items.push(fresh[(s + 1) % n][0].clone());
        }
        listed += items.len();
        poll(&store, id, items)?;
    }

    // Items due per subscriber: the union of what their sources list.
    let due = |mask: usize| -> usize {
        let mut own = 0;
        let mut borrowed = 0;
        for b in 0..n {
            if mask & (1 << b) != 0 {
                own += NEW_PER_SOURCE;
                // Source b also lists the first item of source b+1: new to them unless they have b+1.
                if n > 1 && mask & (1 << ((b + 1) % n)) == 0 {
                    borrowed += 1;
                }
            }
        }
        own + borrowed
    };
    let dues: Vec<usize> = masks.iter().map(|&m| due(m)).collect();
    let total: usize = dues.iter().sum();
    println!(
        "fill_subscribers: {n} sources ({BASELINE} baseline items each), {subscribers} active subscribers, \
         {} new items ({listed} listings); items due per subscriber {}–{} (mean {:.1}, {total} in all); \
         database {} in {:.1} s",
        n * NEW_PER_SOURCE,
        dues.iter().min().unwrap_or(&0),
        dues.iter().max().unwrap_or(&0),
        total as f64 / subscribers.max(1) as f64,
        config.service.database.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
