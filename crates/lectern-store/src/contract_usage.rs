//! The contract of `UsageStore` (the site limits' one read), on both
//! backends: a fresh store holds nothing; accounts (deactivated ones too)
//! and courses are counted; stored bytes are each distinct blob's size
//! once, however it was stored (whole or streamed in chunks).

#![allow(clippy::unwrap_used)]

use chrono::Utc;
use lectern_app::site_limits::SiteUsage;
use lectern_app::store::{CourseDates, NewBlob, Store};
use lectern_content::{CourseKey, CourseTree};

pub async fn run(store: &dyn Store) {
    assert_eq!(store.site_usage().await.unwrap(), SiteUsage::default());

    let ann = store
        .create_user(&crate::contract::new_user("Ann"))
        .await
        .unwrap();
    store
        .create_user(&crate::contract::new_user("Bo"))
        .await
        .unwrap();
    store.set_user_active(ann.id, false).await.unwrap();
    let tree = CourseTree::new(CourseKey::new("Org", "U1", "2026").unwrap(), "Usage");
    store
        .create_course(&tree, CourseDates::default(), Some(ann.id), Utc::now())
        .await
        .unwrap();

    let small = NewBlob {
        sha256: "u1",
        bytes: &[7; 1000],
    };
    store.put_blob(&small).await.unwrap();
    store.put_blob(&small).await.unwrap();
    // Larger than a chunk, streamed: counted by its size, not its chunks.
    let big = vec![3u8; 1_300_000];
    let mut source: &[u8] = &big;
    store
        .put_blob_stream("u2", big.len() as u64, &mut source)
        .await
        .unwrap();

    assert_eq!(
        store.site_usage().await.unwrap(),
        SiteUsage {
            courses: 1,
            accounts: 2,
            storage_bytes: 1000 + 1_300_000,
        }
    );
}
