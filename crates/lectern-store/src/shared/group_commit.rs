//! Group commit for learner-state writes (answer checks, saves, resets).
//!
//! A durable commit costs one flush of the disk (SQLite's WAL `fsync`,
//! PostgreSQL's WAL flush) however few rows it carries, so one commit per
//! check caps checks at the disk's rate of bare commits. Instead each write
//! is queued on a *lane*: a task that takes what waits in its queue (at most
//! [`MAX_BATCH`] writes or [`MAX_BATCH_BYTES`]), writes it all in one
//! transaction and ends it through [`commit`]; checks that arrive while a
//! commit is flushing form the next batch. A waiter is answered only after
//! the transaction holding its write is durable and acknowledged.
//!
//! - **One failure fails only its own write.** A stale revision (another
//!   check of the same learner landed first) or a clashing idempotency key
//!   is found while the batch runs; the transaction is rolled back and run
//!   again without that write, which is answered with its own error once the
//!   rest has committed (so a key clash finds the winner's answer stored).
//!   Rerunning costs nothing on the common path (no savepoint statements,
//!   which on SQLite cost as much as a write); the worst case is one rerun
//!   per write of a batch, bounded by [`MAX_BATCH`].
//! - **A broken connection fails all.** If the database cannot be reached
//!   while the batch runs or commits, every waiter gets that error and none
//!   is acknowledged.
//! - **One learner's writes stay in order.** A learner's writes always go to
//!   the same lane (by user id) and a lane's queue is first in, first out;
//!   a batch is sorted by user id (stably, so a learner's order holds),
//!   which also makes batches of two nodes take row locks in the same order
//!   on PostgreSQL, so they cannot deadlock each other.
//! - **Bounded.** A lane's queue holds [`QUEUE_PER_LANE`] writes; a full
//!   queue is refused at once (`Unavailable`, a 503 with `Retry-After`),
//!   never grown.
//! - A write whose requester has gone (the request deadline, a closed
//!   connection) before its batch starts is dropped: nobody was told it
//!   was stored.
//!
//! SQLite has one lane (it has one writer); PostgreSQL a few, so batches of
//! different learners commit in parallel on separate connections.

use std::sync::Arc;

use lectern_app::idempotency::StoredResponse;
use lectern_app::model::{GradeRecord, ProblemState, Submission};
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use serde_json::Value;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use tokio::sync::{mpsc, oneshot};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::commit;
use crate::sqlite::state_writer::StateWriter;

/// The most writes one transaction carries.
pub(crate) const MAX_BATCH: usize = 64;
/// The most (estimated) bytes one transaction carries; a batch is closed
/// once it reaches this, so one write larger than it still goes alone.
pub(crate) const MAX_BATCH_BYTES: usize = 4 << 20;
/// The most writes waiting on one lane; more are refused.
pub(crate) const QUEUE_PER_LANE: usize = 1024;

/// What a full queue answers.
pub(crate) const QUEUE_FULL: &str =
    "too many answers are waiting to be written; try again in a moment";

/// One learner-state write: the new state, and with it perhaps the graded
/// submission, the recomputed grade and (keyed checks) the stored answer,
/// whose key row is inserted first.
#[derive(Debug, Clone)]
pub(crate) struct StateWrite {
    pub state: ProblemState,
    pub submission: Option<Submission>,
    pub grade: Option<GradeRecord>,
    pub response: Option<StoredResponse>,
}

impl StateWrite {
    /// About how many bytes the write carries (JSON text and fixed columns).
    fn approx_bytes(&self) -> usize {
        let mut n = 256 + json_bytes(&self.state.answers) + json_bytes(&self.state.correct_map);
        if let Some(s) = &self.submission {
            n += 128 + json_bytes(&s.answers) + json_bytes(&s.correct_map);
        }
        if let Some(g) = &self.grade {
            n += 128 + g.detail.as_str().len();
            n += g
                .subsections
                .iter()
                .map(|s| 48 + s.block_id.len())
                .sum::<usize>();
        }
        if let Some(r) = &self.response {
            n += 128 + r.key.len() + r.fingerprint.len() + json_bytes(&r.body);
        }
        n
    }
}

/// An estimate of a JSON value's text length, without writing it.
fn json_bytes(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|i| json_bytes(i) + 1).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() + 4 + json_bytes(v))
                .sum::<usize>()
        }
    }
}

/// A queued write and where its answer goes.
pub(super) struct Waiter {
    pub(super) write: StateWrite,
    pub(super) bytes: usize,
    pub(super) reply: oneshot::Sender<StoreResult<()>>,
}

/// The lanes of one store (cloned with it).
pub(crate) struct GroupCommit<DB: Database> {
    pool: Pool<DB>,
    /// SQLite: batches written through rusqlite (`sqlite/state_writer.rs`)
    /// while the lane holds `pool`'s connection; `None`: through `pool`.
    direct: Option<Arc<StateWriter>>,
    lanes: Arc<[mpsc::Sender<Waiter>]>,
}

impl<DB: Database> Clone for GroupCommit<DB> {
    fn clone(&self) -> Self {
        GroupCommit {
            pool: self.pool.clone(),
            direct: self.direct.clone(),
            lanes: self.lanes.clone(),
        }
    }
}

/// The same error again, for each waiter of a failed batch.
fn again(e: &StoreError) -> StoreError {
    match e {
        StoreError::Conflict { field } => StoreError::Conflict {
            field: field.clone(),
        },
        StoreError::StaleRevision => StoreError::StaleRevision,
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Busy(m) => StoreError::Busy(m.clone()),
        StoreError::Internal(m) => StoreError::Internal(m.clone()),
    }
}

/// How one run of a batch ended.
pub(crate) enum Run {
    Committed,
    /// The write at this index failed on its own; roll back, rerun without it.
    WriteFailed(usize, StoreError),
    /// The connection or the commit failed: every waiter gets this.
    Broken(StoreError),
}

impl<DB> GroupCommit<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    /// Starts `lanes` lane tasks on the current Tokio runtime writing
    /// through `pool`, or through `direct` while holding `pool`'s connection.
    pub(crate) fn start(pool: Pool<DB>, lanes: usize, direct: Option<Arc<StateWriter>>) -> Self {
        let senders: Vec<_> = (0..lanes.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE_PER_LANE);
                tokio::spawn(Self::lane(pool.clone(), direct.clone(), rx));
                tx
            })
            .collect();
        GroupCommit {
            pool,
            direct,
            lanes: senders.into(),
        }
    }

    /// Queues `write` and waits until the transaction holding it is durable
    /// (or has failed).
    pub(crate) async fn write(&self, write: StateWrite) -> StoreResult<()> {
        let lane = &self.lanes[write.state.user_id.rem_euclid(self.lanes.len() as i64) as usize];
        let (reply, answer) = oneshot::channel();
        let bytes = write.approx_bytes();
        match lane.try_send(Waiter {
            write,
            bytes,
            reply,
        }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return Err(StoreError::Unavailable(QUEUE_FULL.into()))
            }
            // The lane's runtime is gone (a store opened on another
            // runtime, such as a test's): write alone, on this one.
            Err(mpsc::error::TrySendError::Closed(waiter)) => {
                let (reply, answer) = oneshot::channel();
                Self::run_batch(
                    &self.pool,
                    self.direct.as_ref(),
                    vec![Waiter { reply, ..waiter }],
                )
                .await;
                return answer.await.unwrap_or_else(|_| Err(lost()));
            }
        }
        answer.await.unwrap_or_else(|_| Err(lost()))
    }

    /// For tests: one lane with room for `room` writes and no task taking
    /// them (the receiver is returned so the queue stays open).
    #[cfg(test)]
    pub(super) fn stalled(pool: Pool<DB>, room: usize) -> (Self, mpsc::Receiver<Waiter>) {
        let (tx, rx) = mpsc::channel(room);
        let lanes = GroupCommit {
            pool,
            direct: None,
            lanes: vec![tx].into(),
        };
        (lanes, rx)
    }

    /// For tests: writes waiting on the lanes.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.lanes
            .iter()
            .map(|l| l.max_capacity() - l.capacity())
            .sum()
    }

    /// One lane: a batch at a time, for as long as the store has a handle.
    async fn lane(
        pool: Pool<DB>,
        direct: Option<Arc<StateWriter>>,
        mut queue: mpsc::Receiver<Waiter>,
    ) {
        while let Some(first) = queue.recv().await {
            let mut bytes = first.bytes;
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
                match queue.try_recv() {
                    Ok(next) => {
                        bytes += next.bytes;
                        batch.push(next);
                    }
                    Err(_) => break,
                }
            }
            Self::run_batch(&pool, direct.as_ref(), batch).await;
        }
    }

    /// Writes a batch in one transaction (rerun without each write that
    /// fails on its own) and answers every waiter.
    pub(super) async fn run_batch(
        pool: &Pool<DB>,
        direct: Option<&Arc<StateWriter>>,
        batch: Vec<Waiter>,
    ) {
        let mut batch: Vec<Waiter> = batch.into_iter().filter(|w| !w.reply.is_closed()).collect();
        if batch.is_empty() {
            return;
        }
        batch.sort_by_key(|w| w.write.state.user_id);
        let (batch, failed, outcome) = match direct {
            Some(writer) => match Self::run_direct(pool, writer.clone(), batch).await {
                Some(ran) => ran,
                // The writer's thread panicked: the waiters went with it
                // and each was told the write was interrupted.
                None => return,
            },
            None => {
                let mut failed: Vec<Option<StoreError>> = batch.iter().map(|_| None).collect();
                let outcome = loop {
                    match Self::run_once(pool, &batch, &failed).await {
                        Run::Committed => break Ok(()),
                        Run::WriteFailed(i, e) => failed[i] = Some(e),
                        Run::Broken(e) => break Err(e),
                    }
                };
                (batch, failed, outcome)
            }
        };
        if let Err(e) = &outcome {
            tracing::warn!(writes = batch.len(), error = %e, "a batch of learner-state writes failed; none is acknowledged");
        }
        for (waiter, own) in batch.into_iter().zip(failed) {
            let answer = match (&outcome, own) {
                (Err(e), _) => Err(again(e)),
                (Ok(()), Some(e)) => Err(e),
                (Ok(()), None) => Ok(()),
            };
            // A waiter that has gone no longer needs its answer.
            let _ = waiter.reply.send(answer);
        }
    }

    /// [`Self::run_batch`]'s writing through `writer` on a blocking thread,
    /// holding `pool`'s connection meanwhile so that no other write of this
    /// process runs beside it. `None` if that thread panicked.
    async fn run_direct(
        pool: &Pool<DB>,
        writer: Arc<StateWriter>,
        batch: Vec<Waiter>,
    ) -> Option<(Vec<Waiter>, Vec<Option<StoreError>>, StoreResult<()>)> {
        let mut failed: Vec<Option<StoreError>> = batch.iter().map(|_| None).collect();
        let held = match pool.acquire().await {
            Ok(held) => held,
            Err(e) => return Some((batch, failed, Err(map_err(e)))),
        };
        let ran = tokio::task::spawn_blocking(move || {
            let outcome = loop {
                let writes: Vec<&StateWrite> = batch.iter().map(|w| &w.write).collect();
                match writer.run_once(&writes, &failed) {
                    Run::Committed => break Ok(()),
                    Run::WriteFailed(i, e) => failed[i] = Some(e),
                    Run::Broken(e) => break Err(e),
                }
            };
            (batch, failed, outcome)
        })
        .await;
        drop(held);
        match ran {
            Ok(ran) => Some(ran),
            Err(e) => {
                tracing::error!(error = %e, "the learner-state writer stopped; its batch is not acknowledged");
                None
            }
        }
    }

    async fn run_once(pool: &Pool<DB>, batch: &[Waiter], failed: &[Option<StoreError>]) -> Run {
        let mut tx = match pool.begin_with(DB::BEGIN_WRITE).await {
            Ok(tx) => tx,
            Err(e) => return Run::Broken(map_err(e)),
        };
        for (i, waiter) in batch.iter().enumerate() {
            if failed[i].is_some() {
                continue;
            }
            match Db::<DB>::write_state_change(&mut tx, &waiter.write).await {
                Ok(()) => {}
                Err(StoreError::Unavailable(m)) => return Run::Broken(StoreError::Unavailable(m)),
                Err(e) => {
                    return match tx.rollback().await {
                        Ok(()) => Run::WriteFailed(i, e),
                        Err(r) => Run::Broken(map_err(r)),
                    }
                }
            }
        }
        match commit(tx).await {
            Ok(()) => Run::Committed,
            Err(e) => Run::Broken(e),
        }
    }
}

/// A waiter whose batch ended without answering (its task was stopped).
fn lost() -> StoreError {
    StoreError::Unavailable("the write was interrupted before it was confirmed; try again".into())
}

#[cfg(test)]
#[path = "group_commit_tests.rs"]
mod batch_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_estimate_follows_the_text_length() {
        let v = serde_json::json!({"input_2_1": "choice_3", "list": ["a", "bb"], "n": 1});
        let text = v.to_string().len();
        let est = json_bytes(&v);
        assert!(est >= text / 2 && est <= text * 2, "{est} vs {text}");
        assert!(json_bytes(&Value::String("x".repeat(10_000))) >= 10_000);
    }
}
