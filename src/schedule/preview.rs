//! `check --live`: a source's first list page and first article, fetched and extracted the way a
//! poll would, and stored nowhere.

use url::Url;

use super::poll::{PollError, Poller, list_page};
use crate::config::Source;
use crate::extract::{Article, ExtractError, ListPage, same_site};

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
