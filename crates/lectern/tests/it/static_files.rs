//! Course static files as browsers and media players fetch them: byte
//! ranges (`206`, `416`), validators (`ETag`, `Last-Modified`, `304`), on a
//! file larger than one stored chunk, uploaded through Studio.

use reqwest::header::{
    ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};
use reqwest::StatusCode;

use crate::support::TestSite;

/// A "video" of 2.5 MiB whose every byte depends on its offset, so that a
/// wrong offset shows.
fn video() -> Vec<u8> {
    (0..2_621_440u32)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

#[tokio::test]
async fn a_video_is_served_in_ranges_as_a_browser_asks() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, _) = crate::journey::build_course(&admin, "VID", "<p>v</p>").await;
    let bytes = video();
    let n = bytes.len();
    let csrf = admin.csrf().await;
    let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name("lecture.mp4");
    let r = admin
        .http
        .post(admin.url(&format!("/studio/course/{key}/files?csrf_token={csrf}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    let url = admin.url(&format!("/courses/{key}/static/lecture.mp4"));
    let http = reqwest::Client::new();
    let get = |headers: Vec<(reqwest::header::HeaderName, String)>| {
        let mut req = http.get(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };

    // The whole file, with its validators.
    let r = get(vec![]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[ACCEPT_RANGES], "bytes");
    assert_eq!(r.headers()[CONTENT_TYPE], "video/mp4");
    assert_eq!(r.headers()[CONTENT_LENGTH], n.to_string());
    let etag = r.headers()[ETAG].to_str().unwrap().to_string();
    let modified = r.headers()[LAST_MODIFIED].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    assert!(modified.ends_with(" GMT"), "{modified}");
    assert!(r.bytes().await.unwrap()[..] == bytes[..], "other bytes");

    // What <video> sends: the start, open-ended; then a seek past the first
    // stored chunk; then a range across the chunk boundary; the tail.
    let cases: [(&str, usize, usize); 5] = [
        ("bytes=0-", 0, n - 1),
        ("bytes=2000000-", 2_000_000, n - 1),
        ("bytes=1048570-1048589", 1_048_570, 1_048_589),
        ("bytes=-100", n - 100, n - 1),
        ("bytes=5-9999999", 5, n - 1),
    ];
    for (range, start, end) in cases {
        let r = get(vec![(RANGE, range.to_string())]).await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers()[CONTENT_RANGE],
            format!("bytes {start}-{end}/{n}"),
            "{range}"
        );
        assert_eq!(
            r.headers()[CONTENT_LENGTH],
            (end - start + 1).to_string(),
            "{range}"
        );
        // Compared without printing megabytes when they differ.
        let got = r.bytes().await.unwrap();
        assert!(got[..] == bytes[start..=end], "{range}: other bytes");
    }

    // Past the end: 416 naming the size.
    let r = get(vec![(RANGE, format!("bytes={n}-"))]).await.unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.headers()[CONTENT_RANGE], format!("bytes */{n}"));

    // Several ranges at once: the whole file, as HTTP allows.
    let r = get(vec![(RANGE, "bytes=0-1,5-6".into())]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The browser's copy is current: 304 with no body, by tag or by date.
    for headers in [
        vec![(IF_NONE_MATCH, etag.clone())],
        vec![(IF_NONE_MATCH, format!("\"other\", {etag}"))],
        vec![(IF_MODIFIED_SINCE, modified.clone())],
    ] {
        let r = get(headers.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{headers:?}");
        assert_eq!(r.headers()[ETAG], etag.as_str());
        assert!(r.bytes().await.unwrap().is_empty());
    }
    // Stale copies get the file: another tag (which wins over the date), an older date.
    let r = get(vec![
        (IF_NONE_MATCH, "\"other\"".into()),
        (IF_MODIFIED_SINCE, modified.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = get(vec![(
        IF_MODIFIED_SINCE,
        "Sun, 06 Nov 1994 08:49:37 GMT".into(),
    )])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // If-Range: the range only while the file is the one the client had.
    let r = get(vec![(RANGE, "bytes=0-9".into()), (IF_RANGE, etag.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    let r = get(vec![
        (RANGE, "bytes=0-9".into()),
        (IF_RANGE, "\"old\"".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), n);
}
