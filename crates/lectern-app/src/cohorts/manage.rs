//! The course team's cohort use cases: the switch, the list, creating and
//! renaming cohorts, adding learners by username or e-mail (moving them
//! from another cohort), removing them, and the member list. Who may: the
//! course team and site admins (`instructor_course`); anyone else gets the
//! same "not found" as for a course that does not exist.

use std::collections::{BTreeMap, HashSet};

use lectern_content::CourseKey;

use super::{
    AssignmentType, Cohort, CohortMember, CreateOutcome, Placement, UpdateOutcome, MAX_COHORTS,
    MAX_IDENTIFIERS, MAX_IDENTIFIER_CHARS, MAX_NAME_CHARS, MAX_PAGE_SIZE,
};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// The cohort page's state of a course.
#[derive(Debug, Clone)]
pub struct CohortsOverview {
    pub course_name: String,
    pub enabled: bool,
    pub cohorts: Vec<Cohort>,
    /// Enrolled learners in no cohort.
    pub without_cohort: i64,
}

/// A learner moved between cohorts.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub username: String,
    pub email: String,
    pub previous_cohort: String,
}

/// What adding a list of learners did, in Open edX's groups (plus
/// `not_enrolled`: Lectern does not pre-assign people who have not
/// enrolled, so they are reported and nothing is stored).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddReport {
    /// (username, e-mail) of learners who had no cohort.
    pub added: Vec<(String, String)>,
    pub changed: Vec<Moved>,
    /// Already in this cohort (as typed).
    pub present: Vec<String>,
    /// No such user (as typed).
    pub unknown: Vec<String>,
    /// Holds `@` but is not an e-mail address (as typed).
    pub invalid: Vec<String>,
    /// A user who is not actively enrolled (as typed).
    pub not_enrolled: Vec<String>,
}

/// Splits a list of usernames and e-mails on commas and white space, as
/// Open edX does; empty entries are dropped and repeats kept once.
/// Refused past [`MAX_IDENTIFIERS`] entries or an entry over
/// [`MAX_IDENTIFIER_CHARS`].
pub fn split_identifiers(input: &str, field: &str) -> AppResult<Vec<String>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for id in input
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        if id.chars().count() > MAX_IDENTIFIER_CHARS {
            return Err(AppError::field(
                field,
                format!("An entry is longer than {MAX_IDENTIFIER_CHARS} characters."),
            ));
        }
        if seen.insert(id.to_lowercase()) {
            out.push(id.to_string());
        }
        if out.len() > MAX_IDENTIFIERS {
            return Err(AppError::field(
                field,
                format!("Name at most {MAX_IDENTIFIERS} learners at a time."),
            ));
        }
    }
    Ok(out)
}

/// Whether `s`, which holds an `@`, is shaped like an e-mail address.
pub(crate) fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// A checked cohort name.
fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::field("name", "The cohort name is required."));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::field(
            "name",
            format!("The cohort name is longer than {MAX_NAME_CHARS} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::field(
            "name",
            "The cohort name must be one line of text.",
        ));
    }
    Ok(name.to_string())
}

fn check_assignment(s: &str) -> AppResult<AssignmentType> {
    AssignmentType::parse(s.trim()).ok_or_else(|| {
        AppError::field(
            "assignment_type",
            format!("The assignment type must be manual or random, not {s:?}."),
        )
    })
}

impl Lectern {
    /// Whether `key` uses cohorts: the course team's switch once set, else
    /// the published course's `cohort_config.cohorted`.
    pub async fn cohorts_enabled(&self, key: &CourseKey) -> AppResult<bool> {
        if let Some(on) = self.store.stored_cohorted(&key.to_string()).await? {
            return Ok(on);
        }
        let course = match self.published_course(key).await {
            Ok(c) => c,
            // Not published (yet): nothing to read a policy from.
            Err(AppError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        Ok(policy_cohorted(
            course.tree.root().and_then(|r| r.field("cohort_config")),
        ))
    }

    /// The cohort page's state (the course team and admins).
    pub async fn course_cohorts(&self, user: &User, key: &CourseKey) -> AppResult<CohortsOverview> {
        let course = self.instructor_course(user, key).await?;
        let course_key = key.to_string();
        Ok(CohortsOverview {
            course_name: course.display_name,
            enabled: self.cohorts_enabled(key).await?,
            cohorts: self.store.cohorts_of(&course_key).await?,
            without_cohort: self.store.learners_without_cohort(&course_key).await?,
        })
    }

    /// A course's cohorts (the course team and admins).
    pub async fn list_cohorts(&self, user: &User, key: &CourseKey) -> AppResult<Vec<Cohort>> {
        self.instructor_course(user, key).await?;
        Ok(self.store.cohorts_of(&key.to_string()).await?)
    }

    /// Turns cohorts on or off for a course; memberships are kept either way.
    pub async fn set_cohorts_enabled(
        &self,
        user: &User,
        key: &CourseKey,
        enabled: bool,
    ) -> AppResult<()> {
        self.instructor_course(user, key).await?;
        self.store
            .set_cohorted(&key.to_string(), enabled, self.now())
            .await?;
        tracing::info!(course = %key, by = %user.username, enabled, "cohorts switched");
        Ok(())
    }

    /// One cohort of the course; "not found" for another course's.
    pub async fn get_cohort(&self, user: &User, key: &CourseKey, id: i64) -> AppResult<Cohort> {
        self.instructor_course(user, key).await?;
        self.store
            .cohort(&key.to_string(), id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("cohort {id}")))
    }

    /// Creates a cohort; the name must be new in the course.
    pub async fn create_cohort(
        &self,
        user: &User,
        key: &CourseKey,
        name: &str,
        assignment_type: &str,
    ) -> AppResult<Cohort> {
        self.instructor_course(user, key).await?;
        let name = check_name(name)?;
        let assignment = check_assignment(assignment_type)?;
        let outcome = self
            .store
            .create_cohort(&key.to_string(), &name, assignment, MAX_COHORTS, self.now())
            .await?;
        match outcome {
            CreateOutcome::Created(c) => {
                tracing::info!(course = %key, by = %user.username, cohort = c.id, "cohort created");
                Ok(c)
            }
            CreateOutcome::NameTaken => Err(name_taken()),
            CreateOutcome::TooMany => Err(AppError::field(
                "name",
                format!("A course can have at most {MAX_COHORTS} cohorts."),
            )),
        }
    }

    /// Renames a cohort and/or changes its assignment type (at least one).
    pub async fn update_cohort(
        &self,
        user: &User,
        key: &CourseKey,
        id: i64,
        name: Option<&str>,
        assignment_type: Option<&str>,
    ) -> AppResult<Cohort> {
        self.instructor_course(user, key).await?;
        let name = name.map(check_name).transpose()?;
        let assignment = assignment_type.map(check_assignment).transpose()?;
        if name.is_none() && assignment.is_none() {
            return Err(AppError::invalid("Send a new name and/or assignment type."));
        }
        let outcome = self
            .store
            .update_cohort(&key.to_string(), id, name.as_deref(), assignment)
            .await?;
        match outcome {
            UpdateOutcome::Updated(c) => Ok(c),
            UpdateOutcome::NotFound => Err(AppError::not_found(format!("cohort {id}"))),
            UpdateOutcome::NameTaken => Err(name_taken()),
            UpdateOutcome::LastRandom => Err(AppError::field(
                "assignment_type",
                "There must be one cohort to which learners can automatically be assigned.",
            )),
        }
    }

    /// Adds learners named by username or e-mail to a cohort, moving those
    /// in another cohort; unknown, invalid and not-enrolled entries are
    /// reported and change nothing.
    pub async fn add_to_cohort(
        &self,
        user: &User,
        key: &CourseKey,
        id: i64,
        identifiers: &[String],
    ) -> AppResult<AddReport> {
        let cohort = self.get_cohort(user, key, id).await?;
        if identifiers.len() > MAX_IDENTIFIERS {
            return Err(AppError::field(
                "users",
                format!("Name at most {MAX_IDENTIFIERS} learners at a time."),
            ));
        }
        let mut report = AddReport::default();
        let mut valid = Vec::with_capacity(identifiers.len());
        for entry in identifiers {
            if entry.chars().count() > MAX_IDENTIFIER_CHARS
                || (entry.contains('@') && !looks_like_email(entry))
            {
                report.invalid.push(entry.clone());
            } else {
                valid.push(entry.clone());
            }
        }
        let placements = self
            .store
            .place_in_cohort(&cohort.course_key, cohort.id, &valid, self.now())
            .await?;
        for (typed, placement) in valid.into_iter().zip(placements) {
            match placement {
                Placement::Unknown => report.unknown.push(typed),
                Placement::NotEnrolled => report.not_enrolled.push(typed),
                Placement::Present => report.present.push(typed),
                Placement::Added { username, email } => report.added.push((username, email)),
                Placement::Moved {
                    username,
                    email,
                    from,
                } => report.changed.push(Moved {
                    username,
                    email,
                    previous_cohort: from,
                }),
            }
        }
        tracing::info!(
            course = %key, by = %user.username, cohort = cohort.id,
            added = report.added.len(), moved = report.changed.len(),
            "learners added to a cohort"
        );
        Ok(report)
    }

    /// Takes a learner (by username) out of a cohort.
    pub async fn remove_from_cohort(
        &self,
        user: &User,
        key: &CourseKey,
        id: i64,
        username: &str,
    ) -> AppResult<()> {
        let cohort = self.get_cohort(user, key, id).await?;
        let member = self
            .store
            .user_by_username(username.trim())
            .await?
            .ok_or_else(|| AppError::not_found(format!("user {username}")))?;
        if !self
            .store
            .remove_from_cohort(&cohort.course_key, cohort.id, member.id)
            .await?
        {
            return Err(AppError::field(
                "username",
                format!("{} is not in the cohort {}.", member.username, cohort.name),
            ));
        }
        tracing::info!(course = %key, by = %user.username, cohort = cohort.id, learner = %member.username, "learner removed from a cohort");
        Ok(())
    }

    /// Page `page` (from 1) of a cohort's members, `page_size` a page (at
    /// most [`MAX_PAGE_SIZE`]), with the total.
    pub async fn cohort_members(
        &self,
        user: &User,
        key: &CourseKey,
        id: i64,
        page: i64,
        page_size: i64,
    ) -> AppResult<(Vec<CohortMember>, i64)> {
        let cohort = self.get_cohort(user, key, id).await?;
        let size = page_size.clamp(1, MAX_PAGE_SIZE);
        let offset = page.max(1).saturating_sub(1).saturating_mul(size);
        Ok(self
            .store
            .cohort_members(&cohort.course_key, cohort.id, offset, size)
            .await?)
    }

    /// The course's cohorts by id, for a bulk e-mail's targets (no check
    /// of the caller: the e-mail use cases check it).
    pub(crate) async fn cohort_names(&self, course_key: &str) -> AppResult<BTreeMap<i64, String>> {
        Ok(self
            .store
            .cohorts_of(course_key)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect())
    }
}

fn name_taken() -> AppError {
    AppError::field("name", "A cohort with the same name already exists.")
}

/// `cohort_config.cohorted` from the policy value's text (`{"cohorted": true}`).
pub(crate) fn policy_cohorted(config: Option<&str>) -> bool {
    config
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .and_then(|v| v.get("cohorted").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_lists_split_like_open_edx() {
        let ids = split_identifiers("ann, bo@example.org\n\ncy,,ANN\tdee", "users")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ids, ["ann", "bo@example.org", "cy", "dee"]);
        let many = vec!["x"; MAX_IDENTIFIERS + 1]
            .iter()
            .enumerate()
            .map(|(i, _)| format!("u{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(split_identifiers(&many, "users").is_err());
        assert!(split_identifiers(&"a".repeat(300), "users").is_err());
    }

    #[test]
    fn email_shapes_and_policy() {
        assert!(looks_like_email("a@b.org"));
        for bad in ["a@", "@b.org", "a@b", "a@@b.org", "a@b.org."] {
            assert!(!looks_like_email(bad), "{bad}");
        }
        assert!(policy_cohorted(Some(r#"{"cohorted": true}"#)));
        assert!(!policy_cohorted(Some(r#"{"cohorted": false}"#)));
        assert!(!policy_cohorted(Some("not json")));
        assert!(!policy_cohorted(None));
    }
}
