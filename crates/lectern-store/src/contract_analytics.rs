//! The contract of `AnalyticsStore`, on both backends: engagement rows
//! written only for actively enrolled learners, added to and kept within
//! their cap; activity days written once; and each aggregate (enrolments
//! by day, active learners by week, grade bins, video mean and median)
//! against numbers worked out by hand.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use lectern_app::analytics::store::{ActivityDay, EngagementDelta, EnrollmentDay};
use lectern_app::model::{GradeRecord, User};
use lectern_app::store::Store;
use lectern_content::CourseKey;

use crate::contract::{dates, new_user, sample_tree};

/// Noon of day `day` (days since 1970-01-01).
fn noon(day: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(day * 86_400 + 43_200, 0)
        .single()
        .unwrap()
}

const DAY: i64 = 20_000; // 2024-10-04, a Friday

pub async fn run(store: Arc<dyn Store>) {
    let tree = sample_tree("Analytics");
    let key = tree.key.clone();
    store
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .unwrap();
    let mut users = Vec::new();
    for i in 0..5 {
        users.push(
            store
                .create_user(&new_user(&format!("An{i}")))
                .await
                .unwrap(),
        );
    }
    // 0 and 1 on DAY, 2 on DAY + 2 (then leaves), 3 on DAY + 9; 4 never.
    for (i, day) in [(0, DAY), (1, DAY), (2, DAY + 2), (3, DAY + 9)] {
        store
            .enroll(users[i].id, &key, "audit", noon(day))
            .await
            .unwrap();
    }
    store.unenroll(users[2].id, &key).await.unwrap();
    enrolments(&*store, &key).await;
    engagement(&*store, &key, &users).await;
    activity(&*store, &key, &users).await;
    grades(&*store, &key, &users).await;
}

async fn enrolments(store: &dyn Store, key: &CourseKey) {
    let course = key.to_string();
    assert_eq!(
        store.first_enrollment_day(&course).await.unwrap(),
        Some(DAY)
    );
    let (before, days) = store.enrollment_days(&course, DAY + 1).await.unwrap();
    assert_eq!(before, 2);
    assert_eq!(
        days,
        vec![
            EnrollmentDay {
                day: DAY + 2,
                created: 1,
                active: 0
            },
            EnrollmentDay {
                day: DAY + 9,
                created: 1,
                active: 1
            },
        ]
    );
    assert_eq!(
        store
            .first_enrollment_day("course-v1:No+Such+Run")
            .await
            .unwrap(),
        None
    );
}

fn delta(
    key: &CourseKey,
    video: &str,
    user: &User,
    seconds: f64,
    furthest: f64,
) -> EngagementDelta {
    EngagementDelta {
        course_key: key.to_string(),
        usage_key: format!("{key}/video/{video}"),
        user_id: user.id,
        plays: 1,
        seconds,
        furthest,
        duration: 100.0,
        cap: 100.0,
        last_seen: Utc::now(),
    }
}

async fn engagement(store: &dyn Store, key: &CourseKey, users: &[User]) {
    // v1: 0 watches 30 then 90 more (capped at 100); 1 watches 10; 3 watches 50.
    // 2 (unenrolled) and 4 (never enrolled) leave no row.
    let first = vec![
        delta(key, "v1", &users[0], 30.0, 30.0),
        delta(key, "v1", &users[1], 10.0, 95.0),
        delta(key, "v1", &users[2], 80.0, 80.0),
        delta(key, "v1", &users[4], 80.0, 80.0),
        delta(key, "v2", &users[0], 20.0, 20.0),
    ];
    store.save_engagement(&first, &[]).await.unwrap();
    let second = vec![
        delta(key, "v1", &users[0], 90.0, 500.0),
        delta(key, "v1", &users[3], 50.0, 50.0),
    ];
    store.save_engagement(&second, &[]).await.unwrap();
    // v3: a later delta whose player did not report the length (its own
    // cap the longest believable) is still kept within the stored length.
    store
        .save_engagement(&[delta(key, "v3", &users[0], 10.0, 10.0)], &[])
        .await
        .unwrap();
    let unknown = EngagementDelta {
        duration: 0.0,
        cap: 21_600.0,
        seconds: 500.0,
        furthest: 500.0,
        ..delta(key, "v3", &users[0], 0.0, 0.0)
    };
    store.save_engagement(&[unknown], &[]).await.unwrap();
    let mut videos = store.video_summaries(&key.to_string()).await.unwrap();
    videos.sort_by(|a, b| a.usage_key.cmp(&b.usage_key));
    assert_eq!(videos.len(), 3);
    let v3 = &videos[2];
    assert_eq!(
        (
            v3.learners,
            v3.mean_seconds,
            v3.median_seconds,
            v3.duration,
            v3.completed
        ),
        (1, 100.0, 100.0, 100.0, 1)
    );
    let v1 = &videos[0];
    assert!(v1.usage_key.ends_with("/v1"));
    // Rows: 100 (capped), 10, 50 → mean 53.33, median 50; completed: 0
    // (furthest capped at 100) and 1 (95).
    assert_eq!(v1.learners, 3);
    assert!((v1.mean_seconds - 160.0 / 3.0).abs() < 1e-9, "{v1:?}");
    assert_eq!(v1.median_seconds, 50.0);
    assert_eq!(v1.duration, 100.0);
    assert_eq!(v1.completed, 2);
    let v2 = &videos[1];
    assert_eq!((v2.learners, v2.median_seconds, v2.completed), (1, 20.0, 0));
    // An even count: the median is the mean of the two middle values.
    store
        .save_engagement(&[delta(key, "v2", &users[1], 40.0, 40.0)], &[])
        .await
        .unwrap();
    let videos = store.video_summaries(&key.to_string()).await.unwrap();
    let v2 = videos.iter().find(|v| v.usage_key.ends_with("v2")).unwrap();
    assert_eq!((v2.learners, v2.median_seconds), (2, 30.0));
}

async fn activity(store: &dyn Store, key: &CourseKey, users: &[User]) {
    let mark = |u: &User, day: i64| ActivityDay {
        course_key: key.to_string(),
        user_id: u.id,
        day,
    };
    // DAY is a Friday: DAY and DAY + 2 (Sunday) are one week, DAY + 3 the
    // next. 4 is not enrolled: no row.
    let days = vec![
        mark(&users[0], DAY),
        mark(&users[1], DAY + 2),
        mark(&users[0], DAY + 3),
        mark(&users[4], DAY + 3),
    ];
    store.save_engagement(&[], &days).await.unwrap();
    store.save_engagement(&[], &days).await.unwrap();
    let weeks = store
        .active_learner_weeks(&key.to_string(), DAY - 7)
        .await
        .unwrap();
    let week = (DAY + 3).div_euclid(7);
    assert_eq!(weeks, vec![(week, 2), (week + 1, 1)]);
    let later = store
        .active_learner_weeks(&key.to_string(), DAY + 3)
        .await
        .unwrap();
    assert_eq!(later, vec![(week + 1, 1)]);
}

async fn grades(store: &dyn Store, key: &CourseKey, users: &[User]) {
    // Active learners: 0 at 95 %, 1 at 30 %, 3 without a grade (0 %);
    // 2 has left (not counted).
    for (i, percent) in [(0, 0.95), (1, 0.3), (2, 0.7)] {
        store
            .save_course_grade(&GradeRecord {
                user_id: users[i].id,
                course_key: key.clone(),
                revision: 0,
                course_version: 1,
                percent,
                letter_grade: None,
                passed: false,
                detail: lectern_app::model::JsonText::of(&serde_json::json!({}))
                    .expect("a JSON value"),
                subsections: Vec::new(),
                stored_subsections: Default::default(),
                updated_at: Utc::now() - Duration::seconds(1),
            })
            .await
            .unwrap();
    }
    let bins = store.grade_bins(&key.to_string()).await.unwrap();
    assert_eq!(bins, [1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
}
