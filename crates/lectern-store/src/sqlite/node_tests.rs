//! Caches against a database that changes under a running app: a course
//! deleted and created again starts its versions at 1 again, with other
//! content; a node must serve the new content, never its cached old tree.

use std::sync::Arc;

use chrono::Utc;
use lectern_app::learning::course_dates;
use lectern_app::store::CourseStore;
use lectern_app::{AppSettings, Lectern};
use lectern_content::{Block, CourseKey, CourseTree};

fn course(name: &str, text: &str) -> CourseTree {
    let key = CourseKey::new("Org", "Same", "R").unwrap();
    let mut tree = CourseTree::new(key, name);
    let mut ch = Block::new("chapter", "ch1");
    ch.display_name = Some(text.into());
    tree.insert_child(&CourseTree::root_ref(), ch, None)
        .unwrap();
    tree
}

fn chapter_name(tree: &CourseTree) -> Option<String> {
    tree.block(&lectern_content::BlockRef::new("chapter", "ch1"))
        .and_then(|b| b.display_name.clone())
}

#[tokio::test]
async fn a_recreated_course_with_the_same_version_number_is_served_fresh() {
    let (_dir, store) = super::tests::fresh_store().await;
    let app = Lectern::new(Arc::new(store.clone()), AppSettings::default());
    let first = course("First run", "Old chapter");
    let (_, v) = store
        .import_course(&first, course_dates(&first), &[], None, Utc::now())
        .await
        .unwrap();
    assert_eq!(v, 1);
    let served = app.published_course(&first.key).await.unwrap();
    assert_eq!(chapter_name(&served.tree).as_deref(), Some("Old chapter"));

    // What a restore of an older backup or an operator's delete does: the
    // course and its versions go, and the same key comes back at version 1.
    sqlx::query("DELETE FROM courses WHERE course_key = ?")
        .bind(first.key.to_string())
        .execute(&store.write)
        .await
        .unwrap();
    let second = course("Second run", "New chapter");
    let (_, v) = store
        .import_course(&second, course_dates(&second), &[], None, Utc::now())
        .await
        .unwrap();
    assert_eq!(v, 1, "the same version number, other content");

    let served = app.published_course(&second.key).await.unwrap();
    assert_eq!(served.version, 1);
    assert_eq!(
        chapter_name(&served.tree).as_deref(),
        Some("New chapter"),
        "the cached tree of the deleted course is never served"
    );
}
