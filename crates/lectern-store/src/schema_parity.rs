//! Both backends must end with the same schema: the same migration
//! numbers, and after all of them the same tables with the same columns,
//! the same NOT NULL-ness and the same kind of type (types compared
//! loosely: SQLite's `BIGINT` and PostgreSQL's `bigint` are both integers).

use std::collections::{BTreeMap, BTreeSet};

/// (table, column) → (kind of type, not null).
type Schema = BTreeMap<(String, String), (&'static str, bool)>;

/// A type name from either backend reduced to its kind.
fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "integer"
    } else if t.contains("BOOL") {
        "boolean"
    } else if t.contains("CHAR") || t.contains("TEXT") {
        "text"
    } else if t.contains("DOUB") || t.contains("REAL") || t.contains("FLOA") {
        "float"
    } else if t.contains("BLOB") || t.contains("BYTEA") {
        "bytes"
    } else {
        "other"
    }
}

fn versions(m: &sqlx::migrate::Migrator) -> BTreeSet<i64> {
    m.iter().map(|m| m.version).collect()
}

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.path().join("parity.db"))
                .create_if_missing(true),
        )
        .await
        .unwrap();
    crate::sqlite::MIGRATOR.run(&pool).await.unwrap();
    let rows: Vec<(String, String, String, bool, i64)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        // A primary key column is NOT NULL on PostgreSQL; SQLite lets a
        // non-integer one hold NULL unless declared so, but Lectern never
        // writes one, so it counts as NOT NULL here.
        .map(|(t, c, ty, notnull, pk)| ((t, c), (kind(&ty), notnull || pk > 0)))
        .collect()
}

async fn postgres_schema(admin: &str) -> Schema {
    let url = crate::testing::fresh_postgres_database(admin)
        .await
        .unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    crate::postgres::MIGRATOR.run(&pool).await.unwrap();
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(t, c, ty, nullable)| ((t, c), (kind(&ty), nullable == "NO")))
        .collect()
}

#[test]
fn both_backends_have_the_same_migration_numbers() {
    assert_eq!(
        versions(&crate::sqlite::MIGRATOR),
        versions(&crate::postgres::MIGRATOR),
        "every migration number must exist for both backends"
    );
}

#[tokio::test]
async fn both_backends_end_with_the_same_tables_and_columns() {
    let Some(admin) = crate::testing::postgres_admin_url() else {
        return;
    };
    let lite = sqlite_schema().await;
    let pg = postgres_schema(&admin).await;
    assert!(lite.len() > 50, "read the SQLite schema: {lite:?}");
    let differences: Vec<String> = lite
        .keys()
        .chain(pg.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| lite.get(*k) != pg.get(*k))
        .map(|k| {
            format!(
                "{}.{}: sqlite {:?}, postgres {:?}",
                k.0,
                k.1,
                lite.get(k),
                pg.get(k)
            )
        })
        .collect();
    assert!(
        differences.is_empty(),
        "schemas differ:\n{}",
        differences.join("\n")
    );
}
