//! The contract of `CertificateStore`, on both backends: one certificate
//! per learner and course (also when many issue it at once), lookups by
//! verify id, learner and course, the passing learners the generation job
//! reads (enrolled, active, stored grade passing, keyset pages), and
//! revoking and re-issuing guarded by the status they change from.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{Duration, Utc};
use lectern_app::certificates::{new_verify_id, CertificateStatus, NewCertificate};
use lectern_app::model::{GradeRecord, User};
use lectern_app::store::Store;
use lectern_content::CourseKey;

use crate::contract::{dates, new_user, sample_tree};

pub async fn run(store: Arc<dyn Store>) {
    let tree = sample_tree("Certs");
    let key = tree.key.clone();
    store
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .unwrap();
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(
            store
                .create_user(&new_user(&format!("Cert{i}")))
                .await
                .unwrap(),
        );
    }
    issuing_once(&store, &key, &users[0]).await;
    concurrent_issues(store.clone(), &key, &users[1]).await;
    passing_learners(&*store, &key, &users).await;
    revoke_and_reissue(&*store, &key, &users[0], &users[4]).await;
}

fn new_cert(key: &CourseKey, user: &User, grade: f64) -> NewCertificate {
    NewCertificate {
        verify_id: new_verify_id(),
        user_id: user.id,
        course_key: key.to_string(),
        grade,
        letter_grade: Some("Pass".into()),
        name: format!("<b>{}</b> Ünïcødé 名前", user.username),
        course_title: "Course".into(),
        created_at: Utc::now(),
    }
}

async fn issuing_once(store: &Arc<dyn Store>, key: &CourseKey, user: &User) {
    let first = new_cert(key, user, 0.8);
    let (cert, created) = store.issue_certificate(&first).await.unwrap();
    assert!(created);
    assert_eq!(cert.verify_id, first.verify_id);
    assert_eq!(cert.status, CertificateStatus::Generated);
    assert_eq!(cert.name, first.name, "names are kept exactly");
    assert!((cert.grade - 0.8).abs() < 1e-9);
    // A second issue (another verify id, another grade) keeps the first.
    let (again, created) = store
        .issue_certificate(&new_cert(key, user, 0.9))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, cert);
    assert_eq!(
        store
            .certificate_by_verify_id(&cert.verify_id)
            .await
            .unwrap(),
        Some(cert.clone())
    );
    assert_eq!(
        store
            .certificate_by_verify_id(&new_verify_id())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .certificate_of(user.id, &key.to_string())
            .await
            .unwrap(),
        Some(cert.clone())
    );
    assert_eq!(
        store
            .certificate_of(user.id, "course-v1:O+X+Y")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.certificates_of_user(user.id, 10).await.unwrap(),
        vec![cert]
    );
}

async fn concurrent_issues(store: Arc<dyn Store>, key: &CourseKey, user: &User) {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, new) = (store.clone(), new_cert(key, user, 0.7));
        tasks.push(tokio::spawn(
            async move { store.issue_certificate(&new).await },
        ));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for t in tasks {
        let (cert, new) = t.await.unwrap().unwrap();
        ids.push(cert.verify_id);
        created += usize::from(new);
    }
    assert_eq!(created, 1, "exactly one issue creates the certificate");
    ids.dedup();
    assert_eq!(ids.len(), 1, "every issuer gets the same certificate");
    assert_eq!(
        store.count_certificates(&key.to_string()).await.unwrap(),
        (2, 0)
    );
}

fn grade(user: &User, key: &CourseKey, percent: f64, passed: bool) -> GradeRecord {
    GradeRecord {
        user_id: user.id,
        course_key: key.clone(),
        revision: 0,
        course_version: 1,
        percent,
        letter_grade: passed.then(|| "Pass".to_string()),
        passed,
        detail: lectern_app::model::JsonText::of(&serde_json::json!({})).expect("a JSON value"),
        subsections: Vec::new(),
        stored_subsections: Default::default(),
        updated_at: Utc::now(),
    }
}

async fn passing_learners(store: &dyn Store, key: &CourseKey, users: &[User]) {
    let now = Utc::now();
    // 0, 1, 2 enrolled and passing; 3 enrolled and failing; 4 passing but
    // not enrolled; 2 is then deactivated.
    for (i, u) in users.iter().enumerate() {
        if i != 4 {
            store.enroll(u.id, key, "audit", now).await.unwrap();
        }
        store
            .save_course_grade(&grade(u, key, if i == 3 { 0.2 } else { 0.9 }, i != 3))
            .await
            .unwrap();
    }
    store.set_user_active(users[2].id, false).await.unwrap();
    let all = store
        .passing_learners(&key.to_string(), 0, 100)
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|p| p.user_id).collect();
    assert_eq!(ids, vec![users[0].id, users[1].id]);
    assert!((all[0].percent - 0.9).abs() < 1e-9);
    assert_eq!(all[0].letter_grade.as_deref(), Some("Pass"));
    let page = store
        .passing_learners(&key.to_string(), 0, 1)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let rest = store
        .passing_learners(&key.to_string(), page[0].user_id, 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|p| p.user_id).collect::<Vec<_>>(),
        vec![users[1].id]
    );
    assert!(store
        .passing_learners("course-v1:O+None+R", 0, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn revoke_and_reissue(store: &dyn Store, key: &CourseKey, learner: &User, staff: &User) {
    let cert = store
        .certificate_of(learner.id, &key.to_string())
        .await
        .unwrap()
        .unwrap();
    let at = Utc::now() + Duration::seconds(5);
    assert!(
        !store
            .reissue_certificate(cert.id, 0.5, None, "N", "T", at)
            .await
            .unwrap(),
        "only a revoked certificate is re-issued"
    );
    assert!(store
        .revoke_certificate(cert.id, staff.id, "copied answers", at)
        .await
        .unwrap());
    assert!(!store
        .revoke_certificate(cert.id, staff.id, "again", at)
        .await
        .unwrap());
    let revoked = store
        .certificate_by_verify_id(&cert.verify_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.status, CertificateStatus::Revoked);
    assert_eq!(revoked.revoked_by, Some(staff.id));
    assert_eq!(revoked.revoke_reason.as_deref(), Some("copied answers"));
    assert_eq!(
        revoked.revoked_at.map(|t| t.timestamp_millis()),
        Some(at.timestamp_millis())
    );
    assert_eq!(
        store.count_certificates(&key.to_string()).await.unwrap(),
        (1, 1)
    );
    let listed = store
        .certificates_of_course(&key.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].id > listed[1].id, "newest first");
    assert_eq!(
        store
            .certificates_of_course(&key.to_string(), 1)
            .await
            .unwrap()
            .len(),
        1
    );

    let later = at + Duration::seconds(5);
    assert!(store
        .reissue_certificate(cert.id, 0.95, Some("A"), "New Name", "New Title", later)
        .await
        .unwrap());
    let back = store
        .certificate_by_verify_id(&cert.verify_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.status, CertificateStatus::Generated);
    assert_eq!(
        (back.name.as_str(), back.course_title.as_str()),
        ("New Name", "New Title")
    );
    assert_eq!(back.letter_grade.as_deref(), Some("A"));
    assert!((back.grade - 0.95).abs() < 1e-9);
    assert_eq!(back.revoked_at, None);
    assert_eq!(back.revoke_reason, None);
    assert_eq!(back.verify_id, cert.verify_id, "the verify URL stays");
    assert_eq!(
        store.count_certificates(&key.to_string()).await.unwrap(),
        (2, 0)
    );
}
