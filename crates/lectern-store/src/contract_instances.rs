//! The contract of `InstanceStore`, on both backends: an instance with its
//! hosts in order, a taken name or host refused with nothing written,
//! switching off and on, settings, and removal with its hosts.

#![allow(clippy::unwrap_used)]

use chrono::Utc;
use lectern_app::instances::NewInstance;
use lectern_app::store::Store;
use lectern_app::StoreError;

fn new(name: &str, hosts: &[&str]) -> NewInstance {
    NewInstance {
        name: name.into(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        database_url: String::new(),
    }
}

pub async fn run(store: &dyn Store) {
    let now = Utc::now();
    assert!(store.instances().await.unwrap().is_empty());
    store
        .create_instance(&new("acme", &["b.acme.test", "a.acme.test"]), now)
        .await
        .unwrap();
    let all = store.instances().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].hosts,
        ["b.acme.test", "a.acme.test"],
        "hosts keep their order"
    );
    assert!(!all[0].disabled);
    assert_eq!(all[0].settings, "");

    // A taken name, or a taken host, writes nothing.
    let e = store
        .create_instance(&new("acme", &["c.acme.test"]), now)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { ref field } if field == "name"),
        "{e:?}"
    );
    let e = store
        .create_instance(&new("other", &["c.other.test", "a.acme.test"]), now)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { ref field } if field == "host"),
        "{e:?}"
    );
    let all = store.instances().await.unwrap();
    assert_eq!(all.len(), 1, "the clashing instance left nothing: {all:?}");
    store
        .create_instance(&new("other", &["c.other.test"]), now)
        .await
        .unwrap();

    assert!(store.set_instance_disabled("acme", true).await.unwrap());
    assert!(!store.set_instance_disabled("nobody", true).await.unwrap());
    assert!(store
        .set_instance_settings("acme", "site_name = \"Acme\"")
        .await
        .unwrap());
    let acme = store.instances().await.unwrap().remove(0);
    assert!(acme.disabled);
    assert_eq!(acme.settings, "site_name = \"Acme\"");
    assert!(store.set_instance_disabled("acme", false).await.unwrap());

    assert!(store.delete_instance("acme").await.unwrap());
    assert!(!store.delete_instance("acme").await.unwrap());
    let all = store.instances().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "other");
    // Its hosts went with it.
    store
        .create_instance(&new("acme", &["a.acme.test"]), now)
        .await
        .unwrap();
}
