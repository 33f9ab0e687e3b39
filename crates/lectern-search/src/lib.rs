//! Lectern's search index: [`lectern_app::search::SearchIndex`] implemented
//! with tantivy, held in memory.
//!
//! Why in memory: the index is derived data, rebuilt from the database at
//! every start (a node never trusts a folder another version of itself may
//! have left), and a course's documents are small (the demo course indexes
//! in well under a second; `bench/README.md`), so a folder would only add
//! files to manage and a disk to share. The writer exists only while a
//! batch of changes is written (tantivy's smallest memory budget, one
//! indexing thread), so an idle node holds no writer arena or thread, and
//! segments merge by log-sized levels, so their number stays small however
//! many commits there are (`bench/README.md`, "search.sh").
//!
//! User text is never parsed as tantivy query syntax: it is split into
//! terms by the same analyser as the documents (lower case, English
//! stemming), and the query is built from those terms, every one required.
//! So no query can be malformed, and there are no wildcards, fuzzy or
//! regular-expression terms whose expansion could blow up; the number of
//! terms is capped ([`MAX_TERMS`]).

mod schema;

use std::ops::Bound;
use std::sync::Mutex;

use lectern_app::search::{
    DocKind, IndexChange, IndexStats, Scope, SearchDoc, SearchError, SearchHit, SearchIndex,
    SearchPage, SearchQuery,
};
use lectern_content::CourseKey;
use tantivy::collector::{Count, TopDocs};
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use schema::Fields;

/// The most distinct terms a query is built from; words past them are ignored.
pub const MAX_TERMS: usize = 16;
/// How much the title weighs against the body.
const TITLE_BOOST: f32 = 2.0;

/// The in-memory index.
pub struct TantivyIndex {
    index: Index,
    fields: Fields,
    /// One batch of changes at a time; the writer itself exists only while
    /// a batch is written (see [`TantivyIndex::change`]).
    writing: Mutex<()>,
    reader: IndexReader,
}

fn err(e: impl std::fmt::Display) -> SearchError {
    SearchError(e.to_string())
}

/// How segments are merged: tantivy's log-sized levels, so the number of
/// segments grows with the logarithm of the documents, not with the number
/// of commits; a segment with many deleted documents (edited posts,
/// re-indexed courses) is merged early so deleted documents do not pile up.
fn merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_num_segments(4);
    policy.set_del_docs_ratio_before_merge(0.2);
    policy
}

impl TantivyIndex {
    /// An empty index.
    pub fn new() -> Result<Self, SearchError> {
        let (schema, fields) = schema::build();
        let index = Index::create_in_ram(schema);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err)?;
        Ok(Self {
            index,
            fields,
            writing: Mutex::new(()),
            reader,
        })
    }

    /// Writes one batch: opens a writer (one indexing thread, tantivy's
    /// smallest memory budget, one merge thread), runs `change`, commits,
    /// waits for the merges the commit started, and drops the writer, so
    /// between batches a node holds no writer arena or indexing thread.
    /// Then makes the batch visible to searches.
    fn change(
        &self,
        change: impl FnOnce(&IndexWriter, &Fields) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        self.change_unless(false, change)
    }

    /// [`TantivyIndex::change`], skipped when `only_removals` and the index
    /// holds no document (checked under the batch lock, so no batch being
    /// written can add one in between).
    fn change_unless(
        &self,
        only_removals: bool,
        change: impl FnOnce(&IndexWriter, &Fields) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let _one = self
            .writing
            .lock()
            .map_err(|_| SearchError("the index writer failed earlier".into()))?;
        if only_removals && self.reader.searcher().num_docs() == 0 {
            return Ok(());
        }
        let mut writer: IndexWriter = self
            .index
            .writer_with_options(
                // The builder's default budget is tantivy's smallest (15 MB).
                IndexWriterOptions::builder()
                    .num_worker_threads(1)
                    .num_merge_threads(1)
                    .build(),
            )
            .map_err(err)?;
        writer.set_merge_policy(Box::new(merge_policy()));
        if let Err(e) = change(&writer, &self.fields) {
            let _ = writer.rollback();
            return Err(e);
        }
        writer.commit().map_err(err)?;
        writer.wait_merging_threads().map_err(err)?;
        self.reader.reload().map_err(err)
    }

    /// The query's terms: its words through the body's analyser, distinct,
    /// at most [`MAX_TERMS`].
    fn terms(&self, text: &str) -> Result<Vec<String>, SearchError> {
        let mut analyzer = self
            .index
            .tokenizer_for_field(self.fields.body)
            .map_err(err)?;
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<String> = Vec::new();
        while let Some(token) = stream.next() {
            if !terms.contains(&token.text) {
                terms.push(token.text.clone());
            }
            if terms.len() == MAX_TERMS {
                break;
            }
        }
        Ok(terms)
    }

    fn build_query(&self, q: &SearchQuery, terms: &[String]) -> BooleanQuery {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if terms.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        for t in terms {
            let either: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.title, t),
                            IndexRecordOption::WithFreqs,
                        )),
                        TITLE_BOOST,
                    )),
                ),
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.body, t),
                        IndexRecordOption::WithFreqs,
                    )),
                ),
            ];
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(either))));
        }
        let filter = |q: Box<dyn Query>| -> (Occur, Box<dyn Query>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let courses: Vec<Term> = match &q.scope {
            Scope::Course(c) => vec![Term::from_field_text(f.course, &c.to_string())],
            Scope::Courses(cs) => cs
                .iter()
                .map(|c| Term::from_field_text(f.course, &c.to_string()))
                .collect(),
        };
        clauses.push(filter(Box::new(TermSetQuery::new(courses))));
        let kinds = q
            .kinds
            .iter()
            .map(|k| Term::from_field_text(f.kind, k.as_str()));
        clauses.push(filter(Box::new(TermSetQuery::new(kinds))));
        if !q.hidden_topics.is_empty() {
            let hidden = q
                .hidden_topics
                .iter()
                .map(|t| Term::from_field_text(f.topic, t));
            clauses.push((Occur::MustNot, Box::new(TermSetQuery::new(hidden))));
        }
        if let Some(now) = q.released_by {
            clauses.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_u64(f.staff_only, 1),
                    IndexRecordOption::Basic,
                )),
            ));
            clauses.push(filter(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.release, now.timestamp())),
            ))));
        }
        BooleanQuery::new(clauses)
    }

    fn hit(&self, score: f32, doc: &TantivyDocument) -> Option<SearchHit> {
        let f = &self.fields;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let course: CourseKey = text(f.course).parse().ok()?;
        Some(SearchHit {
            score,
            id: text(f.id),
            kind: DocKind::parse(&text(f.kind))?,
            course,
            title: text(f.title),
            summary: text(f.summary),
            url: text(f.url),
            location: doc
                .get_all(f.location)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            block_type: text(f.block_type),
            payload: text(f.payload),
        })
    }
}

impl SearchIndex for TantivyIndex {
    fn replace_course(&self, course: &CourseKey, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.change(|w, f| {
            w.delete_term(Term::from_field_text(
                f.scope,
                &schema::published_scope(course),
            ));
            for d in &docs {
                w.add_document(f.document(d)).map_err(err)?;
            }
            Ok(())
        })
    }

    fn remove_course(&self, course: &CourseKey) -> Result<(), SearchError> {
        self.change(|w, f| {
            w.delete_term(Term::from_field_text(
                f.scope,
                &schema::published_scope(course),
            ));
            w.delete_term(Term::from_field_text(f.scope, &schema::post_scope(course)));
            Ok(())
        })
    }

    fn apply(&self, changes: Vec<IndexChange>) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        // Removals from an empty index change nothing. Skipping them spares
        // the writer (its arena and threads) that every first post sync of
        // a site without posts would otherwise open, once per instance.
        let only_removals = changes.iter().all(|c| !matches!(c, IndexChange::Upsert(_)));
        self.change_unless(only_removals, |w, f| {
            for c in &changes {
                match c {
                    IndexChange::Upsert(d) => {
                        w.delete_term(Term::from_field_text(f.id, &d.id));
                        w.add_document(f.document(d)).map_err(err)?;
                    }
                    IndexChange::Remove(id) => {
                        w.delete_term(Term::from_field_text(f.id, id));
                    }
                    IndexChange::RemoveGroup(g) => {
                        w.delete_term(Term::from_field_text(f.groups, g));
                    }
                }
            }
            Ok(())
        })
    }

    fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        let terms = self.terms(&q.text)?;
        // Blank text lists every document the filters let through (course
        // discovery without words); words that hold no term match nothing.
        let nothing = terms.is_empty() && !q.text.trim().is_empty();
        if nothing || q.limit == 0 || q.kinds.is_empty() {
            return Ok(SearchPage::default());
        }
        let query = self.build_query(q, &terms);
        let searcher = self.reader.searcher();
        let (total, top) = searcher
            .search(
                &query,
                &(
                    Count,
                    TopDocs::with_limit(q.limit)
                        .and_offset(q.offset)
                        .order_by_score(),
                ),
            )
            .map_err(err)?;
        let max_score = if q.offset == 0 {
            top.first().map(|(s, _)| *s)
        } else {
            searcher
                .search(&query, &TopDocs::with_limit(1).order_by_score())
                .map_err(err)?
                .first()
                .map(|(s, _)| *s)
        };
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(err)?;
            hits.extend(self.hit(score, &doc));
        }
        Ok(SearchPage {
            total,
            max_score,
            hits,
        })
    }

    fn stats(&self) -> IndexStats {
        let searcher = self.reader.searcher();
        IndexStats {
            documents: searcher.num_docs(),
            bytes: searcher
                .space_usage()
                .map(|u| u.total().get_bytes())
                .unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests;
