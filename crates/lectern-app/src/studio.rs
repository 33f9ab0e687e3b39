//! Studio: authoring a course's draft and publishing it.
//!
//! Every edit is a read-modify-write of the whole draft guarded by its
//! revision, so two authors editing at once never silently overwrite each
//! other: the loser retries on the fresh draft (edits here are small,
//! independent operations, so replaying one is always correct).

use lectern_content::tree::{level_of, Level};
use lectern_content::{Block, BlockRef, CourseKey, CourseTree};

use crate::error::{AppError, AppResult, StoreError};
use crate::idempotency::{from_answer, to_answer, IdempotencyKey, Keyed, Start};
use crate::learning::course_dates;
use crate::model::{CourseRecord, CourseRole, User};
use crate::Lectern;

/// Leaf block types an author can add from Studio.
pub const AUTHORABLE_LEAVES: &[&str] = &["html", "problem", "video", "discussion"];

/// What an author may change on a block in one save.
#[derive(Debug, Clone, Default)]
pub struct BlockEdit {
    pub display_name: Option<String>,
    /// New content: HTML for html blocks, problem XML for problems.
    pub body: Option<String>,
    /// Settings to set (empty value removes the setting).
    pub fields: Vec<(String, String)>,
}

/// Settings an author may set from Studio forms.
pub const EDITABLE_FIELDS: &[&str] = &[
    "start",
    "end",
    "due",
    "graded",
    "format",
    "visible_to_staff_only",
    "max_attempts",
    "showanswer",
    "weight",
    "rerandomize",
    "youtube_id_1_0",
    "html5_sources",
    "transcript_url",
    "discussion_category",
    "discussion_target",
];

const EDIT_RETRIES: usize = 5;

/// The operation name in a publish's fingerprint.
const PUBLISH_OPERATION: &str = "publish";

impl Lectern {
    /// Whether `user` is on the course's team (or a site admin).
    pub async fn is_course_author(&self, user: &User, key: &CourseKey) -> AppResult<bool> {
        if user.is_admin {
            return Ok(true);
        }
        self.has_course_role(user.id, key).await
    }

    async fn require_author(&self, user: &User, key: &CourseKey) -> AppResult<CourseRecord> {
        let record = self.store.course(key).await?;
        // The same answer for "no such course" and "not yours", so course keys don't leak.
        match record {
            Some(r) if self.is_course_author(user, key).await? => Ok(r),
            _ => Err(AppError::not_found(format!("course {key}"))),
        }
    }

    /// Whether `user` may open Studio at all.
    /// The answer is cached with the session (`sessions.rs`), since every
    /// page's header asks it.
    pub async fn may_use_studio(&self, user: &User) -> AppResult<bool> {
        if user.is_admin || user.is_course_creator {
            return Ok(true);
        }
        if let Some(may) = self.sessions.studio(user.id) {
            return Ok(may);
        }
        let seen = self.sessions.generation();
        let may = !self
            .guarded(self.store.courses_with_role(user.id))
            .await?
            .is_empty();
        self.sessions.put_studio(seen, user.id, may);
        Ok(may)
    }

    /// The courses `user` can author: all for admins.
    pub async fn studio_courses(&self, user: &User) -> AppResult<Vec<CourseRecord>> {
        if !self.may_use_studio(user).await? {
            return Err(AppError::Forbidden("Studio is for course authors.".into()));
        }
        let all = self.store.list_courses().await?;
        if user.is_admin {
            return Ok(all);
        }
        let mine: Vec<CourseKey> = self
            .store
            .courses_with_role(user.id)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        Ok(all.into_iter().filter(|c| mine.contains(&c.key)).collect())
    }

    pub async fn create_course(
        &self,
        user: &User,
        org: &str,
        number: &str,
        run: &str,
        name: &str,
    ) -> AppResult<CourseRecord> {
        if !(user.is_admin || user.is_course_creator) {
            return Err(AppError::Forbidden(
                "Only course creators can create courses.".into(),
            ));
        }
        let key = CourseKey::new(org.trim(), number.trim(), run.trim())?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(AppError::field(
                "display_name",
                "A course needs a name of 1 to 255 characters.",
            ));
        }
        let tree = CourseTree::new(key, name);
        let permit = self.admit_new_course().await?;
        let record = self
            .store
            .create_course(&tree, course_dates(&tree), Some(user.id), self.now())
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => AppError::field(
                    "course_key",
                    "A course with this organization, number and run already exists.",
                ),
                other => other.into(),
            })?;
        drop(permit);
        tracing::info!(course = %record.key, by = %user.username, "course created");
        Ok(record)
    }

    /// The draft, for Studio.
    pub async fn draft(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<(CourseRecord, CourseTree)> {
        let record = self.require_author(user, key).await?;
        let (tree, _) = self
            .store
            .draft(key)
            .await?
            .ok_or_else(|| AppError::not_found(format!("course {key}")))?;
        Ok((record, tree))
    }

    /// Applies `edit` to the draft, retrying on concurrent changes.
    pub(crate) async fn edit_draft<T>(
        &self,
        user: &User,
        key: &CourseKey,
        edit: impl FnMut(&mut CourseTree) -> AppResult<T>,
    ) -> AppResult<T> {
        self.edit_draft_keyed(user, key, None, edit)
            .await?
            .map_err(AppError::from)
    }

    /// [`Self::edit_draft`], with the draft saved under a key when `keyed`
    /// (see [`crate::idempotency`]): the caller answers a clash.
    pub(crate) async fn edit_draft_keyed<T>(
        &self,
        user: &User,
        key: &CourseKey,
        keyed: Option<Keyed<'_, i64>>,
        mut edit: impl FnMut(&mut CourseTree) -> AppResult<T>,
    ) -> AppResult<Result<T, StoreError>> {
        self.require_author(user, key).await?;
        for _ in 0..EDIT_RETRIES {
            let (mut tree, revision) = self
                .store
                .draft(key)
                .await?
                .ok_or_else(|| AppError::not_found(format!("course {key}")))?;
            let out = edit(&mut tree)?;
            let (dates, now) = (course_dates(&tree), self.now());
            let saved = match keyed {
                Some(keyed) => {
                    self.store
                        .save_draft_keyed(&tree, dates, revision, now, keyed)
                        .await
                }
                None => self.store.save_draft(&tree, dates, revision, now).await,
            };
            match saved {
                Ok(_) => return Ok(Ok(out)),
                Err(StoreError::StaleRevision) => continue,
                Err(e) if keyed.is_some() && crate::idempotency::is_key_clash(&e) => {
                    return Ok(Err(e))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::StaleRevision.into())
    }

    /// Adds a block under `parent`; returns its reference.
    pub async fn add_block(
        &self,
        user: &User,
        key: &CourseKey,
        parent: &BlockRef,
        block_type: &str,
        display_name: &str,
    ) -> AppResult<BlockRef> {
        if level_of(block_type) == Level::Leaf && !AUTHORABLE_LEAVES.contains(&block_type) {
            return Err(AppError::field(
                "type",
                format!("Studio cannot add a {block_type} block."),
            ));
        }
        if level_of(block_type) == Level::Course {
            return Err(AppError::field(
                "type",
                "A course cannot contain another course.",
            ));
        }
        let name = display_name.trim().to_string();
        if name.chars().count() > 255 {
            return Err(AppError::field(
                "display_name",
                "Names are at most 255 characters.",
            ));
        }
        self.edit_draft(user, key, |tree| {
            let id = tree.fresh_id(block_type, &new_block_hint(block_type));
            let mut block = Block::new(block_type, &id);
            block.display_name = if name.is_empty() {
                None
            } else {
                Some(name.clone())
            };
            block.body = match block_type {
                "html" => Some(String::new()),
                "problem" => {
                    Some("<problem>\n  <p>Write the question here.</p>\n</problem>".to_string())
                }
                _ => None,
            };
            let r = block.block_ref();
            tree.insert_child(parent, block, None)?;
            Ok(r)
        })
        .await
    }

    pub async fn update_block(
        &self,
        user: &User,
        key: &CourseKey,
        r: &BlockRef,
        edit: &BlockEdit,
    ) -> AppResult<()> {
        if let Some(name) = &edit.display_name {
            if name.chars().count() > 255 {
                return Err(AppError::field(
                    "display_name",
                    "Names are at most 255 characters.",
                ));
            }
        }
        for (name, value) in &edit.fields {
            if !EDITABLE_FIELDS.contains(&name.as_str()) {
                return Err(AppError::field(name, format!("{name} cannot be set here.")));
            }
            check_setting(name, value.trim()).map_err(|m| AppError::field(name, m))?;
        }
        if let Some(body) = &edit.body {
            if body.len() > 1_000_000 {
                return Err(AppError::field("body", "The content is larger than 1 MB."));
            }
            if r.block_type == "problem" {
                check_problem_xml(body).map_err(|m| AppError::field("body", m))?;
            }
        }
        self.edit_draft(user, key, |tree| {
            let block = tree
                .blocks
                .get_mut(r)
                .ok_or_else(|| AppError::not_found(format!("block {r}")))?;
            if let Some(name) = &edit.display_name {
                let name = name.trim();
                block.display_name = if name.is_empty() {
                    None
                } else {
                    Some(name.to_string())
                };
            }
            if let Some(body) = &edit.body {
                block.body = Some(body.clone());
                if let Some(why) = crate::content_limits::problem_over_limit(block) {
                    return Err(AppError::field("body", why));
                }
            }
            for (name, value) in &edit.fields {
                if value.trim().is_empty() {
                    block.fields.remove(name);
                } else {
                    block.fields.insert(name.clone(), value.trim().to_string());
                }
            }
            Ok(())
        })
        .await
    }

    pub async fn move_block(
        &self,
        user: &User,
        key: &CourseKey,
        r: &BlockRef,
        delta: i64,
    ) -> AppResult<()> {
        self.edit_draft(user, key, |tree| Ok(tree.move_among_siblings(r, delta)?))
            .await
    }

    pub async fn delete_block(&self, user: &User, key: &CourseKey, r: &BlockRef) -> AppResult<()> {
        self.edit_draft(user, key, |tree| Ok(tree.remove_subtree(r)?))
            .await
    }

    /// Makes the current draft the newest published version; returns its number.
    pub async fn publish(&self, user: &User, key: &CourseKey) -> AppResult<i64> {
        self.publish_keyed(user, key, None).await
    }

    /// [`Self::publish`] under an `Idempotency-Key`: a retry with the same
    /// key makes no new version and answers with the one the first made.
    pub async fn publish_keyed(
        &self,
        user: &User,
        key: &CourseKey,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<i64> {
        self.require_author(user, key).await?;
        let course = key.to_string();
        let claim = match self
            .start_keyed(user.id, idem, PUBLISH_OPERATION, &[&course])
            .await?
        {
            Start::Replayed(answer) => return from_answer(answer),
            Start::Fresh(claim) => claim,
        };
        for _ in 0..EDIT_RETRIES {
            let (_, revision) = self
                .store
                .draft(key)
                .await?
                .ok_or_else(|| AppError::not_found(format!("course {key}")))?;
            let now = self.now();
            let published = match &claim {
                Some(claim) => {
                    let answer = to_answer::<i64>;
                    let keyed = Keyed {
                        claim,
                        answer: &answer,
                    };
                    self.store.publish_keyed(key, revision, now, keyed).await
                }
                None => self.store.publish(key, revision, now).await,
            };
            match published {
                Ok(version) => {
                    tracing::info!(course = %key, version, by = %user.username, "published");
                    // Grades follow the new version (learners' answers are
                    // untouched) through a durable job, enqueued right after
                    // the publish commits; if this node dies in between, the
                    // scheduler's recovery scan enqueues it.
                    self.enqueue_regrade(key, version).await;
                    return Ok(version);
                }
                Err(StoreError::StaleRevision) => continue,
                Err(e) => return self.on_clash(claim.as_ref(), e).await,
            }
        }
        Err(StoreError::StaleRevision.into())
    }

    /// Adds someone to the course team (course instructors and admins only).
    pub async fn add_team_member(
        &self,
        user: &User,
        key: &CourseKey,
        username: &str,
        role: CourseRole,
    ) -> AppResult<()> {
        self.require_author(user, key).await?;
        let is_instructor = user.is_admin
            || self.store.course_role(key, user.id).await? == Some(CourseRole::Instructor);
        if !is_instructor {
            return Err(AppError::Forbidden(
                "Only the course's instructors can change its team.".into(),
            ));
        }
        let member = self.user_by_username(username).await?;
        self.store.grant_course_role(key, member.id, role).await?;
        self.forget_cached_user(member.id);
        Ok(())
    }

    pub async fn course_team(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<Vec<(User, CourseRole)>> {
        self.require_author(user, key).await?;
        Ok(self.store.course_team(key).await?)
    }
}

fn new_block_hint(block_type: &str) -> String {
    // Short random ids, like Studio's hex ids, so names never collide across imports.
    let n: u32 = rand::random();
    format!("{block_type}_{n:08x}")
}

/// Refuses a setting value learners' pages could not use, so a typo is
/// caught in Studio rather than silently ignored.
fn check_setting(name: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match name {
        "start" | "end" | "due" => crate::learning::parse_date(value)
            .map(|_| ())
            .ok_or_else(|| format!("{name} must be a date such as 2026-09-01T00:00:00Z.")),
        "graded" | "visible_to_staff_only" => match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("{name} is true or false.")),
        },
        "max_attempts" | "showanswer" | "weight" | "rerandomize" => {
            let fields = std::collections::BTreeMap::from([(name.to_string(), value.to_string())]);
            lectern_content::problem::settings::ProblemSettings::from_fields(&fields)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        "html5_sources" => serde_json::from_str::<Vec<String>>(value)
            .map(|_| ())
            .map_err(|_| {
                "html5_sources is a JSON list of URLs, e.g. [\"https://example.org/v.mp4\"]."
                    .to_string()
            }),
        _ => Ok(()),
    }
}

/// Checks that problem XML is well-formed with a `<problem>` root before it
/// is saved, so a typo never reaches learners as a broken page.
fn check_problem_xml(xml: &str) -> Result<(), String> {
    // The parser recurses once per open element: bound the depth first.
    let depth = lectern_content::olx::nesting_depth(xml);
    let max = lectern_content::limits::MAX_PROBLEM_XML_DEPTH;
    if depth > max {
        return Err(format!(
            "The problem XML nests elements {depth} deep; Lectern allows at most {max}."
        ));
    }
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("The problem XML is not well-formed: {e}"))?;
    if doc.root_element().tag_name().name() != "problem" {
        return Err("A problem's XML must have <problem> as its root element.".into());
    }
    Ok(())
}

impl Lectern {
    /// Replaces the draft's grading policy (`grading_policy.json` text);
    /// learners' grades follow at the next publish.
    pub async fn set_grading_policy(
        &self,
        user: &User,
        key: &CourseKey,
        json: &str,
    ) -> AppResult<()> {
        if json.len() > 100_000 {
            return Err(AppError::field(
                "grading_policy",
                "The grading policy is larger than 100 kB.",
            ));
        }
        let policy = lectern_content::grader::GradingPolicy::from_json(json).map_err(|e| {
            AppError::field(
                "grading_policy",
                format!("The grading policy was refused: {e}"),
            )
        })?;
        self.edit_draft(user, key, |tree| {
            tree.grading_policy = policy.clone();
            Ok(())
        })
        .await
    }
}
