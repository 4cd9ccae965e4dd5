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
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::config::{Config, Source};
use crate::extract::{self, Article, ExtractError, ListItem, ListPage, same_site};
use crate::fetch::robots::{self, Rules};
use crate::fetch::{FetchError, Fetcher, Page};
use crate::store::{
    ArticleContent, ArticleOutcome, ItemRecord, PollCounts, PollRecord, Store, StoreError,
    Validators, item_id,
};

/// Hosts polled at the same time.
const PARALLEL_HOSTS: usize = 4;
/// The longest pause a Retry-After can impose.
const MAX_PAUSE: Duration = Duration::from_secs(6 * 3600);

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

/// Polls sources into the store.
pub struct Poller {
    config: Arc<Config>,
    store: Arc<Store>,
    fetcher: Fetcher,
    robots: Mutex<HashMap<String, Arc<Rules>>>,
}

impl Poller {
    pub fn new(config: Arc<Config>, store: Arc<Store>) -> Result<Poller, FetchError> {
        let fetcher = Fetcher::new(&config.fetch)?;
        Ok(Poller {
            config,
            store,
            fetcher,
            robots: Mutex::new(HashMap::new()),
        })
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
        let (items, validators, pages, not_modified) = self.read_lists(source).await?;
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
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PollError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| PollError::Task(e.to_string()))?
            .map_err(PollError::Store)
    }

    /// Fetches `url` after checking host pauses and robots.txt.
    async fn fetch(
        &self,
        source: &Source,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Page, PollError> {
        let host = url.host_str().unwrap_or("").to_string();
        let now = Utc::now();
        let h = host.clone();
        if let Some((until, reason)) = self.blocking(move |s| s.host_pause(&h, now)).await? {
            return Err(PollError::Paused {
                host,
                until,
                reason,
            });
        }
        if source.respect_robots && !self.rules(url, source.insecure_tls).await?.allows(url) {
            return Err(PollError::Fetch {
                url: url.clone(),
                error: FetchError::Robots,
            });
        }
        let answer = self.fetcher.get(url, validators, source.insecure_tls).await;
        if let Err(error) = &answer
            && let Some(wait) = error
                .retry_after()
                .or_else(|| busy_status(error).then_some(Duration::from_secs(300)))
        {
            let until = now + chrono::Duration::from_std(wait.min(MAX_PAUSE)).unwrap_or_default();
            let reason = format!("{error} from {url}");
            self.blocking(move |s| s.pause_host(&host, until, &reason))
                .await?;
        }
        answer.map_err(|error| PollError::Fetch {
            url: url.clone(),
            error,
        })
    }

    async fn rules(&self, url: &Url, insecure_tls: bool) -> Result<Arc<Rules>, PollError> {
        let origin = robots::origin(url);
        if let Some(r) = self
            .robots
            .lock()
            .ok()
            .and_then(|m| m.get(&origin).cloned())
        {
            return Ok(r);
        }
        let now = Utc::now();
        let o = origin.clone();
        let cached = self
            .blocking(move |s| s.robots(&o))
            .await?
            .filter(|e| now - e.fetched < robots::CACHE_FOR);
        let entry = match cached {
            Some(e) => e,
            None => {
                let robots_url = robots::robots_url(url);
                let e = robots::fetch(&self.fetcher, url, insecure_tls, now)
                    .await
                    .map_err(|error| PollError::Fetch {
                        url: robots_url.clone(),
                        error,
                    })?;
                if e.status >= 500 {
                    // Unreachable (RFC 9309 §2.3.1.4): disallow everything for now, cache nothing.
                    let error = FetchError::Status {
                        status: e.status,
                        retry_after: None,
                    };
                    return Err(PollError::Fetch {
                        url: robots_url,
                        error,
                    });
                }
                let (o, saved) = (origin.clone(), e.clone());
                self.blocking(move |s| s.save_robots(&o, &saved)).await?;
                e
            }
        };
        let rules = Arc::new(Rules::from_entry(&entry, &self.config.fetch.user_agent));
        if let Ok(mut m) = self.robots.lock() {
            m.insert(origin, Arc::clone(&rules));
        }
        Ok(rules)
    }

    /// Reads up to `max_pages` list pages: the items in page order (one per URL), the validators of
    /// pages answered 200, the pages read, and whether page 1 was not modified.
    async fn read_lists(
        &self,
        source: &Source,
    ) -> Result<(Vec<ListItem>, Vec<(String, Validators)>, u32, bool), PollError> {
        let mut items: Vec<ListItem> = Vec::new();
        let mut seen_urls = HashSet::new();
        let mut validators = Vec::new();
        let mut visited = HashSet::new();
        let mut next = Some(source.list_url.clone());
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages >= source.max_pages || !visited.insert(url.clone()) {
                break;
            }
            let key = url.to_string();
            let saved = self.blocking(move |s| s.validators(&key)).await?;
            let page = match self.fetch(source, &url, saved.as_ref()).await {
                Err(PollError::Fetch {
                    error: FetchError::NotModified,
                    ..
                }) => return Ok((items, validators, pages, pages == 0)),
                other => other?,
            };
            pages += 1;
            let list = list_page(source, &page, self.config.service.timezone).await?;
            if list.items.is_empty() {
                if pages == 1 {
                    return Err(PollError::Extract {
                        url: page.url,
                        error: ExtractError::NoItems,
                    });
                }
                break;
            }
            validators.push((url.to_string(), page.validators.clone()));
            items.extend(
                list.items
                    .into_iter()
                    .filter(|i| seen_urls.insert(i.url.clone())),
            );
            next = list.next_page;
        }
        Ok((items, validators, pages, false))
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
        let mut records = Vec::with_capacity(work.len());
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
                match self.article(source, &item).await {
                    Ok(article) => {
                        records.push(merge(item, article));
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
            records.push(ItemRecord {
                url: item.url,
                title: item.title,
                published: item.date.map(|d| d.at),
                article: outcome,
            });
        }
        records
    }

    async fn article(&self, source: &Source, item: &ListItem) -> Result<Article, PollError> {
        let page = self.fetch(source, &item.url, None).await?;
        let (content, tz) = (source.select.content.clone(), self.config.service.timezone);
        let hint = item.title.clone();
        let url = page.url.clone();
        tokio::task::spawn_blocking(move || {
            extract::extract_article(
                &page.text,
                &page.url,
                content.as_ref(),
                Some(&hint),
                tz,
                Utc::now(),
            )
        })
        .await
        .map_err(|e| PollError::Task(e.to_string()))?
        .map_err(|error| PollError::Extract { url, error })
    }
}

/// 429 and 503 without Retry-After still mean "not now".
fn busy_status(error: &FetchError) -> bool {
    matches!(
        error,
        FetchError::Status {
            status: 429 | 503,
            ..
        }
    )
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

/// What `check --live` shows of a source: its first list page and its first same-site article.
pub struct Preview {
    pub source_id: String,
    pub page_url: Url,
    pub list: ListPage,
    pub article: Option<(Url, Result<Article, PollError>)>,
}

impl Poller {
    /// Fetches and extracts a source's first list page and first article without storing anything.
    pub async fn preview(&self, source: &Source) -> Result<Preview, PollError> {
        let page = self.fetch(source, &source.list_url, None).await?;
        let list = list_page(source, &page, self.config.service.timezone).await?;
        if list.items.is_empty() {
            return Err(PollError::Extract {
                url: page.url,
                error: ExtractError::NoItems,
            });
        }
        let first = list
            .items
            .iter()
            .find(|i| same_site(&source.list_url, &i.url))
            .cloned();
        let article = match first {
            Some(item) if source.fetch_articles => {
                Some((item.url.clone(), self.article(source, &item).await))
            }
            _ => None,
        };
        Ok(Preview {
            source_id: source.id.clone(),
            page_url: page.url,
            list,
            article,
        })
    }
}
