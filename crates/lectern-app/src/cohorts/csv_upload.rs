//! Assigning learners to cohorts from a CSV file, as Open edX's Cohorts tab
//! takes it: a header row with a `cohort` column and a `username` or
//! `email` column (or both; the e-mail is used when a row has one). Rows
//! naming a cohort that does not exist are counted against it and assign
//! nobody (cohorts are not created by an upload). The result is one line
//! per cohort named, in Open edX's columns (cohort name, exists, learners
//! added, not found, invalid e-mail addresses) plus the learners who are
//! not enrolled.
//!
//! Bounded: at most [`MAX_CSV_BYTES`] and [`MAX_CSV_ROWS`] rows, refused
//! whole before anything is stored; the file is processed while the page
//! waits, one transaction per cohort.

use lectern_content::CourseKey;

use super::manage::looks_like_email;
use super::{Placement, MAX_IDENTIFIER_CHARS};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// Largest CSV file accepted.
pub const MAX_CSV_BYTES: usize = 1024 * 1024;
/// Most data rows a CSV file may have.
pub const MAX_CSV_ROWS: usize = 5_000;
/// Most columns a CSV row may have.
const MAX_COLUMNS: usize = 50;

/// One data row: who, and which cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub identifier: String,
    pub cohort: String,
}

/// One cohort's line of the result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvCohortResult {
    pub cohort: String,
    pub exists: bool,
    /// Added or moved here.
    pub added: usize,
    pub not_found: Vec<String>,
    pub invalid: Vec<String>,
    pub not_enrolled: Vec<String>,
}

/// Splits CSV text (RFC 4180: commas, double quotes, `""` inside quotes,
/// CRLF or LF) into records.
fn records(text: &str) -> AppResult<Vec<Vec<String>>> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                any = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                any = true;
                if record.len() > MAX_COLUMNS {
                    return Err(csv_error(format!(
                        "A row has more than {MAX_COLUMNS} columns."
                    )));
                }
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if any || !field.is_empty() {
                    record.push(std::mem::take(&mut field));
                    out.push(std::mem::take(&mut record));
                    if out.len() > MAX_CSV_ROWS + 1 {
                        return Err(too_many_rows());
                    }
                }
                any = false;
            }
            _ => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(csv_error("A quoted field is not closed.".into()));
    }
    if any || !field.is_empty() {
        record.push(field);
        out.push(record);
    }
    Ok(out)
}

fn csv_error(message: String) -> AppError {
    AppError::field("file", message)
}

fn too_many_rows() -> AppError {
    csv_error(format!("The file has more than {MAX_CSV_ROWS} rows."))
}

/// Reads an uploaded file into rows, or says what is wrong with it.
pub fn parse_cohort_csv(bytes: &[u8]) -> AppResult<Vec<CsvRow>> {
    if bytes.len() > MAX_CSV_BYTES {
        return Err(csv_error(format!(
            "The file is larger than {} KiB.",
            MAX_CSV_BYTES / 1024
        )));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| csv_error("The file is not UTF-8 text.".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = records(text)?.into_iter();
    let header: Vec<String> = rows
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let Some(cohort_col) = col("cohort") else {
        return Err(csv_error(
            "The file must contain a 'cohort' column containing cohort names.".into(),
        ));
    };
    let (email_col, user_col) = (col("email"), col("username"));
    if email_col.is_none() && user_col.is_none() {
        return Err(csv_error(
            "The file must contain a 'username' column, an 'email' column, or both.".into(),
        ));
    }
    let cell = |row: &[String], i: Option<usize>| {
        i.and_then(|i| row.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let mut out = Vec::new();
    for row in rows {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let identifier = cell(&row, email_col)
            .or_else(|| cell(&row, user_col))
            .unwrap_or_default();
        out.push(CsvRow {
            identifier,
            cohort: cell(&row, Some(cohort_col)).unwrap_or_default(),
        });
        if out.len() > MAX_CSV_ROWS {
            return Err(too_many_rows());
        }
    }
    Ok(out)
}

impl Lectern {
    /// Assigns the learners of an uploaded CSV file to the cohorts it names;
    /// one result line per cohort, in the order they first appear.
    pub async fn upload_cohort_csv(
        &self,
        user: &User,
        key: &CourseKey,
        bytes: &[u8],
    ) -> AppResult<Vec<CsvCohortResult>> {
        self.instructor_course(user, key).await?;
        let rows = parse_cohort_csv(bytes)?;
        let course_key = key.to_string();
        let cohorts = self.store.cohorts_of(&course_key).await?;
        let mut results: Vec<(CsvCohortResult, Vec<String>)> = Vec::new();
        for row in rows {
            let at = match results.iter().position(|(r, _)| r.cohort == row.cohort) {
                Some(i) => i,
                None => {
                    let exists = cohorts.iter().any(|c| c.name == row.cohort);
                    results.push((
                        CsvCohortResult {
                            cohort: row.cohort.clone(),
                            exists,
                            ..CsvCohortResult::default()
                        },
                        Vec::new(),
                    ));
                    results.len() - 1
                }
            };
            let (result, valid) = &mut results[at];
            let id = row.identifier;
            if id.is_empty() || !result.exists {
                continue;
            }
            if id.chars().count() > MAX_IDENTIFIER_CHARS
                || (id.contains('@') && !looks_like_email(&id))
            {
                result.invalid.push(id);
            } else if !valid.iter().any(|v| v.eq_ignore_ascii_case(&id)) {
                valid.push(id);
            }
        }
        let mut out = Vec::with_capacity(results.len());
        for (mut result, valid) in results {
            if let Some(cohort) = cohorts.iter().find(|c| c.name == result.cohort) {
                let placements = self
                    .store
                    .place_in_cohort(&course_key, cohort.id, &valid, self.now())
                    .await?;
                for (typed, p) in valid.into_iter().zip(placements) {
                    match p {
                        Placement::Added { .. } | Placement::Moved { .. } => result.added += 1,
                        Placement::Present => {}
                        Placement::Unknown => result.not_found.push(typed),
                        Placement::NotEnrolled => result.not_enrolled.push(typed),
                    }
                }
            }
            out.push(result);
        }
        tracing::info!(course = %key, by = %user.username, cohorts = out.len(), "cohort CSV applied");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_take_the_email_first_and_quotes_work() {
        let rows = parse_cohort_csv(
            b"\xef\xbb\xbfusername,email,cohort\r\nann,,A\r\nbo,bo@example.org,\"B, the second\"\n\n,,\ncy,,\"say \"\"hi\"\"\"",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rows,
            [
                CsvRow {
                    identifier: "ann".into(),
                    cohort: "A".into()
                },
                CsvRow {
                    identifier: "bo@example.org".into(),
                    cohort: "B, the second".into()
                },
                CsvRow {
                    identifier: "cy".into(),
                    cohort: "say \"hi\"".into()
                },
            ]
        );
    }

    #[test]
    fn bad_files_are_refused_whole() {
        let msg = |b: &[u8]| match parse_cohort_csv(b) {
            Err(AppError::Invalid { message, .. }) => message,
            other => panic!("{other:?}"),
        };
        assert!(msg(b"username,group\nann,A").contains("'cohort' column"));
        assert!(msg(b"name,cohort\nann,A").contains("'username' column"));
        assert!(msg(b"username,cohort\n\"ann,A").contains("not closed"));
        assert!(msg(&[0xff, 0xfe]).contains("UTF-8"));
        let mut big = b"username,cohort\n".to_vec();
        for i in 0..=MAX_CSV_ROWS {
            big.extend_from_slice(format!("u{i},A\n").as_bytes());
        }
        assert!(msg(&big).contains("rows"));
        assert!(msg(&vec![b'a'; MAX_CSV_BYTES + 1]).contains("larger"));
    }
}
