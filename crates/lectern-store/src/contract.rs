//! The conformance suite every storage backend must pass (in the manner of
//! Garage's `test_suite(db)`): each backend's tests call [`run`] on a fresh,
//! empty store. It checks the promises the app layer relies on: uniqueness
//! reported as field conflicts, optimistic revisions, immutable published
//! versions, all-or-nothing import, idempotent blobs, token expiry.

use chrono::{Duration, Utc};
use lectern_app::model::{AuthToken, CourseRole, NewUser, TokenKind};
use lectern_app::store::{CourseDates, NewBlob, Store};
use lectern_app::StoreError;
use lectern_content::{Block, CourseKey, CourseTree};

pub(crate) fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.to_string(),
        email: format!("{}@example.org", name.to_lowercase()),
        name: format!("{name} Person"),
        password_hash: "$argon2id$fake".into(),
        is_admin: false,
        is_course_creator: false,
    }
}

/// Runs every check; panics (the test fails) on the first broken promise.
pub async fn run(store: &dyn Store) {
    users(store).await;
    tokens(store).await;
    courses(store).await;
    import(store).await;
    enrollments(store).await;
    crate::contract_learning::run(store).await;
    blobs(store).await;
    crate::contract_accounts::run(store).await;
    crate::contract_nodes::setup_link(store).await;
    crate::contract_pages::run(store).await;
    crate::contract_reports::run(store).await;
}

async fn users(store: &dyn Store) {
    let alice = store
        .create_user(&new_user("Alice"))
        .await
        .expect("create alice");
    assert_eq!(alice.username, "Alice");
    assert!(alice.is_active && !alice.is_admin);
    let mut same_name = new_user("alice");
    same_name.email = "other@example.org".into();
    let clash = store.create_user(&same_name).await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { ref field }) if field == "username"),
        "{clash:?}"
    );
    let mut same_email = new_user("Alicia");
    same_email.email = "alice@example.org".into();
    let clash = store.create_user(&same_email).await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { ref field }) if field == "email"),
        "{clash:?}"
    );
    let (found, hash) = store
        .user_for_login("ALICE")
        .await
        .expect("login")
        .expect("found");
    assert_eq!(found.id, alice.id);
    assert_eq!(hash, "$argon2id$fake");
    assert!(store
        .user_for_login("alice@example.org")
        .await
        .expect("by email")
        .is_some());
    assert!(store
        .user_for_login("nobody")
        .await
        .expect("nobody")
        .is_none());
    store.set_user_admin(alice.id, true).await.expect("admin");
    assert_eq!(store.count_admins().await.expect("count"), 1);
    store
        .set_user_active(alice.id, false)
        .await
        .expect("deactivate");
    assert_eq!(
        store.count_admins().await.expect("count"),
        0,
        "inactive admins do not count"
    );
    store
        .set_user_active(alice.id, true)
        .await
        .expect("activate");
    let hits = store.search_users("alic", 10, 0).await.expect("search");
    assert_eq!(hits.len(), 1);
    let none = store.search_users("%", 10, 0).await.expect("search %");
    assert!(none.is_empty(), "% is matched literally");
}

async fn tokens(store: &dyn Store) {
    let bob = store.create_user(&new_user("Bob")).await.expect("bob");
    let now = Utc::now();
    let live = AuthToken {
        token_hash: "h-live".into(),
        user_id: bob.id,
        kind: TokenKind::Session,
        expires_at: now + Duration::hours(1),
    };
    let dead = AuthToken {
        token_hash: "h-dead".into(),
        user_id: bob.id,
        kind: TokenKind::Bearer,
        expires_at: now - Duration::hours(1),
    };
    store.insert_token(&live).await.expect("insert");
    store.insert_token(&dead).await.expect("insert");
    let got = store
        .token("h-live", now)
        .await
        .expect("get")
        .expect("live");
    assert_eq!((got.user_id, got.kind), (bob.id, TokenKind::Session));
    assert!(
        store.token("h-dead", now).await.expect("get").is_none(),
        "expired tokens are not returned"
    );
    assert_eq!(store.delete_expired_tokens(now).await.expect("gc"), 1);
    store.delete_user_tokens(bob.id).await.expect("delete all");
    assert!(store.token("h-live", now).await.expect("get").is_none());
}

/// Dates the app computed; the store keeps them as handed over.
pub(crate) fn dates() -> CourseDates {
    let at = |ms| chrono::DateTime::from_timestamp_millis(ms).expect("date");
    CourseDates {
        start: Some(at(1_700_000_000_000)),
        end: Some(at(1_800_000_000_000)),
    }
}

pub(crate) fn sample_tree(run: &str) -> CourseTree {
    let key = CourseKey::new("Org", "C101", run).expect("key");
    let mut tree = CourseTree::new(key, "Contract Course");
    let mut ch = Block::new("chapter", "ch1");
    ch.display_name = Some("Week 1".into());
    tree.insert_child(&CourseTree::root_ref(), ch, None)
        .expect("chapter");
    tree
}

async fn courses(store: &dyn Store) {
    let owner = store.create_user(&new_user("Carol")).await.expect("carol");
    let tree = sample_tree("R1");
    let rec = store
        .create_course(&tree, dates(), Some(owner.id), Utc::now())
        .await
        .expect("create");
    assert_eq!(rec.display_name, "Contract Course");
    assert_eq!((rec.draft_revision, rec.published_version), (1, None));
    assert_eq!((rec.start, rec.end), (dates().start, dates().end));
    assert_eq!(rec.publish_id, None);
    assert!(matches!(
        store.create_course(&tree, dates(), None, Utc::now()).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.course_role(&tree.key, owner.id).await.expect("role"),
        Some(CourseRole::Instructor)
    );

    let (mut draft, rev) = store
        .draft(&tree.key)
        .await
        .expect("draft")
        .expect("exists");
    assert_eq!(draft, tree);
    draft
        .blocks
        .values_mut()
        .for_each(|b| b.display_name = Some("Renamed".into()));
    let rev2 = store
        .save_draft(&draft, dates(), rev, Utc::now())
        .await
        .expect("save");
    assert_eq!(rev2, rev + 1);
    assert!(matches!(
        store.save_draft(&draft, dates(), rev, Utc::now()).await,
        Err(StoreError::StaleRevision)
    ));

    assert!(matches!(
        store.publish(&tree.key, rev, Utc::now()).await,
        Err(StoreError::StaleRevision)
    ));
    let v1 = store
        .publish(&tree.key, rev2, Utc::now())
        .await
        .expect("publish");
    assert_eq!(v1, 1);
    let v1_id = store
        .course(&tree.key)
        .await
        .expect("course")
        .expect("exists")
        .publish_id;
    assert!(v1_id.is_some());
    let (mut again, rev3) = store
        .draft(&tree.key)
        .await
        .expect("draft")
        .expect("exists");
    again
        .blocks
        .values_mut()
        .for_each(|b| b.display_name = Some("Second".into()));
    let rev4 = store
        .save_draft(&again, CourseDates::default(), rev3, Utc::now())
        .await
        .expect("save");
    let v2 = store
        .publish(&tree.key, rev4, Utc::now())
        .await
        .expect("publish 2");
    assert_eq!(v2, 2);
    let p1 = store
        .published(&tree.key, 1)
        .await
        .expect("v1")
        .expect("v1 exists");
    assert_eq!(
        p1, draft,
        "version 1 is what was published then, untouched by later edits"
    );
    let rec = store
        .course(&tree.key)
        .await
        .expect("course")
        .expect("exists");
    assert_eq!(rec.published_version, Some(2));
    assert!(!rec.has_unpublished_changes());
    assert_eq!(
        (rec.start, rec.end),
        (None, None),
        "the last dates handed over are kept"
    );
    let v2_id = rec.publish_id.clone().expect("a publish id");
    assert!(v2_id.len() >= 16, "{v2_id}");
    assert_ne!(
        Some(v2_id),
        v1_id,
        "every published version has its own identity"
    );
    assert!(store.published(&tree.key, 3).await.expect("v3").is_none());
    assert_eq!(
        store
            .courses_with_role(owner.id)
            .await
            .expect("roles")
            .len(),
        1
    );
    assert_eq!(store.course_team(&tree.key).await.expect("team").len(), 1);
}

async fn import(store: &dyn Store) {
    let owner = store
        .create_user(&new_user("Imogen"))
        .await
        .expect("imogen");
    let tree = sample_tree("IMP");
    let bytes = b"static file";
    let blob = NewBlob {
        sha256: "aa11",
        bytes,
    };
    let (rec, v) = store
        .import_course(&tree, dates(), &[blob], None, Utc::now())
        .await
        .expect("import");
    assert_eq!((rec.published_version, v), (Some(1), 1));
    assert_eq!(
        store.blob("aa11").await.expect("blob").as_deref(),
        Some(&bytes[..])
    );
    let (rec, v) = store
        .import_course(
            &tree,
            dates(),
            &[],
            Some((owner.id, CourseRole::Staff)),
            Utc::now(),
        )
        .await
        .expect("re-import");
    assert_eq!(
        (rec.published_version, v),
        (Some(2), 2),
        "re-import replaces the draft and publishes"
    );
    assert_eq!(
        store.course_role(&tree.key, owner.id).await.expect("role"),
        Some(CourseRole::Staff),
        "the role the app decided on is written with the import"
    );
    assert_eq!(rec.start, dates().start);
}

async fn enrollments(store: &dyn Store) {
    let dan = store.create_user(&new_user("Dan")).await.expect("dan");
    let key = CourseKey::new("Org", "C101", "R1").expect("key");
    let e = store
        .enroll(dan.id, &key, "audit", Utc::now())
        .await
        .expect("enroll");
    assert!(e.is_active);
    store
        .enroll(dan.id, &key, "audit", Utc::now())
        .await
        .expect("enrolling twice is fine");
    assert_eq!(store.count_enrollments(&key).await.expect("count"), 1);
    store.unenroll(dan.id, &key).await.expect("unenroll");
    assert!(
        !store
            .enrollment(dan.id, &key)
            .await
            .expect("get")
            .expect("kept")
            .is_active
    );
    assert_eq!(store.count_enrollments(&key).await.expect("count"), 0);
    store
        .enroll(dan.id, &key, "audit", Utc::now())
        .await
        .expect("re-enroll");
    assert_eq!(
        store
            .enrollments_for_user(dan.id)
            .await
            .expect("list")
            .len(),
        1
    );
}

async fn blobs(store: &dyn Store) {
    let blob = NewBlob {
        sha256: "bb22",
        bytes: b"x",
    };
    store.put_blob(&blob).await.expect("put");
    store
        .put_blob(&blob)
        .await
        .expect("put again is idempotent");
    assert_eq!(store.blob("bb22").await.expect("get"), Some(b"x".to_vec()));
    assert_eq!(store.blob("missing").await.expect("get"), None);
    chunked_blobs(store).await;
    store.ping().await.expect("ping");
    let stats = store.stats(Utc::now()).await.expect("stats");
    assert!(
        stats.users >= 4 && stats.courses >= 2 && stats.blobs >= 2,
        "{stats:?}"
    );
}

/// A blob larger than a chunk, stored from a stream and from memory, reads
/// back whole and in ranges that cross chunk boundaries.
async fn chunked_blobs(store: &dyn Store) {
    let bytes: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
    let mut source: &[u8] = &bytes;
    store
        .put_blob_stream("cc33", bytes.len() as u64, &mut source)
        .await
        .expect("put stream");
    store
        .put_blob(&NewBlob {
            sha256: "dd44",
            bytes: &bytes,
        })
        .await
        .expect("put");
    for sha in ["cc33", "dd44"] {
        let info = store.blob_info(sha).await.expect("info").expect("present");
        assert_eq!(info.size, bytes.len() as u64);
        assert_eq!(
            store.blob(sha).await.expect("get").as_deref(),
            Some(&bytes[..])
        );
        for (offset, len) in [
            (0u64, 1u64),
            (1_048_570, 20),
            (2_000_000, 1_000_000),
            (5, 0),
        ] {
            let got = store.blob_range(sha, offset, len).await.expect("range");
            let end = (offset + len).min(bytes.len() as u64) as usize;
            assert_eq!(
                got.as_deref(),
                Some(&bytes[offset as usize..end]),
                "{sha} {offset}+{len}"
            );
        }
        assert_eq!(
            store
                .blob_range(sha, 9_000_000, 10)
                .await
                .expect("past the end"),
            Some(Vec::new())
        );
    }
    // A stream that ends before its declared size stores nothing.
    let mut short: &[u8] = &bytes[..10];
    assert!(store.put_blob_stream("ee55", 20, &mut short).await.is_err());
    assert_eq!(store.blob_info("ee55").await.expect("info"), None);
    assert_eq!(store.blob_range("ee55", 0, 1).await.expect("range"), None);
}
