//! The index through its API: what is found, what each filter leaves out,
//! replacing and removing, and queries that would be hostile to a parser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use lectern_app::search::{DocKind, IndexChange, Scope, SearchDoc, SearchIndex, SearchQuery};
use lectern_content::CourseKey;

use super::TantivyIndex;

fn course(n: &str) -> CourseKey {
    CourseKey::new("Org", n, "2026").unwrap()
}

fn doc(c: &CourseKey, id: &str, kind: DocKind, title: &str, body: &str) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        kind,
        course: c.clone(),
        title: title.into(),
        body: body.into(),
        summary: body.chars().take(20).collect(),
        url: format!("/courses/{c}/unit/{id}"),
        location: vec!["Week 1".into(), "Lesson".into()],
        block_type: "html".into(),
        release: None,
        staff_only: false,
        payload: String::new(),
        topic: None,
        groups: Vec::new(),
    }
}

fn query(c: &CourseKey, text: &str, learner: bool) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        scope: Scope::Course(c.clone()),
        kinds: vec![DocKind::Content, DocKind::Post],
        released_by: learner.then(Utc::now),
        hidden_topics: Vec::new(),
        offset: 0,
        limit: 10,
    }
}

fn ids(index: &TantivyIndex, q: &SearchQuery) -> Vec<String> {
    index
        .search(q)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn finds_words_in_title_or_body_with_stemming_and_every_word_required() {
    let i = TantivyIndex::new().unwrap();
    let c = course("A");
    i.replace_course(
        &c,
        vec![
            doc(
                &c,
                "a",
                DocKind::Content,
                "Photosynthesis",
                "Plants convert sunlight.",
            ),
            doc(
                &c,
                "b",
                DocKind::Content,
                "Respiration",
                "Cells burn sugars for energy.",
            ),
        ],
    )
    .unwrap();
    assert_eq!(ids(&i, &query(&c, "photosynthesis", true)), ["a"]);
    assert_eq!(
        ids(&i, &query(&c, "SUGAR", true)),
        ["b"],
        "case and stemming"
    );
    assert_eq!(
        ids(&i, &query(&c, "plants energy", true)),
        Vec::<String>::new()
    );
    let page = i.search(&query(&c, "cells energy", true)).unwrap();
    assert_eq!(page.total, 1);
    assert!(page.max_score.unwrap() > 0.0);
    let hit = &page.hits[0];
    assert_eq!(hit.location, ["Week 1", "Lesson"]);
    assert_eq!(hit.course, c);
}

#[test]
fn learners_do_not_find_unreleased_or_staff_only_documents_the_team_does() {
    let i = TantivyIndex::new().unwrap();
    let c = course("A");
    let mut later = doc(&c, "later", DocKind::Content, "Later", "zebra");
    later.release = Some(Utc::now() + Duration::days(3));
    let mut past = doc(&c, "past", DocKind::Content, "Past", "zebra");
    past.release = Some(Utc::now() - Duration::days(3));
    let mut hidden = doc(&c, "hidden", DocKind::Content, "Hidden", "zebra");
    hidden.staff_only = true;
    i.replace_course(&c, vec![later, past, hidden]).unwrap();
    assert_eq!(ids(&i, &query(&c, "zebra", true)), ["past"]);
    let mut team = ids(&i, &query(&c, "zebra", false));
    team.sort();
    assert_eq!(team, ["hidden", "later", "past"]);
    // The date is compared at query time: once it passes, learners find it.
    let mut q = query(&c, "zebra", true);
    q.released_by = Some(Utc::now() + Duration::days(4));
    let mut then = ids(&i, &q);
    then.sort();
    assert_eq!(then, ["later", "past"]);
}

#[test]
fn a_course_scope_never_returns_another_course_and_kinds_are_honoured() {
    let i = TantivyIndex::new().unwrap();
    let (a, b) = (course("A"), course("B"));
    i.replace_course(&a, vec![doc(&a, "a1", DocKind::Content, "T", "walrus")])
        .unwrap();
    i.replace_course(&b, vec![doc(&b, "b1", DocKind::Content, "T", "walrus")])
        .unwrap();
    i.replace_course(&b, vec![doc(&b, "b2", DocKind::Course, "B", "walrus")])
        .unwrap();
    assert_eq!(ids(&i, &query(&a, "walrus", false)), ["a1"]);
    assert!(
        ids(&i, &query(&b, "walrus", false)).is_empty(),
        "replaced, and the catalogue kind is not asked"
    );
    let catalogue = SearchQuery {
        scope: Scope::Courses(vec![a.clone(), b.clone()]),
        kinds: vec![DocKind::Course],
        ..query(&a, "walrus", true)
    };
    assert_eq!(ids(&i, &catalogue), ["b2"]);
    let only_a = SearchQuery {
        scope: Scope::Courses(vec![a.clone()]),
        ..catalogue
    };
    assert!(ids(&i, &only_a).is_empty());
}

#[test]
fn posts_survive_a_content_replace_and_go_with_the_course() {
    let i = TantivyIndex::new().unwrap();
    let c = course("A");
    let mut post = doc(&c, "post:1", DocKind::Post, "Question", "otter");
    i.upsert(post.clone()).unwrap();
    i.replace_course(&c, vec![doc(&c, "x", DocKind::Content, "X", "otter")])
        .unwrap();
    let mut found = ids(&i, &query(&c, "otter", true));
    found.sort();
    assert_eq!(found, ["post:1", "x"]);
    post.body = "beaver".into();
    i.upsert(post).unwrap();
    assert_eq!(
        ids(&i, &query(&c, "otter", true)),
        ["x"],
        "the post was replaced"
    );
    assert_eq!(ids(&i, &query(&c, "beaver", true)), ["post:1"]);
    i.remove("post:1").unwrap();
    assert!(ids(&i, &query(&c, "beaver", true)).is_empty());
    i.upsert_many(vec![
        doc(&c, "post:2", DocKind::Post, "Q", "otter"),
        doc(&c, "post:3", DocKind::Post, "Q", "otter"),
    ])
    .unwrap();
    assert_eq!(
        ids(&i, &query(&c, "otter", true)).len(),
        3,
        "x and both posts"
    );
    i.remove_course(&c).unwrap();
    assert!(ids(&i, &query(&c, "otter", false)).is_empty());
    assert_eq!(i.stats().documents, 0);
}

#[test]
fn query_syntax_is_just_text_and_pages_are_bounded() {
    let i = TantivyIndex::new().unwrap();
    let c = course("A");
    let docs: Vec<SearchDoc> = (0..30)
        .map(|n| {
            doc(
                &c,
                &format!("d{n}"),
                DocKind::Content,
                "Lemma",
                "proof of the lemma",
            )
        })
        .collect();
    i.replace_course(&c, docs).unwrap();
    for hostile in [
        "lemma AND (",
        "title:lemma",
        "\"lemma",
        "lemma*",
        "*",
        "lemma~2",
        "/.*/",
        "[a TO z]",
        "+-!^",
        "lemma^1000000",
    ] {
        // Answers without error; only real words match.
        i.search(&query(&c, hostile, true)).unwrap();
    }
    assert!(ids(&i, &query(&c, "*", true)).is_empty(), "no wildcard");
    assert_eq!(i.search(&query(&c, "lemma*", true)).unwrap().total, 30);
    let long = "lemma ".repeat(5_000) + &(0..5_000).map(|n| format!("w{n} ")).collect::<String>();
    assert_eq!(
        i.search(&query(&c, &long, true)).unwrap().total,
        0,
        "terms past the cap are ignored, the first ones must all match"
    );
    let mut q = query(&c, "lemma", true);
    q.offset = 25;
    q.limit = 10;
    let page = i.search(&q).unwrap();
    assert_eq!((page.total, page.hits.len()), (30, 5));
    assert!(page.max_score.is_some());
}

#[test]
fn groups_remove_a_thread_with_its_comments_and_hidden_topics_are_left_out() {
    let i = TantivyIndex::new().unwrap();
    let c = course("A");
    let post = |id: &str, topic: &str, groups: &[&str]| SearchDoc {
        topic: Some(topic.into()),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..doc(&c, id, DocKind::Post, "Q", "heron")
    };
    i.apply(vec![
        IndexChange::Upsert(Box::new(post("thread:1", "open", &["thread:1"]))),
        IndexChange::Upsert(Box::new(post("comment:2", "open", &["thread:1"]))),
        IndexChange::Upsert(Box::new(post(
            "comment:3",
            "open",
            &["thread:1", "response:2"],
        ))),
        IndexChange::Upsert(Box::new(post("thread:4", "later", &["thread:4"]))),
    ])
    .unwrap();
    let mut hidden = query(&c, "heron", true);
    hidden.hidden_topics = vec!["later".into(), "x".into()];
    let mut found = ids(&i, &hidden);
    found.sort();
    assert_eq!(found, ["comment:2", "comment:3", "thread:1"]);
    assert_eq!(ids(&i, &query(&c, "heron", true)).len(), 4);
    i.apply(vec![IndexChange::RemoveGroup("response:2".into())])
        .unwrap();
    assert_eq!(ids(&i, &hidden).len(), 2, "the response's comment went");
    i.apply(vec![
        IndexChange::Remove("comment:2".into()),
        IndexChange::RemoveGroup("thread:1".into()),
    ])
    .unwrap();
    assert_eq!(ids(&i, &query(&c, "heron", true)), ["thread:4"]);
}

#[test]
fn many_commits_keep_few_segments() {
    let i = TantivyIndex::new().unwrap();
    let c = course("A");
    for n in 0..120 {
        i.upsert(doc(&c, &format!("p{}", n % 50), DocKind::Post, "Q", "ibis"))
            .unwrap();
    }
    assert_eq!(i.search(&query(&c, "ibis", true)).unwrap().total, 50);
    let segments = i.reader.searcher().segment_readers().len();
    assert!(segments <= 24, "{segments} segments after 120 commits");
}

#[test]
fn removals_from_an_empty_index_commit_nothing_and_still_remove_later() {
    let i = TantivyIndex::new().unwrap();
    let opstamp = || i.index.load_metas().unwrap().opstamp;
    let before = opstamp();
    i.apply(vec![
        IndexChange::RemoveGroup("posts".into()),
        IndexChange::Remove("thread:1".into()),
    ])
    .unwrap();
    assert_eq!(opstamp(), before, "no writer, no commit on an empty index");
    let c = course("A");
    i.apply(vec![IndexChange::Upsert(Box::new(doc(
        &c,
        "thread:1",
        DocKind::Post,
        "Q",
        "ibis",
    )))])
    .unwrap();
    assert_eq!(ids(&i, &query(&c, "ibis", true)), ["thread:1"]);
    i.apply(vec![IndexChange::Remove("thread:1".into())])
        .unwrap();
    assert!(ids(&i, &query(&c, "ibis", true)).is_empty());
    assert!(opstamp() > before);
}
