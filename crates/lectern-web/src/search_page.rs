//! The search results page (catalogue or one course): the words, the
//! results as plain text the template escapes (no highlighting markup is
//! ever built from document text), and links to the next and previous pages.

use askama::Template;
use lectern_app::search::SearchResults;

use crate::pages::PageCtx;

/// One result as the page shows it.
pub struct ResultRow {
    pub title: String,
    pub url: String,
    /// Where it is: section › subsection › unit, or the course's key.
    pub place: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub ctx: PageCtx,
    /// The course searched (key, name), or the catalogue.
    pub course: Option<(String, String)>,
    pub words: String,
    /// Whether a search was made (words were given).
    pub searched: bool,
    pub total: usize,
    pub rows: Vec<ResultRow>,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl SearchPage {
    pub fn new(
        ctx: PageCtx,
        course: Option<(String, String)>,
        words: &str,
        page: usize,
        results: Option<SearchResults>,
        per_page: usize,
    ) -> Self {
        let action = match &course {
            Some((key, _)) => format!("/courses/{key}/search"),
            None => "/search".to_string(),
        };
        let link = |p: usize| {
            let q: String = url_encode(words);
            format!("{action}?q={q}&page={p}")
        };
        let searched = results.is_some();
        let (total, rows) = match results {
            Some(r) => (
                r.page.total,
                r.page
                    .hits
                    .into_iter()
                    .map(|h| ResultRow {
                        place: if h.location.is_empty() {
                            h.course.to_string()
                        } else {
                            h.location.join(" › ")
                        },
                        title: h.title,
                        url: h.url,
                        summary: h.summary,
                    })
                    .collect(),
            ),
            None => (0, Vec::new()),
        };
        let shown_to = (page + 1).saturating_mul(per_page);
        Self {
            ctx,
            course,
            words: words.to_string(),
            searched,
            total,
            rows,
            previous: (searched && page > 0).then(|| link(page - 1)),
            next: (searched && shown_to < total.min(lectern_app::search::MAX_RESULT_WINDOW))
                .then(|| link(page + 1)),
        }
    }

    pub fn action(&self) -> String {
        match &self.course {
            Some((key, _)) => format!("/courses/{key}/search"),
            None => "/search".to_string(),
        }
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
