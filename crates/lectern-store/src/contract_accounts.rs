//! The conformance checks for password changes, reset links, profiles and
//! the enrolment pages (part of [`crate::contract::run`]): a password change
//! ends the user's tokens but the one kept and no one else's; a reset link
//! is taken once and never after it expires; a profile round-trips with the
//! name. (The enrolment pages are checked through HTTP in `openedx_api`.)

use chrono::{Duration, Utc};
use lectern_app::model::{AuthToken, NewUser, TokenKind};
use lectern_app::profile::Profile;
use lectern_app::store::{PasswordReset, Store};

fn user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        name: name.into(),
        password_hash: "old".into(),
        is_admin: false,
        is_course_creator: false,
    }
}

fn token(hash: &str, user_id: i64, kind: TokenKind) -> AuthToken {
    AuthToken {
        token_hash: hash.into(),
        user_id,
        kind,
        expires_at: Utc::now() + Duration::hours(1),
    }
}

pub async fn run(store: &dyn Store) {
    let now = Utc::now();
    let a = store.create_user(&user("cred_a")).await.expect("a");
    let b = store.create_user(&user("cred_b")).await.expect("b");
    for t in [
        token("a-keep", a.id, TokenKind::Session),
        token("a-other", a.id, TokenKind::Session),
        token("a-bearer", a.id, TokenKind::Bearer),
        token("b-session", b.id, TokenKind::Session),
    ] {
        store.insert_token(&t).await.expect("token");
    }
    store
        .insert_password_reset(&PasswordReset {
            token_hash: "a-reset".into(),
            user_id: a.id,
            expires_at: now + Duration::hours(1),
            created_at: now,
        })
        .await
        .expect("reset");
    store
        .set_password(a.id, "new", Some("a-keep"))
        .await
        .expect("set password");
    let (_, hash) = store
        .user_for_login("cred_a")
        .await
        .expect("login")
        .expect("a");
    assert_eq!(hash, "new");
    assert!(store.token("a-keep", now).await.expect("keep").is_some());
    assert!(store.token("a-other", now).await.expect("other").is_none());
    assert!(store
        .token("a-bearer", now)
        .await
        .expect("bearer")
        .is_none());
    assert!(store.token("b-session", now).await.expect("b").is_some());
    assert_eq!(store.count_password_resets(a.id, now).await.expect("n"), 0);

    // A reset link: peeked any number of times, taken once, dead after expiry.
    for (hash, ttl) in [("r-live", 1), ("r-old", -1)] {
        store
            .insert_password_reset(&PasswordReset {
                token_hash: hash.into(),
                user_id: b.id,
                expires_at: now + Duration::hours(ttl),
                created_at: now,
            })
            .await
            .expect("insert reset");
    }
    assert_eq!(store.count_password_resets(b.id, now).await.expect("n"), 1);
    assert_eq!(
        store
            .peek_password_reset("r-live", now)
            .await
            .expect("peek"),
        Some(b.id)
    );
    assert_eq!(
        store
            .take_password_reset("r-live", now)
            .await
            .expect("take"),
        Some(b.id)
    );
    assert_eq!(
        store
            .take_password_reset("r-live", now)
            .await
            .expect("again"),
        None
    );
    assert_eq!(
        store.peek_password_reset("r-old", now).await.expect("old"),
        None
    );
    assert_eq!(
        store.take_password_reset("r-old", now).await.expect("old"),
        None
    );
    assert_eq!(
        store
            .delete_user_tokens_of_kind(b.id, TokenKind::Session)
            .await
            .expect("kind"),
        1
    );

    let profile = Profile {
        bio: Some("hi".into()),
        country: Some("FR".into()),
        year_of_birth: Some(1990),
        language_proficiencies: vec!["en".into()],
        ..Profile::default()
    };
    assert_eq!(
        store.profile(a.id).await.expect("empty"),
        Profile::default()
    );
    store
        .update_account(a.id, "New Name", &profile)
        .await
        .expect("update");
    assert_eq!(store.profile(a.id).await.expect("profile"), profile);
    let renamed = store.user_by_id(a.id).await.expect("user").expect("a");
    assert_eq!(renamed.name, "New Name");
}
