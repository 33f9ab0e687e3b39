//! Course media as learners get it: math typeset from Lectern's own
//! MathJax, video transcripts beside the player, course files (the course
//! image, `/static/` and `/asset-v1:` links) that resolve.

use reqwest::StatusCode;

use crate::support::{bearer, TestSite};
use crate::transfer::fixture;

const MATHJAX: &str = "/assets/vendor/mathjax-3.2.2/tex-svg-full.js";
const DEMO: &str = "course-v1:OpenedX+DemoX+DemoCourse";

fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
    crate::support::tar_gz(files)
}

/// Imports `archive` through the API as the site's admin.
async fn import(site: &TestSite, archive: Vec<u8>) {
    let token = bearer(&site.base, "root").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", token)
        .body(archive)
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert!(
        status.is_success(),
        "import: {status} {}",
        r.text().await.unwrap()
    );
}

/// Links in a page, with askama's escapes undone.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let start = i + needle.len();
            let end = html[start..].find('"')? + start;
            Some(
                html[start..end]
                    .replace("&#43;", "+")
                    .replace("&#38;", "&")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

const MATH_PROBLEM: &str = r#"<problem url_name="pm" display_name="Halves" showanswer="always">
<p>What is [mathjaxinline]\frac{1}{2}[/mathjaxinline] as a decimal, given \(x &lt; 1\)?</p>
<p><img src="/static/dot.png" alt="a dot"/></p>
<numericalresponse answer="0.5"><responseparam type="tolerance" default="0.01"/><formulaequationinput/></numericalresponse>
<demandhint><hint>Think of \(1 \div 2\).</hint></demandhint>
<solution><div class="detailed-solution"><p>[mathjax]\frac{1}{2} = 0.5[/mathjax]</p></div></solution>
</problem>"#;

const MATH_HTML: &str = r#"<html url_name="hm" display_name="Formulas"><p>Inline \(a &lt; b\), display \[e^{i\pi} + 1 = 0\], marker [mathjaxinline]x_1[/mathjaxinline] and [mathjax]\sum_i i[/mathjax]. <img src="/asset-v1:M+A+R+type@asset+block@dot.png" alt="dot"/></p></html>"#;

/// A course with math in an HTML block and a problem, a video whose
/// transcript is broken, and an image.
fn math_course() -> Vec<u8> {
    let course = format!(
        r#"<course display_name="Media"><chapter url_name="c1" display_name="Week 1">
<sequential url_name="s1" display_name="S 1">
<vertical url_name="math" display_name="Math">{MATH_HTML}{MATH_PROBLEM}</vertical>
<vertical url_name="plain" display_name="Plain"><html url_name="hp" display_name="Plain"><p>No formulas, costs $5.</p></html></vertical>
<vertical url_name="vid" display_name="Video"><video url_name="vb" display_name="Broken" html5_sources="[&quot;/static/clip.mp4&quot;]" transcripts="{{&quot;en&quot;: &quot;bad.srt&quot;, &quot;fr&quot;: &quot;good-fr.sjson&quot;}}"/></vertical>
</sequential></chapter></course>"#
    );
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
    archive(&[
        (
            "course/course.xml",
            br#"<course url_name="R" org="M" course="A"/>"#,
        ),
        ("course/course/R.xml", course.as_bytes()),
        ("course/policies/R/policy.json", br#"{"course/R": {}}"#),
        ("course/static/dot.png", png),
        ("course/static/clip.mp4", b"not really a video"),
        ("course/static/bad.srt", b"1\nthis is not a time\nhello\n"),
        (
            "course/static/good-fr.sjson",
            r#"{"start": [0, 4000], "end": [4000, 8000], "text": ["Bonjour", "la méduse"]}"#
                .as_bytes(),
        ),
    ])
}

async fn learner_in(site: &TestSite, key: &str) -> crate::support::Client {
    let learner = site.user("learner", false).await;
    let r = learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    learner
}

#[tokio::test]
async fn math_in_html_problems_hints_and_solutions_is_typeset_from_lecterns_own_mathjax() {
    let site = TestSite::spawn().await;
    let author = site.user("root", true).await;
    import(&site, math_course()).await;
    let key = "course-v1:M+A+R";
    let learner = learner_in(&site, key).await;

    let (status, page) = learner
        .text(&format!(
            "/courses/{key}/unit/math?problem=pm&hints=1&show=pm"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        // HTML block: both delimiters kept, `<` intact as text, markers converted.
        r"Inline \(a &lt; b\)",
        r"display \[e^{i\pi} + 1 = 0\]",
        r"marker \(x_1\)",
        r"\[\sum_i i\]",
        // Problem text, hint and solution.
        r"What is \(\frac{1}{2}\) as a decimal, given \(x &lt; 1\)?",
        r"Think of \(1 \div 2\).",
        r"\[\frac{1}{2} = 0.5\]",
    ] {
        assert!(page.contains(want), "missing {want} in\n{page}");
    }
    assert!(!page.contains("[mathjax"), "a marker survived:\n{page}");
    let scripts = attr_values(&page, "src");
    let config = scripts.iter().position(|s| s == "/assets/math.js");
    let mathjax = scripts.iter().position(|s| s == MATHJAX);
    assert!(
        matches!((config, mathjax), (Some(c), Some(m)) if c < m),
        "config then MathJax: {scripts:?}"
    );
    assert!(
        !page.contains("<script>") && !page.contains("cdn"),
        "no inline script, no other host"
    );
    // The /asset-v1: image in the HTML block and the /static/ one in the
    // problem both resolve to the course's file.
    let img = format!("/courses/{key}/static/dot.png");
    assert_eq!(
        scripts.iter().filter(|s| **s == img).count(),
        2,
        "{scripts:?}"
    );
    let r = learner.get(&img).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");

    // Studio's preview of the unit typesets the same way.
    let (status, preview) = author
        .text(&format!("/studio/course/{key}/unit/math"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains(r"marker \(x_1\)"), "{preview}");
    assert!(attr_values(&preview, "src").contains(&MATHJAX.to_string()));

    // A page without math does not load MathJax.
    let (_, plain) = learner.text(&format!("/courses/{key}/unit/plain")).await;
    assert!(plain.contains("costs $5"), "{plain}");
    assert!(!plain.contains(MATHJAX) && !plain.contains("/assets/math.js"));
}

#[tokio::test]
async fn mathjax_and_media_scripts_are_served_with_types_and_caching() {
    let site = TestSite::spawn().await;
    let c = site.client();
    for (path, ctype, cache) in [
        (MATHJAX, "text/javascript", "immutable"),
        ("/assets/math.js", "text/javascript", "max-age"),
        ("/assets/video.js", "text/javascript", "max-age"),
        ("/assets/media.css", "text/css", "max-age"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(ctype),
            "{path}"
        );
        assert!(
            h["cache-control"].to_str().unwrap().contains(cache),
            "{path}"
        );
        let body = r.text().await.unwrap();
        assert!(body.len() > 100, "{path}");
    }
    let mathjax = c.get(MATHJAX).await.text().await.unwrap();
    assert!(mathjax.contains("MathJax") && mathjax.len() > 1_000_000);
    // Browsers that accept gzip get a third of the bytes, the same script.
    let r = c
        .http
        .get(c.url(MATHJAX))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["vary"], "accept-encoding");
    let gz = r.bytes().await.unwrap();
    assert!(gz.len() < mathjax.len() / 2);
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
    assert_eq!(plain, mathjax);
}

#[tokio::test]
async fn the_demo_courses_video_shows_its_transcript_beside_the_player() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    import(&site, fixture("openedx-demo-course.tar.gz")).await;
    let learner = learner_in(&site, DEMO).await;

    // "Meet Open edX": YouTube only, English transcript 10840580-…-en.srt.
    let (status, page) = learner
        .text(&format!(
            "/courses/{DEMO}/unit/e33f5e34f13244f2aa7e2ed8dcdf8635"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"class="transcript-cues""#), "{page}");
    assert!(
        page.contains(
            "Voiceover: Meet the system that is behind the revolution of digital learning."
        ),
        "{page}"
    );
    assert!(page
        .contains(r#"<span class="cue-time">0:04</span> The Open edX platform is an innovative"#));
    let links = attr_values(&page, "href");
    assert!(links.contains(&"https://www.youtube.com/watch?v=UdawuO-o7AQ".to_string()));
    assert!(
        links.contains(&"https://www.youtube.com/watch?v=UdawuO-o7AQ&t=4s".to_string()),
        "captions link to their time: {links:?}"
    );
    assert!(!page.contains("<iframe"), "no third-party player");
    assert!(attr_values(&page, "src").contains(&"/assets/video.js".to_string()));
    // The transcript's download link resolves.
    let file = format!("/courses/{DEMO}/static/10840580-cf26-4aeb-8076-7cacf5eaf5ae-en.srt");
    assert!(links.contains(&file), "{links:?}");
    assert_eq!(learner.get(&file).await.status(), StatusCode::OK);

    // Two languages: both read, English first.
    let (_, two) = learner
        .text(&format!(
            "/courses/{DEMO}/unit/43755d02338c4371b68e448116b4fa13"
        ))
        .await;
    let (en, es) = (
        two.find("Transcript · English"),
        two.find("Transcript · Español"),
    );
    assert!(matches!((en, es), (Some(a), Some(b)) if a < b), "{two}");
}

#[tokio::test]
async fn a_broken_transcript_is_a_note_not_an_error() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    import(&site, math_course()).await;
    let key = "course-v1:M+A+R";
    let learner = learner_in(&site, key).await;
    let (status, page) = learner.text(&format!("/courses/{key}/unit/vid")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("This transcript cannot be shown: line 2"),
        "{page}"
    );
    // The other language still shows, linked to the HTML5 video's times.
    assert!(
        page.contains("Bonjour") && page.contains("la méduse"),
        "{page}"
    );
    assert!(
        page.contains("<details class=\"transcript\" open>\n<summary>Transcript · Français"),
        "the readable transcript is the one unfolded: {page}"
    );
    let links = attr_values(&page, "href");
    assert!(
        links.contains(&format!("/courses/{key}/static/clip.mp4#t=4")),
        "{links:?}"
    );
    assert!(attr_values(&page, "src").contains(&format!("/courses/{key}/static/clip.mp4")));
    assert!(!page.contains(MATHJAX), "no math here");
}

#[tokio::test]
async fn the_demo_courses_about_page_images_load() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    import(&site, fixture("openedx-demo-course.tar.gz")).await;
    let visitor = site.client();
    let (status, page) = visitor.text(&format!("/courses/{DEMO}/about")).await;
    assert_eq!(status, StatusCode::OK);
    let images: Vec<String> = attr_values(&page, "src")
        .into_iter()
        .filter(|s| !s.starts_with("/assets/"))
        .collect();
    assert!(
        images.contains(&format!("/courses/{DEMO}/static/thumbnail_demox.jpeg")),
        "the course image is shown: {images:?}"
    );
    for src in images {
        let r = visitor.get(&src).await;
        assert_eq!(r.status(), StatusCode::OK, "{src}");
        let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ctype.starts_with("image/"), "{src}: {ctype}");
    }
}
