//! Backups of a SQLite database: tables and columns read from the schema,
//! every row streamed from one read transaction (WAL keeps that snapshot
//! stable while the writer carries on), and a restore that replaces
//! everything in one write transaction.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use futures_util::StreamExt;
use lectern_app::backup::{
    BackupStore, RestoreSource, RowCounts, SnapshotSink, TableSchema, Value,
};
use lectern_app::StoreError;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Row, SqliteConnection, TypeInfo, ValueRef};

use super::SqliteStore;
use crate::backup_schema::{check_fits, foreign_key_order, quote, LEDGER};
use crate::shared::errors::map_err;

/// Every table but SQLite's own and the migration ledger, in foreign-key order.
async fn tables(conn: &mut SqliteConnection) -> Result<Vec<TableSchema>, StoreError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name",
    )
    .bind(LEDGER)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    let mut out = Vec::with_capacity(names.len());
    let mut refs = BTreeMap::new();
    for name in names {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?;
        let parents: Vec<String> =
            sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_list(?)")
                .bind(&name)
                .fetch_all(&mut *conn)
                .await
                .map_err(map_err)?;
        refs.insert(name.clone(), parents.into_iter().collect::<BTreeSet<_>>());
        out.push(TableSchema { name, columns });
    }
    Ok(foreign_key_order(out, &refs))
}

fn value(row: &SqliteRow, i: usize) -> Result<Value, StoreError> {
    let raw = row.try_get_raw(i).map_err(map_err)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_string();
    let v = match kind.as_str() {
        "INTEGER" => Value::Integer(row.try_get_unchecked::<i64, _>(i).map_err(map_err)?),
        "REAL" => Value::Real(row.try_get_unchecked::<f64, _>(i).map_err(map_err)?),
        "TEXT" => Value::Text(row.try_get_unchecked::<String, _>(i).map_err(map_err)?),
        _ => Value::Bytes(row.try_get_unchecked::<Vec<u8>, _>(i).map_err(map_err)?),
    };
    Ok(v)
}

fn bind(args: &mut SqliteArguments<'_>, v: Value) -> Result<(), StoreError> {
    let r = match v {
        Value::Null => args.add(Option::<i64>::None),
        Value::Integer(i) => args.add(i),
        Value::Real(f) => args.add(f),
        Value::Text(s) => args.add(s),
        Value::Bytes(b) => args.add(b),
    };
    r.map_err(|e| StoreError::Internal(format!("binding a restored value: {e}")))
}

#[async_trait]
impl BackupStore for SqliteStore {
    async fn schema_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }

    async fn backup_tables(&self) -> Result<Vec<TableSchema>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        tables(&mut conn).await
    }

    async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let mut out = Vec::new();
        for t in tables(&mut conn).await? {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quote(&t.name)))
                .fetch_one(&mut *conn)
                .await
                .map_err(map_err)?;
            out.push((t.name, n.max(0) as u64));
        }
        Ok(out)
    }

    async fn snapshot(&self, sink: &mut dyn SnapshotSink) -> Result<(), StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        // One read transaction: its first read fixes the snapshot, and every
        // table below is read from it.
        sqlx::query("BEGIN")
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        let result = async {
            for t in tables(&mut conn).await? {
                sink.begin_table(&t).await?;
                let cols: Vec<String> = t.columns.iter().map(|c| quote(c)).collect();
                let sql = format!("SELECT {} FROM {}", cols.join(", "), quote(&t.name));
                let mut rows = sqlx::query(&sql).fetch(&mut *conn);
                while let Some(row) = rows.next().await {
                    let row = row.map_err(map_err)?;
                    let values = (0..t.columns.len())
                        .map(|i| value(&row, i))
                        .collect::<Result<Vec<_>, _>>()?;
                    sink.row(values).await?;
                }
                drop(rows);
                sink.end_table().await?;
            }
            Ok(())
        }
        .await;
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        result
    }

    async fn restore(&self, source: &mut dyn RestoreSource) -> Result<u64, StoreError> {
        let mut tx = self
            .write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let here = tables(&mut tx).await?;
        for t in here.iter().rev() {
            sqlx::query(&format!("DELETE FROM {}", quote(&t.name)))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let here: BTreeMap<String, TableSchema> =
            here.into_iter().map(|t| (t.name.clone(), t)).collect();
        let mut restored = 0u64;
        while let Some(t) = source.next_table().await? {
            check_fits(&t, &here)?;
            let cols: Vec<String> = t.columns.iter().map(|c| quote(c)).collect();
            let marks = vec!["?"; cols.len()].join(", ");
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({marks})",
                quote(&t.name),
                cols.join(", ")
            );
            while let Some(values) = source.next_row().await? {
                let mut args = SqliteArguments::default();
                for v in values {
                    bind(&mut args, v)?;
                }
                sqlx::query_with(&sql, args)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                restored += 1;
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(restored)
    }
}
