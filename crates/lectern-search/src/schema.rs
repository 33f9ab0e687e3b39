//! The index's fields and how a [`SearchDoc`] becomes a tantivy document.
//!
//! Searched: `title` and `body` (English analyser: lower case, stemming).
//! Filtered on: `course`, `kind`, `release` (seconds; documents without a
//! release date hold the smallest value), `staff_only` (0/1), `topic` (a
//! post's discussion topic). Deleted by: `id` (one document), `scope` (a
//! course's published documents, or its posts) and `groups` (a post's
//! thread, a comment's response). Stored for results: the rest.

use lectern_app::search::SearchDoc;
use lectern_content::CourseKey;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, INDEXED, STORED, STRING,
};
use tantivy::TantivyDocument;

pub(crate) struct Fields {
    pub id: Field,
    pub kind: Field,
    pub scope: Field,
    pub course: Field,
    pub title: Field,
    pub body: Field,
    pub summary: Field,
    pub url: Field,
    pub location: Field,
    pub block_type: Field,
    pub release: Field,
    pub staff_only: Field,
    pub payload: Field,
    pub topic: Field,
    pub groups: Field,
}

/// The scope of a course's content and catalogue documents.
pub(crate) fn published_scope(course: &CourseKey) -> String {
    format!("published:{course}")
}

/// The scope of a course's posts.
pub(crate) fn post_scope(course: &CourseKey) -> String {
    format!("post:{course}")
}

pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let english = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        scope: b.add_text_field("scope", STRING),
        course: b.add_text_field("course", STRING | STORED),
        title: b.add_text_field("title", english(true)),
        body: b.add_text_field("body", english(false)),
        summary: b.add_text_field("summary", STORED),
        url: b.add_text_field("url", STORED),
        location: b.add_text_field("location", STORED),
        block_type: b.add_text_field("block_type", STORED),
        release: b.add_i64_field("release", INDEXED),
        staff_only: b.add_u64_field("staff_only", INDEXED),
        payload: b.add_text_field("payload", STORED),
        topic: b.add_text_field("topic", STRING),
        groups: b.add_text_field("groups", STRING),
    };
    (b.build(), fields)
}

impl Fields {
    pub(crate) fn document(&self, d: &SearchDoc) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        let scope = match d.kind {
            lectern_app::search::DocKind::Post => post_scope(&d.course),
            _ => published_scope(&d.course),
        };
        doc.add_text(self.id, &d.id);
        doc.add_text(self.kind, d.kind.as_str());
        doc.add_text(self.scope, &scope);
        doc.add_text(self.course, d.course.to_string());
        doc.add_text(self.title, &d.title);
        doc.add_text(self.body, &d.body);
        doc.add_text(self.summary, &d.summary);
        doc.add_text(self.url, &d.url);
        for l in &d.location {
            doc.add_text(self.location, l);
        }
        doc.add_text(self.block_type, &d.block_type);
        doc.add_i64(self.release, d.release.map_or(i64::MIN, |r| r.timestamp()));
        doc.add_u64(self.staff_only, u64::from(d.staff_only));
        doc.add_text(self.payload, &d.payload);
        if let Some(topic) = &d.topic {
            doc.add_text(self.topic, topic);
        }
        for g in &d.groups {
            doc.add_text(self.groups, g);
        }
        doc
    }
}
