//! One poll of one source: list pages (conditional, paginated), new items' article pages, one
//! transaction.
//!
//! Promises: each article is fetched once (later polls fetch only new items and bounded retries of
//! failed ones); an item listed by two sources is fetched and stored once and belongs to both; a
//! failing source is logged with its URL and leaves everything stored untouched; a list page that
//! yields no items is a failure (a layout change), never "nothing new"; a Retry-After pauses the
//! host for later polls too. Sources on different hosts are polled in parallel, a few at a time;
//! requests to one host are spaced by the fetcher's host gate.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use super::access::busy_status;
use crate::config::{Config, Source};
use crate::extract::{self, Article, ExtractError, ListItem, ListPage, same_site};
use crate::fetch::robots::Rules;
use crate::fetch::{FetchError, Fetcher, Page};
use crate::store::{
    ArticleContent, ArticleOutcome, ItemRecord, PollCounts, PollRecord, Store, StoreError,
    Validators, item_id,
};

/// Hosts polled at the same time.
const PARALLEL_HOSTS: usize = 4;

/// Why a source's poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("fetch {url}: {error}")]
    Fetch { url: Url, error: FetchError },
    #[error("extract {url}: {error}")]
    Extract { url: Url, error: ExtractError },
    #[error("host {host} asked us to wait until {until} ({reason})")]
    Paused {
        host: String,
        until: DateTime<Utc>,
        reason: String,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Task(String),
}

/// A successful poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Polled {
    pub pages: u32,
    pub not_modified: bool,
    pub counts: PollCounts,
}

/// The result of polling one source.
#[derive(Debug)]
pub struct SourceReport {
    pub source_id: String,
    pub result: Result<Polled, PollError>,
}

/// A host's pause (until, why) as last read, and when it was read.
pub(super) type PauseMemo = (Option<(DateTime<Utc>, String)>, std::time::Instant);

/// Parsed robots.txt rules of one origin, and when they were fetched.
pub(super) type RobotsMemo = (Arc<Rules>, DateTime<Utc>);

/// An item's place in the poll's result: decided, or waiting for its article's extraction.
enum Slot {
    Done(ItemRecord),
    Extracting(
        ListItem,
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Article, PollError>> + Send>>,
    ),
}

/// What a poll read from a source's list pages.
#[derive(Default)]
struct Lists {
    /// In page order, one per URL.
    items: Vec<ListItem>,
    /// Of the pages answered 200.
    validators: Vec<(String, Validators)>,
    pages: u32,
    /// Page 1 answered 304.
    not_modified: bool,
}

/// Polls sources into the store.
pub struct Poller {
    pub(super) config: Arc<Config>,
    store: Arc<Store>,
    pub(super) fetcher: Arc<Fetcher>,
    /// Parsed robots.txt rules by origin, with when they were fetched.
    pub(super) robots: Mutex<HashMap<String, RobotsMemo>>,
    /// Hosts' Retry-After pauses as last looked up, and when.
    pub(super) pauses: Mutex<HashMap<String, PauseMemo>>,
}

impl Poller {
    pub fn new(config: Arc<Config>, store: Arc<Store>) -> Result<Poller, FetchError> {
        let fetcher = Arc::new(Fetcher::new(&config.fetch)?);
        Ok(Poller::with_fetcher(config, store, fetcher))
    }

    /// A poller over an existing fetcher: the daemon keeps one across config reloads so that its
    /// per-host spacing is never reset.
    pub fn with_fetcher(config: Arc<Config>, store: Arc<Store>, fetcher: Arc<Fetcher>) -> Poller {
        Poller {
            config,
            store,
            fetcher,
            robots: Mutex::new(HashMap::new()),
            pauses: Mutex::new(HashMap::new()),
        }
    }

    /// The config this poller works with.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }

    /// The fetcher, to share with a later poller.
    pub fn fetcher(&self) -> Arc<Fetcher> {
        Arc::clone(&self.fetcher)
    }

    /// Polls the sources with the given ids (all when `None`), hosts in parallel; reports come back
    /// in config order.
    pub async fn poll_all(self: &Arc<Self>, only: Option<&[String]>) -> Vec<SourceReport> {
        let chosen: Vec<Source> = self
            .config
            .sources
            .iter()
            .filter(|s| only.is_none_or(|ids| ids.contains(&s.id)))
            .cloned()
            .collect();
        let mut by_host: HashMap<String, Vec<Source>> = HashMap::new();
        for s in &chosen {
            by_host
                .entry(s.list_url.host_str().unwrap_or("").to_string())
                .or_default()
                .push(s.clone());
        }
        let permits = Arc::new(Semaphore::new(PARALLEL_HOSTS));
        let mut tasks = JoinSet::new();
        for (_, sources) in by_host {
            let (me, permits) = (Arc::clone(self), Arc::clone(&permits));
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let mut reports = Vec::new();
                for s in sources {
                    reports.push(me.poll_source(&s).await);
                }
                reports
            });
        }
        let mut reports: HashMap<String, SourceReport> = HashMap::new();
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(rs) => reports.extend(rs.into_iter().map(|r| (r.source_id.clone(), r))),
                Err(e) => tracing::error!(error = %e, "poll task failed"),
            }
        }
        chosen
            .iter()
            .map(|s| {
                reports.remove(&s.id).unwrap_or_else(|| SourceReport {
                    source_id: s.id.clone(),
                    result: Err(PollError::Task(
                        "the poll task ended without a report".into(),
                    )),
                })
            })
            .collect()
    }

    /// Polls one source and logs the outcome in the store.
    pub async fn poll_source(&self, source: &Source) -> SourceReport {
        let started = Utc::now();
        let result = self.poll_inner(source, started).await;
        match &result {
            Ok(p) => {
                tracing::info!(source = %source.id, pages = p.pages, not_modified = p.not_modified,
                seen = p.counts.items_seen, new = p.counts.items_new, articles = p.counts.articles_fetched, "polled")
            }
            Err(e) => {
                tracing::warn!(source = %source.id, error = %e, "poll failed");
                let store = Arc::clone(&self.store);
                let (id, msg) = (source.id.clone(), e.to_string());
                let logged =
                    tokio::task::spawn_blocking(move || store.record_failure(&id, started, &msg))
                        .await;
                if let Ok(Err(e)) = logged {
                    tracing::error!(source = %source.id, error = %e, "cannot log the failed poll");
                }
            }
        }
        SourceReport {
            source_id: source.id.clone(),
            result,
        }
    }

    async fn poll_inner(
        &self,
        source: &Source,
        started: DateTime<Utc>,
    ) -> Result<Polled, PollError> {
        if !source.respect_robots {
            tracing::warn!(source = %source.id, "robots.txt is ignored for this source (respect_robots = false)");
        }
        let Lists {
            items,
            validators,
            pages,
            not_modified,
        } = self.read_lists(source).await?;
        let ids: Vec<String> = items.iter().map(|i| item_id(&i.url)).collect();
        let known = self.blocking(move |s| s.known_items(&ids)).await?;
        let id = source.id.clone();
        let retries = self.blocking(move |s| s.article_retries(&id)).await?;
        let records = self.articles(source, items, &known, retries).await;
        let record = PollRecord {
            source_id: source.id.clone(),
            started,
            pages,
            not_modified,
            items: records,
            validators,
        };
        let counts = self.blocking(move |s| s.record_poll(&record)).await?;
        Ok(Polled {
            pages,
            not_modified,
            counts,
        })
    }

    /// Runs a store call off the async threads.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PollError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| PollError::Task(e.to_string()))?
            .map_err(PollError::Store)
    }

    /// Reads up to `max_pages` list pages, following each page's next link.
    async fn read_lists(&self, source: &Source) -> Result<Lists, PollError> {
        let mut read = Lists::default();
        let mut seen_urls = HashSet::new();
        let mut visited = HashSet::new();
        let mut next = Some(source.list_url.clone());
        while let Some(url) = next.take() {
            if read.pages >= source.max_pages || !visited.insert(url.clone()) {
                break;
            }
            let key = url.to_string();
            let saved = self.blocking(move |s| s.validators(&key)).await?;
            let page = match self.fetch(source, &url, saved.as_ref()).await {
                Err(PollError::Fetch {
                    error: FetchError::NotModified,
                    ..
                }) => {
                    read.not_modified = read.pages == 0;
                    return Ok(read);
                }
                other => other?,
            };
            read.pages += 1;
            let list = list_page(source, &page, self.config.service.timezone).await?;
            if list.items.is_empty() {
                if read.pages == 1 {
                    return Err(PollError::Extract {
                        url: page.url,
                        error: ExtractError::NoItems,
                    });
                }
                break;
            }
            read.validators
                .push((url.to_string(), page.validators.clone()));
            read.items.extend(
                list.items
                    .into_iter()
                    .filter(|i| seen_urls.insert(i.url.clone())),
            );
            next = list.next_page;
        }
        Ok(read)
    }

    /// Decides, fetches and extracts the article pages of this poll.
    async fn articles(
        &self,
        source: &Source,
        items: Vec<ListItem>,
        known: &HashMap<String, crate::store::KnownItem>,
        retries: Vec<crate::store::RetryItem>,
    ) -> Vec<ItemRecord> {
        let retry_urls: HashSet<Url> = retries.iter().map(|r| r.url.clone()).collect();
        let mut work: Vec<ListItem> = items;
        for crate::store::RetryItem {
            url,
            title,
            published,
        } in retries
        {
            if !work.iter().any(|i| i.url == url) {
                let date = published.map(|at| extract::FoundDate { at, has_time: true });
                work.push(ListItem {
                    url,
                    title,
                    title_cut: false,
                    date,
                    pinned: false,
                });
            }
        }
        // Each page is extracted on the blocking pool while the next one is fetched, so one host
        // is still asked one request at a time but both cores are used.
        let mut slots: Vec<Slot> = Vec::with_capacity(work.len());
        let mut host_trouble: Option<String> = None;
        for item in work {
            let is_known = known.contains_key(&item_id(&item.url));
            let outcome = if is_known && !retry_urls.contains(&item.url) {
                ArticleOutcome::Unchanged
            } else if !same_site(&source.list_url, &item.url) {
                ArticleOutcome::External
            } else if !source.fetch_articles {
                ArticleOutcome::Skipped
            } else if let Some(why) = &host_trouble {
                ArticleOutcome::Deferred(why.clone())
            } else {
                match self.fetch(source, &item.url, None).await {
                    // Redirected over HTTP to another site: what is there is not ours to store.
                    Ok(page) if !same_site(&source.list_url, &page.url) => {
                        tracing::info!(source = %source.id, url = %item.url, to = %page.url, "article redirects to another site; kept as an external item");
                        ArticleOutcome::External
                    }
                    Ok(page) => {
                        let extracting = Box::pin(self.extract_article(source, page, &item.title));
                        slots.push(Slot::Extracting(item, extracting));
                        continue;
                    }
                    Err(e) => {
                        if matches!(e, PollError::Paused { .. })
                            || matches!(&e, PollError::Fetch { error, .. } if error.retry_after().is_some() || busy_status(error))
                        {
                            host_trouble = Some(e.to_string());
                        }
                        tracing::warn!(source = %source.id, error = %e, "article not stored whole; will retry");
                        ArticleOutcome::Failed(e.to_string())
                    }
                }
            };
            slots.push(Slot::Done(ItemRecord {
                url: item.url,
                title: item.title,
                published: item.date.map(|d| d.at),
                article: outcome,
            }));
        }
        let mut records = Vec::with_capacity(slots.len());
        for slot in slots {
            records.push(match slot {
                Slot::Done(record) => record,
                Slot::Extracting(item, extracting) => match extracting.await {
                    Ok(article) => merge(item, article),
                    // A page that only sends the reader elsewhere: there is nothing to retry.
                    Err(e @ PollError::Extract { error: ExtractError::Redirect(_), .. }) => {
                        tracing::info!(source = %source.id, error = %e, "article is a redirect; kept as an external item");
                        let published = item.date.map(|d| d.at);
                        ItemRecord { url: item.url, title: item.title, published, article: ArticleOutcome::External }
                    }
                    Err(e) => {
                        tracing::warn!(source = %source.id, error = %e, "article not stored whole; will retry");
                        let published = item.date.map(|d| d.at);
                        ItemRecord { url: item.url, title: item.title, published, article: ArticleOutcome::Failed(e.to_string()) }
                    }
                },
            });
        }
        records
    }

    /// Extracts a fetched article page on the blocking pool.
    fn extract_article(
        &self,
        source: &Source,
        page: Page,
        hint: &str,
    ) -> impl std::future::Future<Output = Result<Article, PollError>> + use<> {
        let (content, tz, hint) = (
            source.select.content.clone(),
            self.config.service.timezone,
            hint.to_string(),
        );
        let url = page.url.clone();
        let handle = tokio::task::spawn_blocking(move || {
            extract::extract_article(
                &page.text,
                &page.url,
                content.as_ref(),
                Some(&hint),
                tz,
                Utc::now(),
            )
        });
        async move {
            handle
                .await
                .map_err(|e| PollError::Task(e.to_string()))?
                .map_err(|error| PollError::Extract { url, error })
        }
    }

    pub(super) async fn article(
        &self,
        source: &Source,
        item: &ListItem,
    ) -> Result<Article, PollError> {
        let page = self.fetch(source, &item.url, None).await?;
        self.extract_article(source, page, &item.title).await
    }
}

/// Extracts a list page off the async threads.
pub async fn list_page(
    source: &Source,
    page: &Page,
    tz: chrono_tz::Tz,
) -> Result<ListPage, PollError> {
    let (text, url, select) = (page.text.clone(), page.url.clone(), source.select.clone());
    tokio::task::spawn_blocking(move || extract::extract_list(&text, &url, &select, tz, Utc::now()))
        .await
        .map_err(|e| PollError::Task(e.to_string()))
}

/// The item as stored: the article's whole title when the list cut it, the article's time when it
/// has one (it has minutes; the list has only a day).
pub fn merge(item: ListItem, article: Article) -> ItemRecord {
    let title = match &article.title {
        Some(t)
            if item.title_cut
                || (t.starts_with(&item.title)
                    && t.chars().count() > item.title.chars().count()) =>
        {
            t.clone()
        }
        _ => item.title,
    };
    let published = match (article.published, item.date) {
        (Some(a), _) if a.has_time => Some(a.at),
        (_, Some(l)) => Some(l.at),
        (a, None) => a.map(|a| a.at),
    };
    let content = ArticleContent {
        content_html: article.content_html,
        summary: article.summary,
        origin: article.origin,
        author: article.author,
        attachments: article.attachments,
    };
    ItemRecord {
        url: item.url,
        title,
        published,
        article: ArticleOutcome::Fetched(content),
    }
}
