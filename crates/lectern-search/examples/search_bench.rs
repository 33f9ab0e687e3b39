//! The search benchmark (`bench/search.sh` runs it): the demo course in a
//! fresh SQLite store, the index rebuilt from it (timed, several times),
//! 10,000 generated posts written to the database and indexed by the post
//! sync (the first tenth a commit each, the rest in one sync), a rebuild of
//! course and posts,
//! then course searches by an enrolled learner through `search_course` (the
//! access check, the query, the page) from several tasks at once: queries
//! per second, p50/p99, index size, and this process's memory.
//!
//!   cargo run --release -p lectern-search --example search_bench -- DEMO.tar.gz [POSTS] [SECONDS] [TASKS]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_app::accounts::Registration;
use lectern_app::discussions::{NewThread, ThreadType};
use lectern_app::search::SearchRequest;
use lectern_app::transfer::ImportSource;
use lectern_app::{AppSettings, Lectern};
use lectern_search::TantivyIndex;

/// Words a learner might type: from the demo course, and from the posts.
const QUERIES: &[&str] = &[
    "video",
    "problem",
    "introduction",
    "grading",
    "exam",
    "course",
    "example",
    "discussion",
    "answer",
    "formula",
    "homework",
    "circuit",
    "question",
    "edx",
    "drag",
    "text input",
    "multiple choice",
    "numerical",
    "lorem",
    "bridge notes",
];

const VOCABULARY: &[&str] = &[
    "question",
    "answer",
    "homework",
    "deadline",
    "grading",
    "exam",
    "video",
    "problem",
    "formula",
    "circuit",
    "resistor",
    "voltage",
    "bridge",
    "notes",
    "lecture",
    "week",
    "help",
    "error",
    "confused",
    "thanks",
    "example",
    "solution",
    "hint",
    "quiz",
    "lab",
    "python",
    "graph",
    "matrix",
    "vector",
    "integral",
    "derivative",
    "proof",
    "theorem",
    "lemma",
    "chapter",
    "reading",
    "essay",
    "peer",
    "review",
    "certificate",
    "progress",
];

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let demo = std::fs::read(args.get(1).expect("the demo course archive")).expect("read archive");
    let posts: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let tasks: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(4);

    let dir = tempfile::tempdir().unwrap();
    let store = lectern_store::open("", &dir.path().join("lectern.db"), 8)
        .await
        .unwrap();
    let plain = Lectern::new(store.clone(), AppSettings::default());
    let outcome = plain
        .import_course(None, ImportSource::Archive(demo), Default::default())
        .await
        .unwrap();
    let key = outcome.course.key.clone();
    println!("course: {key}");
    println!("RSS before any index: {} KiB", rss_kib());

    // Rebuild from scratch, five times (a fresh index each time).
    let mut rebuilds = Vec::new();
    let mut app = plain.clone();
    for n in 0..5 {
        app = plain
            .clone()
            .with_search(Arc::new(TantivyIndex::new().unwrap()));
        let started = Instant::now();
        let report = app.search_sync().await.unwrap();
        rebuilds.push(started.elapsed());
        assert_eq!(report.indexed, 1);
        if n == 0 {
            println!("RSS after the first rebuild: {} KiB", rss_kib());
        }
    }
    rebuilds.sort();
    let (stats, _) = app.search_stats().unwrap();
    println!(
        "rebuild (demo course, from the database): median {:.1} ms, min {:.1} ms, max {:.1} ms; {} documents, {} KiB",
        rebuilds[2].as_secs_f64() * 1e3,
        rebuilds[0].as_secs_f64() * 1e3,
        rebuilds[4].as_secs_f64() * 1e3,
        stats.documents,
        stats.bytes / 1024
    );
    println!("RSS after the rebuild: {} KiB", rss_kib());

    // Posts: written to the database as the discussion use cases write
    // them (with their change rows), then indexed by the post sync.
    let author = app
        .register(&Registration {
            username: "author".into(),
            email: "author@example.org".into(),
            name: "Author".into(),
            password: "a long bench password".into(),
        })
        .await
        .unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut words = |n: usize| -> String {
        (0..n)
            .map(|_| VOCABULARY[(next() % VOCABULARY.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut post = |i: usize| NewThread {
        course_key: key.clone(),
        topic_id: format!("topic-{}", i % 12),
        thread_type: ThreadType::Discussion,
        title: words(6),
        body: words(60),
        author: author.id,
        at: chrono::Utc::now(),
    };
    app.search_post_sync().await.unwrap();
    // The first tenth with a sync (one commit) after each post: the worst
    // case, a node whose posts arrive one at a time; the rest written
    // first and taken by one sync (a burst, as the watcher batches it).
    let single = posts / 10;
    let started = Instant::now();
    for i in 0..single {
        store.create_thread(&post(i)).await.unwrap();
        app.search_post_sync().await.unwrap();
    }
    let took_single = started.elapsed();
    println!("RSS after {single} posts, a commit each: {} KiB", rss_kib());
    for i in single..posts {
        store.create_thread(&post(i)).await.unwrap();
    }
    let started = Instant::now();
    let report = app.search_post_sync().await.unwrap();
    let took_bulk = started.elapsed();
    assert_eq!(report.applied, posts - single);
    let (stats, _) = app.search_stats().unwrap();
    println!(
        "{single} posts, a sync after each: {:.1} s ({:.0} posts/s, database writes included); {} more written, then one sync: {:.2} s ({:.0} posts/s); index now {} documents, {} KiB",
        took_single.as_secs_f64(),
        single as f64 / took_single.as_secs_f64().max(1e-9),
        posts - single,
        took_bulk.as_secs_f64(),
        (posts - single) as f64 / took_bulk.as_secs_f64().max(1e-9),
        stats.documents,
        stats.bytes / 1024
    );
    println!("RSS after the posts: {} KiB", rss_kib());

    // Rebuild of everything (course and posts) into a fresh index.
    let fresh = plain
        .clone()
        .with_search(Arc::new(TantivyIndex::new().unwrap()));
    let started = Instant::now();
    fresh.search_sync().await.unwrap();
    let report = fresh.search_post_sync().await.unwrap();
    let took = started.elapsed();
    let (stats, _) = fresh.search_stats().unwrap();
    println!(
        "rebuild (demo course + {} posts, from the database): {:.2} s; {} documents, {} KiB",
        report.applied,
        took.as_secs_f64(),
        stats.documents,
        stats.bytes / 1024
    );
    drop(fresh);

    // Searches by an enrolled learner.
    let learner = app
        .register(&Registration {
            username: "learner".into(),
            email: "learner@example.org".into(),
            name: "Learner".into(),
            password: "a long bench password".into(),
        })
        .await
        .unwrap();
    app.enroll(&learner, &key).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let app = app.clone();
        let learner = learner.clone();
        let key = key.clone();
        handles.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut hits = 0usize;
            let mut i = t;
            while Instant::now() < deadline {
                let request = SearchRequest {
                    text: QUERIES[i % QUERIES.len()].to_string(),
                    page_size: 20,
                    page_index: 0,
                };
                let started = Instant::now();
                let r = app.search_course(&learner, &key, &request).await.unwrap();
                times.push(started.elapsed());
                hits += r.page.total;
                i += 1;
            }
            (times, hits)
        }));
    }
    let mut times = Vec::new();
    let mut hits = 0;
    for h in handles {
        let (t, n) = h.await.unwrap();
        times.extend(t);
        hits += n;
    }
    times.sort();
    println!(
        "course search ({tasks} tasks, {seconds} s): {} queries, {:.0} queries/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} matches per query on average)",
        times.len(),
        times.len() as f64 / seconds as f64,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        hits / times.len().max(1)
    );
    println!("RSS at the end: {} KiB", rss_kib());
}
