//! The conformance checks for several nodes sharing one database: the
//! site's one setup link, the first admin created exactly once, and the
//! last admin kept when two admins remove each other at the same moment.
//! The races run through two store handles (two nodes' connection pools)
//! on one database, so the database itself sees the writes in parallel.

use chrono::{Duration, Utc};
use lectern_app::model::NewUser;
use lectern_app::store::{AdminLoss, Store};

fn person(name: &str, admin: bool) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        name: name.into(),
        password_hash: "h".into(),
        is_admin: admin,
        is_course_creator: admin,
    }
}

/// The setup link is kept while it works and replaced once expired (part
/// of [`crate::contract::run`]).
pub async fn setup_link(store: &dyn Store) {
    let now = Utc::now();
    let later = now + Duration::hours(2);
    let first = store
        .setup_link("first-link", now + Duration::hours(1), now)
        .await
        .expect("link");
    assert_eq!(first, "first-link");
    let again = store
        .setup_link("second-link", now + Duration::hours(1), now)
        .await
        .expect("link again");
    assert_eq!(again, "first-link", "a working link is reused");
    assert!(store.setup_link_valid("first-link", now).await.expect("v"));
    assert!(!store.setup_link_valid("second-link", now).await.expect("v"));
    assert!(
        !store
            .setup_link_valid("first-link", later)
            .await
            .expect("v"),
        "an expired link does not work"
    );
    let fresh = store
        .setup_link("third-link", later + Duration::hours(1), later)
        .await
        .expect("fresh");
    assert_eq!(fresh, "third-link", "an expired link is replaced");
}

/// Runs on a fresh, empty database reached through two handles `a` and `b`.
pub async fn races(a: &dyn Store, b: &dyn Store) {
    first_admin_once(a, b).await;
    last_admin_kept(a, b).await;
}

async fn first_admin_once(a: &dyn Store, b: &dyn Store) {
    let now = Utc::now();
    for round in 0..8 {
        let secret = a
            .setup_link(&format!("link-{round}"), now + Duration::hours(1), now)
            .await
            .expect("link");
        let seen_by_b = b
            .setup_link("other", now + Duration::hours(1), now)
            .await
            .expect("link");
        assert_eq!(secret, seen_by_b, "both nodes print the same link");
        let (x, y) = (
            person(&format!("root_a{round}"), true),
            person(&format!("root_b{round}"), true),
        );
        let (ra, rb) = tokio::join!(
            a.complete_setup(&secret, &x, now),
            b.complete_setup(&secret, &y, now)
        );
        let (ra, rb) = (ra.expect("a"), rb.expect("b"));
        assert!(
            ra.is_some() != rb.is_some(),
            "round {round}: exactly one completion creates the admin"
        );
        assert_eq!(a.count_admins().await.expect("count"), 1);
        assert!(!b.setup_link_valid(&secret, now).await.expect("v"));
        let winner = ra.or(rb).expect("a winner");
        assert!(winner.is_admin && winner.is_active);
        // Back to a site without an admin for the next round.
        a.set_user_admin(winner.id, false).await.expect("reset");
    }
    // With an admin in place, a valid link still creates nobody.
    let admin = a
        .create_user(&person("standing", true))
        .await
        .expect("admin");
    let secret = a
        .setup_link("late", now + Duration::hours(1), now)
        .await
        .expect("link");
    assert!(a
        .complete_setup(&secret, &person("late_root", true), now)
        .await
        .expect("setup")
        .is_none());
    a.set_user_admin(admin.id, false).await.expect("reset");
}

async fn last_admin_kept(a: &dyn Store, b: &dyn Store) {
    let x = a.create_user(&person("adm_x", true)).await.expect("x");
    let y = a.create_user(&person("adm_y", true)).await.expect("y");
    for round in 0..12 {
        let loss = if round % 2 == 0 {
            AdminLoss::RevokeAdmin
        } else {
            AdminLoss::Deactivate
        };
        // x removes y on one node while y removes x on the other.
        let (rx, ry) = tokio::join!(
            a.remove_admin_power(y.id, loss),
            b.remove_admin_power(x.id, loss)
        );
        let (rx, ry) = (rx.expect("a"), ry.expect("b"));
        assert!(
            rx != ry,
            "round {round} ({loss:?}): exactly one removal succeeds"
        );
        assert_eq!(a.count_admins().await.expect("count"), 1);
        assert!(
            !a.remove_admin_power(if rx { x.id } else { y.id }, loss)
                .await
                .expect("last"),
            "the last admin cannot be removed"
        );
        for u in [x.id, y.id] {
            a.set_user_admin(u, true).await.expect("restore");
            a.set_user_active(u, true).await.expect("restore");
        }
    }
    // A user who is no admin is deactivated without any guard.
    let plain = a.create_user(&person("plain", false)).await.expect("plain");
    assert!(a
        .remove_admin_power(plain.id, AdminLoss::Deactivate)
        .await
        .expect("deactivate"));
    let plain = a.user_by_id(plain.id).await.expect("get").expect("exists");
    assert!(!plain.is_active);
}
