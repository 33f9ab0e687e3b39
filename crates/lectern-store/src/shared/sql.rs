//! SQL text both backends run as it is (`$N` placeholders), and the binders
//! for the statements with many parameters, generic over the driver so that
//! each list of values is written once.

use std::borrow::Cow;
use std::sync::OnceLock;

use lectern_app::model::{
    GradeRecord, ProblemState, StoredSubsections, Submission, SubsectionGradeRecord,
};
use lectern_app::profile::Profile;
use sqlx::{Database, Encode, Type};

use crate::time::to_millis;

/// A statement with its values bound, for either driver.
pub(crate) type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// Insert the first state or replace the one read at `$15`; a stale
/// writer's upsert matches its `WHERE` nowhere and changes nothing (on
/// PostgreSQL the conflicting row is locked and the `WHERE` re-checked on
/// its newest version, so concurrent writers from one revision cannot both win).
pub(crate) const UPSERT_STATE: &str = "INSERT INTO problem_states (user_id, course_key, usage_key, revision, attempts, reset_count, \
     answers, correct_map, raw_earned, raw_possible, earned, possible, is_correct, ever_attempted, updated_at) \
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
     ON CONFLICT (user_id, usage_key) DO UPDATE SET revision = problem_states.revision + 1, attempts = $4, \
     reset_count = $5, answers = $6, correct_map = $7, raw_earned = $8, raw_possible = $9, earned = $10, \
     possible = $11, is_correct = $12, ever_attempted = $13, updated_at = $14 WHERE problem_states.revision = $15";

/// One value of a statement, so a statement's list of values is written
/// once and bound by either driver: sqlx ([`bind_params`]) or rusqlite
/// (SQLite's group-commit writer, `sqlite/state_writer.rs`).
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    MaybeText(Option<String>),
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Param::Int(v) => v.to_sql(),
            Param::Real(v) => v.to_sql(),
            Param::Bool(v) => v.to_sql(),
            Param::Text(v) => v.to_sql(),
            Param::MaybeText(v) => v.to_sql(),
        }
    }
}

/// `query` with `params` bound in order (`$1`, `$2`, …).
pub(crate) fn bind_params<'q, DB>(mut query: Query<'q, DB>, params: Vec<Param>) -> Query<'q, DB>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
{
    for p in params {
        query = match p {
            Param::Int(v) => query.bind(v),
            Param::Real(v) => query.bind(v),
            Param::Bool(v) => query.bind(v),
            Param::Text(v) => query.bind(v),
            Param::MaybeText(v) => query.bind(v),
        };
    }
    query
}

/// A JSON value's text. `serde_json::to_string` starts from a 128-byte
/// buffer where `Display` grows an empty string piece by piece; a `Value`
/// (string keys only) always serializes, so the fallback never runs.
fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// [`UPSERT_STATE`]'s values.
pub(crate) fn state_params(s: &ProblemState) -> Vec<Param> {
    vec![
        Param::Int(s.user_id),
        Param::Text(s.course_key.to_text()),
        Param::Text(s.usage_key.to_text()),
        Param::Int(i64::from(s.attempts)),
        Param::Int(i64::from(s.reset_count)),
        Param::Text(json_text(&s.answers)),
        Param::Text(json_text(&s.correct_map)),
        Param::Real(s.raw_earned),
        Param::Real(s.raw_possible),
        Param::Real(s.earned),
        Param::Real(s.possible),
        Param::Bool(s.is_correct),
        Param::Bool(s.ever_attempted),
        Param::Int(to_millis(s.updated_at)),
        Param::Int(s.revision),
    ]
}

pub(crate) const INSERT_SUBMISSION: &str = "INSERT INTO submissions (user_id, course_key, usage_key, attempt, answers, correct_map, earned, possible, created_at, idempotency_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// [`INSERT_SUBMISSION`]'s values.
pub(crate) fn submission_params(sub: &Submission) -> Vec<Param> {
    vec![
        Param::Int(sub.user_id),
        Param::Text(sub.usage_key.course.to_text()),
        Param::Text(sub.usage_key.to_text()),
        Param::Int(i64::from(sub.attempt)),
        Param::Text(json_text(&sub.answers)),
        Param::Text(json_text(&sub.correct_map)),
        Param::Real(sub.earned),
        Param::Real(sub.possible),
        Param::Int(to_millis(sub.created_at)),
        Param::MaybeText(sub.idempotency_key.clone()),
    ]
}

/// One statement for "insert the first grade" and "replace the grade read
/// at this revision": the upsert's `WHERE` makes a stale writer change nothing.
pub(crate) const UPSERT_GRADE: &str = "INSERT INTO course_grades (user_id, course_key, revision, course_version, percent, letter_grade, passed, detail, updated_at, subsections_digest) \
     VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (user_id, course_key) DO UPDATE SET revision = course_grades.revision + 1, course_version = $3, \
     percent = $4, letter_grade = $5, passed = $6, detail = $7, updated_at = $8, subsections_digest = $9 \
     WHERE course_grades.revision = $10 AND course_grades.course_version <= $3";

/// [`UPSERT_GRADE`]'s values.
pub(crate) fn grade_params(g: &GradeRecord) -> Vec<Param> {
    vec![
        Param::Int(g.user_id),
        Param::Text(g.course_key.to_text()),
        Param::Int(g.course_version),
        Param::Real(g.percent),
        Param::MaybeText(g.letter_grade.clone()),
        Param::Bool(g.passed),
        Param::Text(g.detail.as_str().to_string()),
        Param::Int(to_millis(g.updated_at)),
        Param::Int(g.written_subsections_digest()),
        Param::Int(g.revision),
    ]
}

/// [`upsert_subsection_grades`]'s values for `chunk` of `g`'s subsections.
fn subsection_params<'a>(
    g: &GradeRecord,
    chunk: impl IntoIterator<Item = &'a SubsectionGradeRecord, IntoIter: ExactSizeIterator>,
) -> Vec<Param> {
    let chunk = chunk.into_iter();
    let mut params = Vec::with_capacity(4 + 4 * chunk.len());
    params.push(Param::Int(g.user_id));
    params.push(Param::Text(g.course_key.to_text()));
    params.push(Param::Int(to_millis(g.updated_at)));
    params.push(Param::Int(g.course_version));
    for s in chunk {
        params.push(Param::Text(s.block_id.clone()));
        params.push(Param::Real(s.earned));
        params.push(Param::Real(s.possible));
        params.push(Param::Bool(s.graded));
    }
    params
}

/// Deletes a learner's subsection rows in a course (`$1`, `$2`) written for
/// another course version than `$3`: once the grade's rows are upserted,
/// those of subsections the course no longer has.
pub(crate) const PRUNE_SUBSECTION_GRADES: &str =
    "DELETE FROM subsection_grades WHERE user_id = $1 AND course_key = $2 AND course_version <> $3";
/// The most subsection rows one statement carries (4 values each plus 4
/// shared: far under SQLite's 32,766 and PostgreSQL's 65,535 parameters).
pub(crate) const SUBSECTION_ROWS_PER_INSERT: usize = 500;

/// The statements that make a learner's stored subsection grades in a
/// course those of `g`, in order, each with its values.
///
/// A check changes one problem, so nearly every subsection's figures are
/// what is stored already. Deleting and inserting them all each time cost a
/// check about twice as many changed rows as the course has subsections
/// (each a new row at the table's end, all written to the log and copied at
/// the next checkpoint). Instead the rows are upserted so that an unchanged
/// row (same figures, same course version) is not written at all, and then
/// the rows of another course version, subsections the grade no longer has,
/// are deleted (migration 0021). A row's `updated_at` says when it was last
/// written (nothing reads it).
///
/// When the grade knows which rows differ from those stored
/// ([`StoredSubsections::DifferAt`]), only those are upserted and nothing
/// is deleted (the stored rows are then all of this version): an answer
/// check usually writes one row, or none.
pub(crate) fn subsection_grade_statements(g: &GradeRecord) -> Vec<(Cow<'static, str>, Vec<Param>)> {
    let (rows, prune): (Vec<&SubsectionGradeRecord>, bool) = match &g.stored_subsections {
        StoredSubsections::DifferAt(positions) => (
            positions
                .iter()
                .filter_map(|&i| g.subsections.get(i))
                .collect(),
            false,
        ),
        StoredSubsections::Unknown => (g.subsections.iter().collect(), true),
    };
    let mut out = Vec::with_capacity(rows.len().div_ceil(SUBSECTION_ROWS_PER_INSERT) + 1);
    for chunk in rows.chunks(SUBSECTION_ROWS_PER_INSERT) {
        out.push((
            upsert_subsection_grades(chunk.len()),
            subsection_params(g, chunk.iter().copied()),
        ));
    }
    if prune {
        out.push((
            Cow::Borrowed(PRUNE_SUBSECTION_GRADES),
            vec![
                Param::Int(g.user_id),
                Param::Text(g.course_key.to_text()),
                Param::Int(g.course_version),
            ],
        ));
    }
    out
}

/// Upserts of up to this many rows are written once and kept (about 80 KiB
/// for all of them); longer ones, rare, are written per use.
const KEPT_UPSERT_ROWS: usize = 64;

/// `INSERT` of `rows` subsection grades of one learner in one course:
/// `$1` user, `$2` course, `$3` time, `$4` course version, then block,
/// earned, possible and graded of each row. A row already stored is updated
/// only if one of its figures or its course version differs.
fn upsert_subsection_grades(rows: usize) -> Cow<'static, str> {
    static KEPT: [OnceLock<String>; KEPT_UPSERT_ROWS + 1] =
        [const { OnceLock::new() }; KEPT_UPSERT_ROWS + 1];
    match KEPT.get(rows) {
        Some(kept) => Cow::Borrowed(kept.get_or_init(|| upsert_subsection_text(rows)).as_str()),
        None => Cow::Owned(upsert_subsection_text(rows)),
    }
}

fn upsert_subsection_text(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO subsection_grades (user_id, course_key, updated_at, course_version, block_id, earned, possible, graded) VALUES ",
    );
    for i in 0..rows {
        let n = 5 + 4 * i;
        if i > 0 {
            sql.push_str(", ");
        }
        // In order of first appearance: SQLite numbers `$N` that way.
        sql.push_str(&format!(
            "($1, $2, $3, $4, ${n}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3
        ));
    }
    sql.push_str(
        " ON CONFLICT (user_id, course_key, block_id) DO UPDATE SET \
         earned = excluded.earned, possible = excluded.possible, \
         graded = excluded.graded, updated_at = excluded.updated_at, \
         course_version = excluded.course_version \
         WHERE subsection_grades.earned <> excluded.earned \
         OR subsection_grades.possible <> excluded.possible \
         OR subsection_grades.graded <> excluded.graded \
         OR subsection_grades.course_version <> excluded.course_version",
    );
    sql
}

pub(crate) fn bind_profile<'q, DB>(
    id: i64,
    p: &'q Profile,
    langs: String,
    now: i64,
) -> Query<'q, DB>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO user_profiles (user_id, bio, country, state, language, level_of_education, gender, \
         goals, mailing_address, year_of_birth, language_proficiencies, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (user_id) DO UPDATE SET bio = excluded.bio, country = excluded.country, \
         state = excluded.state, language = excluded.language, \
         level_of_education = excluded.level_of_education, gender = excluded.gender, \
         goals = excluded.goals, mailing_address = excluded.mailing_address, \
         year_of_birth = excluded.year_of_birth, \
         language_proficiencies = excluded.language_proficiencies, updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(p.bio.clone())
    .bind(p.country.clone())
    .bind(p.state.clone())
    .bind(p.language.clone())
    .bind(p.level_of_education.clone())
    .bind(p.gender.clone())
    .bind(p.goals.clone())
    .bind(p.mailing_address.clone())
    .bind(p.year_of_birth.map(i64::from))
    .bind(langs)
    .bind(now)
}

/// A new course row at draft revision 1; nothing when the key exists (the
/// caller tells creation from import by the rows affected).
pub(crate) const INSERT_COURSE: &str = "INSERT INTO courses (course_key, display_name, created_at, draft_revision, draft_tree, draft_updated_at, start_at, end_at) \
     VALUES ($1, $2, $3, 1, $4, $3, $5, $6)";
pub(crate) const INSERT_COURSE_IF_NEW: &str = "INSERT INTO courses (course_key, display_name, created_at, draft_revision, draft_tree, draft_updated_at, start_at, end_at) \
     VALUES ($1, $2, $3, 1, $4, $3, $5, $6) ON CONFLICT (course_key) DO NOTHING";
/// Replaces the draft; with `AND draft_revision = $7` only if still at the revision read.
pub(crate) const UPDATE_DRAFT: &str = "UPDATE courses SET display_name = $2, draft_updated_at = $3, draft_tree = $4, start_at = $5, end_at = $6, \
     draft_revision = draft_revision + 1 WHERE course_key = $1";

/// Binds `$1..$6` of [`INSERT_COURSE`], [`INSERT_COURSE_IF_NEW`] and [`UPDATE_DRAFT`].
pub(crate) fn bind_course<'q, DB>(
    sql: &'q str,
    tree: &lectern_content::CourseTree,
    dates: lectern_app::store::CourseDates,
    json: String,
    now: i64,
) -> Query<'q, DB>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let start = dates.start.map(crate::time::to_millis);
    let end = dates.end.map(crate::time::to_millis);
    sqlx::query(sql)
        .bind(tree.key.to_string())
        .bind(tree.display_name().to_string())
        .bind(now)
        .bind(json)
        .bind(start)
        .bind(end)
}

/// A new published version; `$6` is its publish id, 128 random bits made
/// by the store, so no restore or re-created course can ever bring back an
/// id a node's cache has seen.
pub(crate) const INSERT_VERSION: &str = "INSERT INTO course_versions (course_key, version, draft_revision, tree, created_at, publish_id) VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const MARK_PUBLISHED: &str = "UPDATE courses SET published_version = $1, published_revision = $2, published_at = $3 WHERE course_key = $4";
/// Grants or changes a role.
pub(crate) const UPSERT_ROLE: &str =
    "INSERT INTO course_roles (course_key, user_id, role) VALUES ($1, $2, $3) \
     ON CONFLICT (course_key, user_id) DO UPDATE SET role = excluded.role";
/// Writes the role an import was handed unless the user holds one by now
/// (a role given between the app's look and the import is not overwritten).
pub(crate) const INSERT_ROLE_IF_NONE: &str =
    "INSERT INTO course_roles (course_key, user_id, role) VALUES ($1, $2, $3) \
     ON CONFLICT (course_key, user_id) DO NOTHING";

/// A blob's head row; nothing if those bytes are stored already (or being
/// stored by a concurrent transaction, which this one then waits for).
pub(crate) const INSERT_BLOB_HEAD: &str =
    "INSERT INTO blobs (sha256, size, data, created_at, chunk_size) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (sha256) DO NOTHING";
pub(crate) const INSERT_BLOB_CHUNK: &str =
    "INSERT INTO blob_chunks (sha256, seq, data) VALUES ($1, $2, $3)";

/// Users whose username, e-mail or name contains `$1` (a `LIKE` pattern
/// escaped with `\`), case-insensitively on both backends.
pub(crate) fn search_users_sql() -> String {
    format!(
        "SELECT {} FROM users WHERE lower(username) LIKE lower($1) ESCAPE '\\' \
         OR lower(email) LIKE lower($1) ESCAPE '\\' OR lower(name) LIKE lower($1) ESCAPE '\\' \
         ORDER BY id LIMIT $2 OFFSET $3",
        super::rows::USER_COLUMNS
    )
}

/// `%query%` with `\`, `%` and `_` matched literally.
pub(crate) fn contains_pattern(query: &str) -> String {
    format!(
        "%{}%",
        query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

pub(crate) const STATS: &str = "SELECT \
       (SELECT COUNT(*) FROM users) AS users, \
       (SELECT COUNT(*) FROM users WHERE is_active) AS active_users, \
       (SELECT COUNT(*) FROM users WHERE is_admin) AS admins, \
       (SELECT COUNT(*) FROM courses) AS courses, \
       (SELECT COUNT(*) FROM courses WHERE published_version IS NOT NULL) AS published_courses, \
       (SELECT COUNT(*) FROM enrollments WHERE is_active) AS enrollments, \
       (SELECT COUNT(*) FROM auth_tokens WHERE kind = 'session' AND expires_at > $1) AS active_sessions, \
       (SELECT COUNT(*) FROM blobs) AS blobs, \
       (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs) AS blob_bytes";

/// The staff enrolment list's query (see `lectern_app::roster`): filters,
/// keyset position and order built from the query; values bound in the
/// order they appear.
pub(crate) fn enrollment_page_sql(q: &lectern_app::roster::EnrollmentQuery) -> String {
    use lectern_app::roster::Direction;
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut sql = String::from(
        "SELECT e.user_id, e.course_key, e.mode, e.is_active, e.created_at, u.username \
         FROM enrollments e JOIN users u ON u.id = e.user_id WHERE 1 = 1",
    );
    if q.course.is_some() {
        sql.push_str(&format!(" AND e.course_key = {}", next()));
    }
    if !q.usernames.is_empty() {
        let marks: Vec<String> = q.usernames.iter().map(|_| next()).collect();
        sql.push_str(&format!(" AND lower(u.username) IN ({})", marks.join(", ")));
    }
    let (cmp, order) = match &q.from {
        Some((_, Direction::Older)) => ("<", "DESC"),
        Some((_, Direction::Newer)) => (">", "ASC"),
        None => ("", "DESC"),
    };
    if q.from.is_some() {
        let (a, b, c) = (next(), next(), next());
        sql.push_str(&format!(
            " AND (e.created_at, e.user_id, e.course_key) {cmp} ({a}, {b}, {c})"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY e.created_at {order}, e.user_id {order}, e.course_key {order} LIMIT {}",
        next()
    ));
    sql
}

pub(crate) fn bind_enrollment_page<'q, DB>(
    sql: &'q str,
    q: &'q lectern_app::roster::EnrollmentQuery,
) -> Query<'q, DB>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
{
    let mut query = sqlx::query(sql);
    if let Some(c) = &q.course {
        query = query.bind(c.to_string());
    }
    for u in &q.usernames {
        query = query.bind(u.clone());
    }
    if let Some((p, _)) = &q.from {
        query = query
            .bind(to_millis(p.created_at))
            .bind(p.user_id)
            .bind(p.course_key.clone());
    }
    query.bind(q.limit as i64)
}

/// Users actively enrolled in `$1`, by id.
pub(crate) const ENROLLED_USERS: &str = "SELECT u.id, u.username, u.email, u.name, u.is_admin, u.is_course_creator, u.is_active, u.created_at \
     FROM enrollments e JOIN users u ON u.id = e.user_id WHERE e.course_key = $1 AND e.is_active ORDER BY u.id";
