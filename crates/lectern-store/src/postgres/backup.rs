//! Backups of a PostgreSQL database: tables and columns read from the
//! catalogue, every row streamed from one `REPEATABLE READ READ ONLY`
//! transaction, and a restore that empties and refills every table in one
//! transaction, then moves identity sequences past the restored ids.
//!
//! Values cross backends in the shared `Value` types: booleans travel as
//! integers 0/1 (SQLite's own form) and are turned back by the column's
//! type on the way in; types with no shared form travel as text.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use futures_util::StreamExt;
use lectern_app::backup::{
    BackupStore, RestoreSource, RowCounts, SnapshotSink, TableSchema, Value,
};
use lectern_app::StoreError;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::{Arguments, Row};

use super::PgStore;
use crate::backup_schema::{check_fits, foreign_key_order, quote, LEDGER};

fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// How a column's values are read and written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Boolean,
    Real,
    Text,
    Bytes,
    /// Anything else: read as text, written back through a cast.
    Other,
}

fn kind(data_type: &str) -> Kind {
    match data_type {
        "bigint" | "integer" | "smallint" => Kind::Integer,
        "boolean" => Kind::Boolean,
        "double precision" | "real" => Kind::Real,
        "text" | "character varying" | "character" => Kind::Text,
        "bytea" => Kind::Bytes,
        _ => Kind::Other,
    }
}

struct Table {
    schema: TableSchema,
    kinds: Vec<Kind>,
    types: Vec<String>,
    identity: Vec<String>,
}

async fn tables(conn: &mut PgConnection) -> Result<Vec<Table>, StoreError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1 ORDER BY table_name",
    )
    .bind(LEDGER)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, pa.relname::text FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class pa ON pa.oid = c.confrelid WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (child, parent) in links {
        refs.entry(child).or_default().insert(parent);
    }
    let mut out = BTreeMap::new();
    let mut schemas = Vec::new();
    for name in names {
        let cols: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_identity::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        let schema = TableSchema {
            name: name.clone(),
            columns: cols.iter().map(|c| c.0.clone()).collect(),
        };
        schemas.push(schema.clone());
        out.insert(
            name,
            Table {
                schema,
                kinds: cols.iter().map(|c| kind(&c.1)).collect(),
                types: cols.iter().map(|c| c.1.clone()).collect(),
                identity: cols
                    .iter()
                    .filter(|c| c.2 == "YES")
                    .map(|c| c.0.clone())
                    .collect(),
            },
        );
    }
    Ok(foreign_key_order(schemas, &refs)
        .into_iter()
        .filter_map(|s| out.remove(&s.name))
        .collect())
}

fn value(row: &PgRow, i: usize, k: Kind) -> Result<Value, StoreError> {
    let v = match k {
        // BIGINT, and the narrower INTEGER (site_setup.id) and SMALLINT.
        Kind::Integer => match row.try_get::<Option<i64>, _>(i) {
            Ok(v) => v,
            Err(_) => match row.try_get::<Option<i32>, _>(i) {
                Ok(v) => v.map(i64::from),
                Err(_) => row.try_get::<Option<i16>, _>(i).map_err(db)?.map(i64::from),
            },
        }
        .map(Value::Integer),
        Kind::Boolean => row
            .try_get::<Option<bool>, _>(i)
            .map_err(db)?
            .map(|b| Value::Integer(i64::from(b))),
        Kind::Real => row
            .try_get::<Option<f64>, _>(i)
            .map_err(db)?
            .map(Value::Real),
        Kind::Text | Kind::Other => row
            .try_get::<Option<String>, _>(i)
            .map_err(db)?
            .map(Value::Text),
        Kind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)
            .map_err(db)?
            .map(Value::Bytes),
    };
    Ok(v.unwrap_or(Value::Null))
}

fn mismatch(table: &str, column: &str, v: &Value) -> StoreError {
    StoreError::Internal(format!(
        "the backup's value {v:?} does not fit column {table}.{column}"
    ))
}

fn bind(
    args: &mut PgArguments,
    k: Kind,
    v: Value,
    table: &str,
    column: &str,
) -> Result<(), StoreError> {
    let r = match (k, v) {
        (Kind::Integer, Value::Null) => args.add(Option::<i64>::None),
        (Kind::Integer, Value::Integer(i)) => args.add(i),
        (Kind::Boolean, Value::Null) => args.add(Option::<bool>::None),
        (Kind::Boolean, Value::Integer(i)) => args.add(i != 0),
        (Kind::Real, Value::Null) => args.add(Option::<f64>::None),
        (Kind::Real, Value::Real(f)) => args.add(f),
        (Kind::Real, Value::Integer(i)) => args.add(i as f64),
        (Kind::Text | Kind::Other, Value::Null) => args.add(Option::<String>::None),
        (Kind::Text | Kind::Other, Value::Text(s)) => args.add(s),
        (Kind::Bytes, Value::Null) => args.add(Option::<Vec<u8>>::None),
        (Kind::Bytes, Value::Bytes(b)) => args.add(b),
        (Kind::Bytes, Value::Text(s)) => args.add(s.into_bytes()),
        (_, v) => return Err(mismatch(table, column, &v)),
    };
    r.map_err(|e| StoreError::Internal(format!("binding a restored value: {e}")))
}

#[async_trait]
impl BackupStore for PgStore {
    async fn schema_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::bigint FROM _sqlx_migrations")
            .fetch_one(&self.write)
            .await
            .map_err(db)
    }

    async fn backup_tables(&self) -> Result<Vec<TableSchema>, StoreError> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        Ok(tables(&mut conn)
            .await?
            .into_iter()
            .map(|t| t.schema)
            .collect())
    }

    async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        let mut out = Vec::new();
        for t in tables(&mut conn).await? {
            let n: i64 =
                sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quote(&t.schema.name)))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
            out.push((t.schema.name, n.max(0) as u64));
        }
        Ok(out)
    }

    async fn snapshot(&self, sink: &mut dyn SnapshotSink) -> Result<(), StoreError> {
        let mut conn = self.write.acquire().await.map_err(db)?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        let result = async {
            for t in tables(&mut conn).await? {
                sink.begin_table(&t.schema).await?;
                let cols: Vec<String> = t
                    .schema
                    .columns
                    .iter()
                    .zip(&t.kinds)
                    .map(|(c, k)| match k {
                        Kind::Other => format!("{}::text", quote(c)),
                        _ => quote(c),
                    })
                    .collect();
                let sql = format!("SELECT {} FROM {}", cols.join(", "), quote(&t.schema.name));
                let mut rows = sqlx::query(&sql).fetch(&mut *conn);
                while let Some(row) = rows.next().await {
                    let row = row.map_err(db)?;
                    let values = t
                        .kinds
                        .iter()
                        .enumerate()
                        .map(|(i, k)| value(&row, i, *k))
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
        let mut tx = self.write.begin().await.map_err(db)?;
        let here = tables(&mut tx).await?;
        if !here.is_empty() {
            let all: Vec<String> = here.iter().map(|t| quote(&t.schema.name)).collect();
            sqlx::query(&format!("TRUNCATE {}", all.join(", ")))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let schemas: BTreeMap<String, TableSchema> = here
            .iter()
            .map(|t| (t.schema.name.clone(), t.schema.clone()))
            .collect();
        let here: BTreeMap<String, Table> = here
            .into_iter()
            .map(|t| (t.schema.name.clone(), t))
            .collect();
        let mut restored = 0u64;
        while let Some(archived) = source.next_table().await? {
            check_fits(&archived, &schemas)?;
            let Some(local) = here.get(&archived.name) else {
                continue;
            };
            let kinds: Vec<(Kind, &str)> = archived
                .columns
                .iter()
                .map(|c| {
                    let i = local
                        .schema
                        .columns
                        .iter()
                        .position(|l| l == c)
                        .unwrap_or(0);
                    (local.kinds[i], local.types[i].as_str())
                })
                .collect();
            let marks: Vec<String> = kinds
                .iter()
                .enumerate()
                .map(|(i, (k, ty))| match k {
                    Kind::Other => format!("${}::{ty}", i + 1),
                    _ => format!("${}", i + 1),
                })
                .collect();
            let cols: Vec<String> = archived.columns.iter().map(|c| quote(c)).collect();
            let sql = format!(
                "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
                quote(&archived.name),
                cols.join(", "),
                marks.join(", ")
            );
            while let Some(values) = source.next_row().await? {
                let mut args = PgArguments::default();
                for ((v, (k, _)), c) in values.into_iter().zip(&kinds).zip(&archived.columns) {
                    bind(&mut args, *k, v, &archived.name, c)?;
                }
                sqlx::query_with(&sql, args)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                restored += 1;
            }
        }
        for t in here.values() {
            for col in &t.identity {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX({c}) FROM {t}), 0) + 1, false)",
                    c = quote(col),
                    t = quote(&t.schema.name)
                );
                sqlx::query(&sql)
                    .bind(quote(&t.schema.name))
                    .bind(col)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(restored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tables' rows from memory.
    struct Rows(
        Vec<(TableSchema, Vec<Vec<Value>>)>,
        Option<std::vec::IntoIter<Vec<Value>>>,
    );

    #[async_trait]
    impl RestoreSource for Rows {
        async fn next_table(&mut self) -> Result<Option<TableSchema>, StoreError> {
            if self.0.is_empty() {
                return Ok(None);
            }
            let (t, rows) = self.0.remove(0);
            self.1 = Some(rows.into_iter());
            Ok(Some(t))
        }
        async fn next_row(&mut self) -> Result<Option<Vec<Value>>, StoreError> {
            Ok(self.1.as_mut().and_then(|r| r.next()))
        }
    }

    fn user(id: i64, name: &str) -> Vec<Value> {
        vec![
            Value::Integer(id),
            Value::Text(name.into()),
            Value::Text(format!("{name}@example.org")),
            Value::Text(name.into()),
            Value::Text("h".into()),
            Value::Integer(1),
            Value::Integer(0),
        ]
    }

    /// Every table's rows, in memory.
    struct Collect(Vec<(TableSchema, Vec<Vec<Value>>)>);

    #[async_trait]
    impl SnapshotSink for Collect {
        async fn begin_table(&mut self, t: &TableSchema) -> Result<(), StoreError> {
            self.0.push((t.clone(), Vec::new()));
            Ok(())
        }
        async fn row(&mut self, values: Vec<Value>) -> Result<(), StoreError> {
            if let Some(t) = self.0.last_mut() {
                t.1.push(values);
            }
            Ok(())
        }
        async fn end_table(&mut self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    /// A site with no administrator yet keeps its setup link in
    /// `site_setup`, whose id is an INTEGER, not a BIGINT.
    #[tokio::test]
    async fn a_snapshot_reads_integer_columns_and_restores_them() {
        let Some(admin) = crate::testing::postgres_admin_url() else {
            return;
        };
        let from = PgStore::open(
            &crate::testing::fresh_postgres_database(&admin)
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        sqlx::query("INSERT INTO site_setup (id, secret, expires_at) VALUES (1, 'the-secret', 5)")
            .execute(&from.write)
            .await
            .unwrap();
        let mut rows = Collect(Vec::new());
        from.snapshot(&mut rows).await.unwrap();
        let setup = rows.0.iter().find(|t| t.0.name == "site_setup").unwrap();
        assert_eq!(setup.1[0][0], Value::Integer(1));

        let to = PgStore::open(
            &crate::testing::fresh_postgres_database(&admin)
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        to.restore(&mut Rows(rows.0, None)).await.unwrap();
        let secret: String = sqlx::query_scalar("SELECT secret FROM site_setup WHERE id = 1")
            .fetch_one(&to.write)
            .await
            .unwrap();
        assert_eq!(secret, "the-secret");
        from.close().await;
        to.close().await;
    }

    #[tokio::test]
    async fn a_restore_moves_identity_sequences_past_the_restored_ids() {
        let Some(admin) = crate::testing::postgres_admin_url() else {
            return;
        };
        let url = crate::testing::fresh_postgres_database(&admin)
            .await
            .unwrap();
        let store = PgStore::open(&url).await.unwrap();
        let users = TableSchema {
            name: "users".into(),
            columns: [
                "id",
                "username",
                "email",
                "name",
                "password_hash",
                "is_admin",
                "created_at",
            ]
            .map(String::from)
            .to_vec(),
        };
        let mut source = Rows(vec![(users, vec![user(7, "ann"), user(41, "bob")])], None);
        assert_eq!(store.restore(&mut source).await.unwrap(), 2);
        let admin_flag: bool =
            sqlx::query_scalar("SELECT is_admin FROM users WHERE username = 'ann'")
                .fetch_one(&store.write)
                .await
                .unwrap();
        assert!(admin_flag, "integer 1 is restored as true");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, email, name, password_hash, created_at) VALUES ('cat', 'c@x', 'c', 'h', 0) RETURNING id",
        )
        .fetch_one(&store.write)
        .await
        .unwrap();
        assert_eq!(id, 42);
        let counts = store.row_counts().await.unwrap();
        assert!(counts.contains(&("users".to_string(), 3)), "{counts:?}");
        store.close().await;
    }
}
