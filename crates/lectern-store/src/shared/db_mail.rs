//! The mail outbox, bulk e-mail and course e-mail opt-outs (`MailStore`)
//! for `Db<DB>`, once for both backends.
//!
//! A claim is one `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`
//! whose `SELECT` carries `Backend::SKIP_LOCKED`, as the job claim does:
//! on PostgreSQL nodes claiming at once each lock different messages; on
//! SQLite the one writer runs it alone. Every later change to a claimed
//! message names its holder, so a node whose claim ran out and was taken
//! over cannot record the other node's send.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lectern_app::jobs::{bounded_error, NewJob};
use lectern_app::model::UserId;
use lectern_app::outbox::{
    BulkEmail, MailState, MailStore, NewMail, OutboxMessage, Recipient, RecipientQuery,
};
use lectern_app::store::{PasswordReset, StoreResult};
use lectern_app::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::{commit, Acknowledge};
use crate::time::{from_millis, to_millis};

const OUTBOX_COLUMNS: &str = "id, dedupe_key, origin, bulk_email_id, recipient, subject, body_text, body_html, message_id, unsubscribe_token, state, attempts, max_attempts, next_attempt_at, last_error, created_at, sent_at";
const BULK_COLUMNS: &str =
    "id, course_key, sender_id, target, subject, body_html, body_text, created_at, fanned_out_at";
const INSERT_MAIL: &str = "INSERT INTO mail_outbox (dedupe_key, origin, bulk_email_id, user_id, course_key, recipient, subject, body_text, body_html, message_id, unsubscribe_token, state, attempts, max_attempts, next_attempt_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', 0, $12, $13, $13, $13) ON CONFLICT (dedupe_key) DO NOTHING";

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    dedupe_key: String,
    origin: String,
    bulk_email_id: Option<i64>,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: Option<String>,
    message_id: String,
    unsubscribe_token: Option<String>,
    state: String,
    attempts: i64,
    max_attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

impl OutboxRow {
    fn into_message(self) -> StoreResult<OutboxMessage> {
        Ok(OutboxMessage {
            id: self.id,
            dedupe_key: self.dedupe_key,
            origin: self.origin,
            bulk_email_id: self.bulk_email_id,
            recipient: self.recipient,
            subject: self.subject,
            body_text: self.body_text,
            body_html: self.body_html,
            message_id: self.message_id,
            unsubscribe_token: self.unsubscribe_token,
            state: MailState::parse(&self.state).ok_or_else(|| {
                StoreError::Internal(format!("stored mail state {:?}", self.state))
            })?,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            next_attempt_at: from_millis(self.next_attempt_at),
            last_error: self.last_error,
            created_at: from_millis(self.created_at),
            sent_at: self.sent_at.map(from_millis),
        })
    }
}

#[derive(sqlx::FromRow)]
struct BulkRow {
    id: i64,
    course_key: String,
    sender_id: i64,
    target: String,
    subject: String,
    body_html: String,
    body_text: String,
    created_at: i64,
    fanned_out_at: Option<i64>,
}

impl BulkRow {
    fn into_email(self) -> BulkEmail {
        BulkEmail {
            id: self.id,
            course_key: self.course_key,
            sender_id: self.sender_id,
            targets: self.target,
            subject: self.subject,
            body_html: self.body_html,
            body_text: self.body_text,
            created_at: from_millis(self.created_at),
            fanned_out_at: self.fanned_out_at.map(from_millis),
        }
    }
}

fn counts(rows: Vec<(String, i64)>) -> Vec<(MailState, i64)> {
    let mut out: Vec<(MailState, i64)> = rows
        .into_iter()
        .filter_map(|(s, n)| MailState::parse(&s).map(|s| (s, n)))
        .collect();
    out.sort();
    out
}

#[async_trait]
impl<DB> MailStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn queue_mail(&self, mails: &[NewMail], now: DateTime<Utc>) -> StoreResult<u64> {
        if mails.is_empty() {
            return Ok(0);
        }
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let mut added = 0;
        for m in mails {
            let done = bind_mail(sqlx::query(INSERT_MAIL), m, now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            added += DB::rows_affected(&done);
        }
        commit(tx).await?;
        Ok(added)
    }

    async fn insert_password_reset_with_mail(
        &self,
        reset: &PasswordReset,
        mail: &NewMail,
    ) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(reset.token_hash.clone())
        .bind(reset.user_id)
        .bind(to_millis(reset.expires_at))
        .bind(to_millis(reset.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        bind_mail(sqlx::query(INSERT_MAIL), mail, reset.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await
    }

    async fn claim_mail(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let sql = format!(
            "UPDATE mail_outbox SET locked_by = $2, locked_until = $3, updated_at = $1 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'queued' AND next_attempt_at <= $1 \
             AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT $4{}) \
             RETURNING {OUTBOX_COLUMNS}",
            DB::SKIP_LOCKED
        );
        let rows: Vec<OutboxRow> = sqlx::query_as(&sql)
            .bind(to_millis(now))
            .bind(holder.to_string())
            .bind(to_millis(now + lease))
            .bind(limit)
            .fetch_all(&self.write)
            .acknowledged()
            .await?;
        let mut out = rows
            .into_iter()
            .map(OutboxRow::into_message)
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|m| m.id);
        Ok(out)
    }

    async fn mark_mail_sent(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let changed = self
            .execute_write(
                sqlx::query(
                    "UPDATE mail_outbox SET state = 'sent', attempts = attempts + 1, sent_at = $1, updated_at = $1, \
                     locked_by = NULL, locked_until = NULL WHERE id = $2 AND state = 'queued' AND locked_by = $3",
                )
                .bind(to_millis(now))
                .bind(id)
                .bind(holder.to_string()),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn mark_mail_failed(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<MailState>> {
        let state: Option<String> = sqlx::query_scalar(
            "UPDATE mail_outbox SET attempts = attempts + 1, \
             state = CASE WHEN attempts + 1 >= max_attempts THEN 'failed' ELSE 'queued' END, \
             next_attempt_at = $1, last_error = $2, locked_by = NULL, locked_until = NULL, updated_at = $3 \
             WHERE id = $4 AND state = 'queued' AND locked_by = $5 RETURNING state",
        )
        .bind(to_millis(retry_at))
        .bind(bounded_error(error).to_string())
        .bind(to_millis(now))
        .bind(id)
        .bind(holder.to_string())
        .fetch_optional(&self.write)
        .acknowledged()
        .await?;
        Ok(state.as_deref().and_then(MailState::parse))
    }

    async fn release_mail(
        &self,
        ids: &[i64],
        holder: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let params = (0..ids.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE mail_outbox SET locked_by = NULL, locked_until = NULL, next_attempt_at = $1 \
             WHERE state = 'queued' AND locked_by = $2 AND id IN ({params})"
        );
        let mut query = sqlx::query(&sql)
            .bind(to_millis(retry_at))
            .bind(holder.to_string());
        for id in ids {
            query = query.bind(*id);
        }
        self.execute_write(query).await
    }

    async fn count_mail(&self) -> StoreResult<Vec<(MailState, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) AS n FROM mail_outbox GROUP BY state")
                .fetch_all(&self.read)
                .await
                .map_err(map_err)?;
        Ok(counts(rows))
    }

    async fn recent_mail_failures(&self, limit: i64) -> StoreResult<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM mail_outbox WHERE state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT $1"
        );
        let rows: Vec<OutboxRow> = sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(OutboxRow::into_message).collect()
    }

    async fn retry_failed_mail(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.execute_write(
            sqlx::query(
                "UPDATE mail_outbox SET state = 'queued', attempts = 0, next_attempt_at = $1, updated_at = $1, \
                 locked_by = NULL, locked_until = NULL WHERE state = 'failed'",
            )
            .bind(to_millis(now)),
        )
        .await
    }

    async fn unsubscribe_target(&self, token: &str) -> StoreResult<Option<(UserId, String)>> {
        let row: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT user_id, course_key FROM mail_outbox WHERE unsubscribe_token = $1",
        )
        .bind(token.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        Ok(row.and_then(|(u, c)| Some((u?, c?))))
    }

    async fn create_bulk_email(
        &self,
        email: &BulkEmail,
        job: fn(i64, DateTime<Utc>) -> NewJob,
    ) -> StoreResult<i64> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bulk_emails (course_key, sender_id, target, subject, body_html, body_text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(email.course_key.clone())
        .bind(email.sender_id)
        .bind(email.targets.clone())
        .bind(email.subject.clone())
        .bind(email.body_html.clone())
        .bind(email.body_text.clone())
        .bind(to_millis(email.created_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let job = job(id, email.created_at);
        sqlx::query(
            "INSERT INTO jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(job.kind.clone())
        .bind(job.payload.to_string())
        .bind(job.dedupe_key.clone())
        .bind(job.max_attempts.max(1))
        .bind(to_millis(job.run_after))
        .bind(to_millis(email.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        commit(tx).await?;
        Ok(id)
    }

    async fn bulk_email(&self, id: i64) -> StoreResult<Option<BulkEmail>> {
        let sql = format!("SELECT {BULK_COLUMNS} FROM bulk_emails WHERE id = $1");
        let row: Option<BulkRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        Ok(row.map(BulkRow::into_email))
    }

    async fn bulk_emails_of_course(
        &self,
        course_key: &str,
        limit: i64,
    ) -> StoreResult<Vec<BulkEmail>> {
        let sql = format!(
            "SELECT {BULK_COLUMNS} FROM bulk_emails WHERE course_key = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<BulkRow> = sqlx::query_as(&sql)
            .bind(course_key.to_string())
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(BulkRow::into_email).collect())
    }

    async fn bulk_email_progress(&self, id: i64) -> StoreResult<Vec<(MailState, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) AS n FROM mail_outbox WHERE bulk_email_id = $1 GROUP BY state",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(counts(rows))
    }

    async fn bulk_recipients(&self, q: &RecipientQuery) -> StoreResult<Vec<Recipient>> {
        // Learners, or members of the chosen cohorts: actively enrolled and
        // not on the course team either way. One query over users, so a
        // user in several chosen groups is one recipient.
        let cohort_clause = if q.cohorts.is_empty() {
            String::new()
        } else {
            let params = (0..q.cohorts.len())
                .map(|i| format!("${}", i + 8))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                " OR EXISTS (SELECT 1 FROM cohort_memberships m WHERE m.course_key = $5 AND m.user_id = u.id AND m.cohort_id IN ({params}))"
            )
        };
        let sql = format!(
            "SELECT u.id, u.email, u.name FROM users u WHERE u.id > $1 AND u.is_active AND ( \
               ($2 AND u.id = $3) \
               OR ($4 AND EXISTS (SELECT 1 FROM course_roles r WHERE r.course_key = $5 AND r.user_id = u.id)) \
               OR (($6{cohort_clause}) \
                   AND EXISTS (SELECT 1 FROM enrollments e WHERE e.course_key = $5 AND e.user_id = u.id AND e.is_active) \
                   AND NOT EXISTS (SELECT 1 FROM course_roles r WHERE r.course_key = $5 AND r.user_id = u.id))) \
             AND NOT EXISTS (SELECT 1 FROM course_email_optouts o WHERE o.user_id = u.id AND o.course_key = $5) \
             ORDER BY u.id LIMIT $7"
        );
        let mut query = sqlx::query_as::<_, (i64, String, String)>(&sql)
            .bind(q.after)
            .bind(q.myself)
            .bind(q.sender)
            .bind(q.staff)
            .bind(q.course_key.clone())
            .bind(q.learners)
            .bind(q.limit);
        for id in &q.cohorts {
            query = query.bind(*id);
        }
        let rows: Vec<(i64, String, String)> =
            query.fetch_all(&self.read).await.map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(user_id, email, name)| Recipient {
                user_id,
                email,
                name,
            })
            .collect())
    }

    async fn mark_bulk_email_fanned_out(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "UPDATE bulk_emails SET fanned_out_at = $1 WHERE id = $2 AND fanned_out_at IS NULL",
            )
            .bind(to_millis(now))
            .bind(id),
        )
        .await?;
        Ok(())
    }

    async fn opt_out_of_course_email(
        &self,
        user: UserId,
        course_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO course_email_optouts (user_id, course_key, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, course_key) DO NOTHING",
            )
            .bind(user)
            .bind(course_key.to_string())
            .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn is_opted_out(&self, user: UserId, course_key: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM course_email_optouts WHERE user_id = $1 AND course_key = $2",
        )
        .bind(user)
        .bind(course_key.to_string())
        .fetch_one(&self.read)
        .await
        .map_err(map_err)?;
        Ok(n > 0)
    }
}

/// Binds a new message to [`INSERT_MAIL`].
fn bind_mail<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    m: &NewMail,
    now: DateTime<Utc>,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(m.dedupe_key.clone())
        .bind(m.origin.clone())
        .bind(m.bulk_email_id)
        .bind(m.user_id)
        .bind(m.course_key.clone())
        .bind(m.recipient.clone())
        .bind(m.subject.clone())
        .bind(m.body_text.clone())
        .bind(m.body_html.clone())
        .bind(m.message_id.clone())
        .bind(m.unsubscribe_token.clone())
        .bind(m.max_attempts.max(1))
        .bind(to_millis(now))
}
