//! Fills a database with synthetic portal items, for the feed-server benchmarks:
//!
//! ```text
//! cargo run --release --example fill_db -- DB_PATH CONFIG_PATH ITEMS SOURCES
//! ```
//!
//! Writes CONFIG_PATH (SOURCES sources `s01`, `s02`, … with Chinese column titles and list URLs on
//! the discard port `http://127.0.0.1:9/`, `database` = DB_PATH made absolute, `listen` and
//! `public_url` on 127.0.0.1:18080), then stores ITEMS items in DB_PATH through the library, the way
//! a poll does (`Store::sync_sources`, then `Store::record_poll` with up to 500 items per
//! `PollRecord`). Each item has a Chinese title, a 2–4 KB sanitized-HTML body of several `<p>`, the
//! 200-character summary, a 来源, sometimes an author and sometimes one or two attachments; publication
//! times are spread over the two years before today (UTC midnight). Items are dealt out to the
//! sources at random, and one in 25 is listed by a second source as well (so the combined feed has
//! items with two categories). The text is deterministic: a fixed-seed LCG, no new crates. DB_PATH
//! must not exist yet.
//!
//! `benches/feed.rs` includes this file as a module and calls [`prepare`] to build the same data.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use portalfeed::config::Config;
use portalfeed::extract::Attachment;
use portalfeed::extract::attachments::mime_of;
use portalfeed::store::{ArticleContent, ArticleOutcome, ItemRecord, PollRecord, Store};
use url::Url;

/// Items per `PollRecord` (one transaction each).
pub const BATCH: usize = 500;
/// Where the server listens in the generated config.
pub const LISTEN: &str = "127.0.0.1:18080";
const SEED: u64 = 0x5eed_2024_f33d;
const SUMMARY_CHARS: usize = 200;

/// Knuth's MMIX LCG; the high bits are the output.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const COLUMNS: [&str; 20] = [
    "头条新闻",
    "领导活动",
    "政务要闻",
    "通知公告",
    "部门动态",
    "街道动态",
    "政策文件",
    "政策解读",
    "人事信息",
    "财政预决算",
    "规划计划",
    "统计信息",
    "应急管理",
    "招标采购",
    "公示公告",
    "民生实事",
    "教育卫生",
    "生态环境",
    "乡村振兴",
    "招聘信息",
];

const ORGS: [&str; 16] = [
    "城中区",
    "区委",
    "区政府",
    "区人大常委会",
    "区政协",
    "区发展和改革委员会",
    "区教育局",
    "区卫生健康局",
    "区民政局",
    "区财政局",
    "区应急管理局",
    "区市场监督管理局",
    "南滩街道",
    "人民街街道",
    "礼让街街道",
    "总寨镇",
];
const ACTIONS: [&str; 12] = [
    "召开",
    "举行",
    "开展",
    "部署",
    "印发",
    "组织召开",
    "扎实推进",
    "深入开展",
    "专题研究",
    "全力做好",
    "圆满完成",
    "启动",
];
const TOPICS: [&str; 20] = [
    "安全生产工作会议",
    "第三季度经济运行分析会",
    "“我为群众办实事”实践活动",
    "城市精细化管理专项行动",
    "冬季供暖保障工作",
    "食品安全宣传周活动",
    "防汛抗旱工作推进会",
    "优化营商环境座谈会",
    "老旧小区改造项目",
    "河湖长制工作会议",
    "消防安全隐患排查整治",
    "全民国家安全教育日宣传",
    "高校毕业生就业招聘会",
    "文明城市创建工作",
    "基层治理能力提升培训班",
    "重点项目建设调度会",
    "民族团结进步创建活动",
    "秸秆禁烧和大气污染防治工作",
    "义务教育阶段招生工作",
    "医疗保障政策宣讲",
];
const NOTICES: [&str; 8] = [
    "关于{Y}年度城中区事业单位公开招聘工作人员的公告",
    "城中区{Y}年政府信息公开工作年度报告",
    "关于公布城中区{Y}年第{N}批行政许可事项的通知",
    "城中区人民政府关于印发《城中区{Y}年重点工作任务分解方案》的通知",
    "关于{Y}年城中区老旧小区改造项目的公示",
    "城中区{Y}年{N}月份主要经济指标完成情况",
    "关于开展{Y}年度“双随机、一公开”抽查工作的通知",
    "城中区{Y}年第{N}季度重大行政决策事项目录",
];
const SENTENCES: [&str; 24] = [
    "会议传达学习了习近平总书记重要讲话精神和省委、市委有关会议精神，安排部署下一阶段重点工作。",
    "会议指出，要坚持以人民为中心的发展思想，统筹发展和安全，切实把各项工作抓实抓细抓落地。",
    "会议强调，各部门要进一步提高政治站位，压实工作责任，确保各项目标任务按期完成。",
    "今年以来，全区上下紧紧围绕年初确定的目标任务，攻坚克难、真抓实干，经济社会发展稳中有进。",
    "活动现场，工作人员通过发放宣传资料、设置咨询台、现场讲解等方式，向过往群众宣传相关政策法规。",
    "此次活动共发放宣传资料三千余份，解答群众咨询二百余人次，进一步增强了群众的安全意识和法治观念。",
    "检查组一行先后深入辖区商场超市、建筑工地、餐饮企业和老旧小区，实地查看安全隐患排查整治情况。",
    "对检查中发现的问题，检查组当场反馈并提出整改意见，要求相关单位建立台账、限期整改、跟踪问效。",
    "下一步，我区将持续加大工作力度，完善长效机制，推动各项工作取得新成效，不断提升群众获得感、幸福感、安全感。",
    "区委常委、常务副区长出席会议并讲话，区直各部门、各街道（镇）主要负责同志参加会议。",
    "会上，与会人员观看了警示教育片，相关部门负责同志汇报了前期工作开展情况及下一步工作打算。",
    "据了解，该项目总投资约一点二亿元，建成后将有效改善周边居民的出行条件和居住环境。",
    "截至目前，全区已累计完成改造小区四十二个，惠及居民八千六百余户，群众满意度持续提升。",
    "各街道、社区要充分发挥网格员作用，做到底数清、情况明，确保不漏一户、不落一人。",
    "要加强统筹协调，形成工作合力，坚决防止推诿扯皮、敷衍塞责，以钉钉子精神抓好工作落实。",
    "本次招聘坚持“公开、平等、竞争、择优”的原则，按照德才兼备的用人标准，采取考试与考察相结合的办法进行。",
    "报名时间为工作日上午九时至十二时、下午十四时至十七时三十分，逾期不予受理。",
    "如对公示内容有异议，请在公示期内以书面形式实名向区人力资源和社会保障局反映。",
    "培训采取专题讲座、案例分析、现场教学相结合的方式，内容涵盖政策理论、业务知识和实际操作等方面。",
    "参训人员纷纷表示，将把此次培训所学所获运用到实际工作中，切实提升服务群众的能力和水平。",
    "区市场监督管理局执法人员对辖区内的农贸市场、校园周边食品经营店开展了专项检查。",
    "通过此次演练，进一步检验了应急预案的科学性和可操作性，提高了各部门协同处置突发事件的能力。",
    "全区共设置便民服务点一百二十六个，为群众提供政策咨询、业务办理等一站式服务。",
    "该负责人表示，将以此次检查为契机，举一反三，全面排查整治各类风险隐患，坚决守住安全底线。",
];
const HEADINGS: [&str; 6] = [
    "一、基本情况",
    "二、主要做法",
    "三、工作成效",
    "四、存在的问题",
    "五、下一步工作打算",
    "六、有关要求",
];
const ORIGINS: [&str; 8] = [
    "城中区融媒体中心",
    "区政府办公室",
    "区委宣传部",
    "区应急管理局",
    "区教育局",
    "区卫生健康局",
    "区人力资源和社会保障局",
    "西宁晚报",
];
const AUTHORS: [&str; 6] = ["王明", "李娟", "张海涛", "马晓燕", "赵国强", "韩丽"];
const FILES: [&str; 6] = [
    "报名登记表.doc",
    "拟聘用人员名单.xlsx",
    "实施方案.pdf",
    "项目明细表.xls",
    "政策解读材料.docx",
    "申报指南.pdf",
];

/// The id of source number `n` (0-based): `s01`, `s02`, ….
pub fn source_id(n: usize) -> String {
    format!("s{:02}", n + 1)
}

fn source_title(n: usize) -> String {
    match COLUMNS.get(n) {
        Some(t) => t.to_string(),
        None => format!("{}{}", COLUMNS[n % COLUMNS.len()], n / COLUMNS.len() + 1),
    }
}

/// The config text for `sources` sources and the database at `db` (already absolute).
pub fn config_text(db: &Path, sources: usize) -> String {
    let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!(
        "# Written by `cargo run --example fill_db`: synthetic sources for the feed benchmarks.\n\
         [service]\ndatabase = {}\nlisten = \"{LISTEN}\"\npublic_url = \"http://{LISTEN}\"\n\
         timezone = \"Asia/Shanghai\"\n",
        quoted(&db.to_string_lossy())
    );
    for n in 0..sources {
        let id = source_id(n);
        out.push_str(&format!(
            "\n[[source]]\nid = \"{id}\"\ntitle = {}\nlist_url = \"http://127.0.0.1:9/{id}/list.htm\"\n\
             schedule = \"*/20 * * * *\"\n",
            quoted(&source_title(n))
        ));
    }
    out
}

/// `path` made absolute without requiring it to exist (its folder must).
fn absolute(path: &Path) -> std::io::Result<PathBuf> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.canonicalize()?,
        None => std::env::current_dir()?,
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{}: not a file name", path.display())))?;
    Ok(dir.join(name))
}

fn title(rng: &mut Lcg, year: i32) -> String {
    if rng.chance(30) {
        rng.pick(&NOTICES)
            .replace("{Y}", &year.to_string())
            .replace("{N}", &(rng.below(4) + 1).to_string())
    } else {
        format!(
            "{}{}{}",
            rng.pick(&ORGS),
            rng.pick(&ACTIONS),
            rng.pick(&TOPICS)
        )
    }
}

/// A sanitized body of several `<p>`, 2–4 KB, and its plain text.
fn body(rng: &mut Lcg, k: usize) -> (String, String) {
    let target = 2048 + rng.below(2048);
    let mut html = String::with_capacity(4200);
    let mut text = String::with_capacity(4200);
    let mut heading = 0;
    while html.len() < target {
        let mut p = String::new();
        if rng.chance(15) && heading < HEADINGS.len() {
            p.push_str(&format!("<p><strong>{}</strong></p>", HEADINGS[heading]));
            text.push_str(HEADINGS[heading]);
            heading += 1;
        } else if rng.chance(5) {
            p.push_str(&format!(
                "<p><img src=\"http://127.0.0.1:9/__local/{:X}/{k}.jpg\" alt=\"图片\"></p>",
                rng.below(0xFFFF)
            ));
        } else {
            p.push_str("<p>");
            for _ in 0..2 + rng.below(3) {
                let s = rng.pick(&SENTENCES);
                p.push_str(s);
                text.push_str(s);
            }
            p.push_str("</p>");
        }
        if html.len() + p.len() > 4096 && html.len() >= 2048 {
            break;
        }
        html.push_str(&p);
    }
    (html, text)
}

fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

fn attachments(rng: &mut Lcg, k: usize) -> Vec<Attachment> {
    let n = match rng.below(100) {
        0..=19 => 1,
        20..=27 => 2,
        _ => 0,
    };
    (0..n)
        .map(|j| {
            let file = rng.pick(&FILES);
            let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("pdf");
            Attachment {
                name: format!("附件{}：{file}", j + 1),
                url: format!(
                    "http://127.0.0.1:9/__local/{:X}/{k}_{j}.{ext}",
                    rng.below(0xFFFFF)
                ),
                mime: mime_of(file)
                    .unwrap_or("application/octet-stream")
                    .to_string(),
            }
        })
        .collect()
}

/// Item number `k` as a poll of its source would record it.
fn item(rng: &mut Lcg, k: usize, source: usize, now: DateTime<Utc>) -> ItemRecord {
    let published = now - Duration::minutes(rng.below(2 * 365 * 24 * 60) as i64 + 1);
    let year = published.format("%Y").to_string().parse().unwrap_or(2025);
    let title = title(rng, year);
    let (content_html, text) = body(rng, k);
    let content = ArticleContent {
        summary: excerpt(&text, SUMMARY_CHARS),
        content_html,
        origin: Some(rng.pick(&ORIGINS).to_string()),
        author: rng
            .chance(35)
            .then(|| format!("记者 {}", rng.pick(&AUTHORS))),
        attachments: attachments(rng, k),
    };
    let url = format!(
        "http://127.0.0.1:9/info/{}/{}.htm",
        1001 + source,
        100_000 + k
    );
    ItemRecord {
        url: Url::parse(&url).expect("generated URL"),
        title,
        published: Some(published),
        article: ArticleOutcome::Fetched(content),
    }
}

/// Stores `items` items over `sources` sources (already synced), as polls of up to [`BATCH`] items.
/// Returns the number of `record_poll` transactions.
pub fn fill(
    store: &Store,
    items: usize,
    sources: usize,
    now: DateTime<Utc>,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut rng = Lcg::new(SEED);
    let mut pending: Vec<Vec<ItemRecord>> = vec![Vec::new(); sources];
    let mut polls = 0;
    let mut flush =
        |source: usize, batch: Vec<ItemRecord>| -> Result<(), Box<dyn std::error::Error>> {
            store.record_poll(&PollRecord {
                source_id: source_id(source),
                started: now,
                pages: 1,
                not_modified: false,
                items: batch,
                validators: Vec::new(),
            })?;
            polls += 1;
            Ok(())
        };
    for k in 0..items {
        let source = rng.below(sources);
        let record = item(&mut rng, k, source, now);
        if sources > 1 && k % 25 == 0 {
            pending[(source + 1) % sources].push(record.clone());
        }
        pending[source].push(record);
        for s in [source, (source + 1) % sources] {
            if pending[s].len() >= BATCH {
                flush(s, std::mem::take(&mut pending[s]))?;
            }
        }
    }
    for (s, batch) in pending.into_iter().enumerate() {
        if !batch.is_empty() {
            flush(s, batch)?;
        }
    }
    Ok(polls)
}

/// Writes the config at `config_path`, opens (creating) the database it names, syncs the sources
/// and stores `items` items: the whole of `fill_db`, for the example and the bench.
pub fn prepare(
    db: &Path,
    config_path: &Path,
    items: usize,
    sources: usize,
) -> Result<(Config, Store), Box<dyn std::error::Error>> {
    if sources == 0 {
        return Err("SOURCES must be at least 1".into());
    }
    let db = absolute(db)?;
    if db.exists() {
        return Err(format!("{}: already exists (remove it first)", db.display()).into());
    }
    std::fs::write(config_path, config_text(&db, sources))?;
    let config = Config::load(config_path)?;
    let store = Store::open(&config.service.database)?;
    store.sync_sources(
        config
            .sources
            .iter()
            .map(|s| (s.id.as_str(), s.title.as_str(), s.list_url.as_str())),
    )?;
    // Publication times count back from today's UTC midnight, so a day's runs store the same items.
    let now = Utc::now();
    let midnight = Utc
        .timestamp_opt(now.timestamp() - now.timestamp().rem_euclid(86_400), 0)
        .single()
        .unwrap_or(now);
    fill(&store, items, sources, midnight)?;
    Ok((config, store))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, db, config, items, sources] = args.as_slice() else {
        return Err("usage: fill_db DB_PATH CONFIG_PATH ITEMS SOURCES".into());
    };
    let items: usize = items.parse().map_err(|e| format!("ITEMS: {e}"))?;
    let sources: usize = sources.parse().map_err(|e| format!("SOURCES: {e}"))?;
    let started = Instant::now();
    let (config, store) = prepare(Path::new(db), Path::new(config), items, sources)?;
    let stored = store.item_count()?;
    drop(store);
    let size = std::fs::metadata(&config.service.database)
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "fill_db: {stored} items over {sources} sources in {} ({:.1} MB) in {:.1} s; config {}",
        config.service.database.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        config.path.display()
    );
    Ok(())
}
