//! The instance registry (`InstanceStore`) for `Db<DB>`, once for both
//! backends. An instance and its hosts are written and removed together in
//! one transaction; the hosts' primary key keeps a host on one instance.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::instances::{Instance, InstanceStore, NewInstance};
use lectern_app::store::StoreResult;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::commit;
use crate::time::{from_millis, to_millis};

#[derive(sqlx::FromRow)]
struct InstanceRow {
    name: String,
    database_url: String,
    settings: String,
    disabled: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct HostRow {
    host: String,
    instance_name: String,
}

#[async_trait]
impl<DB> InstanceStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn instances(&self) -> StoreResult<Vec<Instance>> {
        let rows: Vec<InstanceRow> = sqlx::query_as(
            "SELECT name, database_url, settings, disabled, created_at FROM instances ORDER BY name",
        )
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let hosts: Vec<HostRow> = sqlx::query_as(
            "SELECT host, instance_name FROM instance_hosts ORDER BY instance_name, position",
        )
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|r| Instance {
                hosts: hosts
                    .iter()
                    .filter(|h| h.instance_name == r.name)
                    .map(|h| h.host.clone())
                    .collect(),
                name: r.name,
                database_url: r.database_url,
                settings: r.settings,
                disabled: r.disabled != 0,
                created_at: from_millis(r.created_at),
            })
            .collect())
    }

    async fn create_instance(&self, new: &NewInstance, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO instances (name, database_url, settings, disabled, created_at) \
             VALUES ($1, $2, '', 0, $3)",
        )
        .bind(new.name.clone())
        .bind(new.database_url.clone())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        for (position, host) in new.hosts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO instance_hosts (host, instance_name, position) VALUES ($1, $2, $3)",
            )
            .bind(host.clone())
            .bind(new.name.clone())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        commit(tx).await
    }

    async fn set_instance_disabled(&self, name: &str, disabled: bool) -> StoreResult<bool> {
        let changed = self
            .execute_write(
                sqlx::query("UPDATE instances SET disabled = $1 WHERE name = $2")
                    .bind(i64::from(disabled))
                    .bind(name.to_string()),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn set_instance_settings(&self, name: &str, settings: &str) -> StoreResult<bool> {
        let changed = self
            .execute_write(
                sqlx::query("UPDATE instances SET settings = $1 WHERE name = $2")
                    .bind(settings.to_string())
                    .bind(name.to_string()),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_instance(&self, name: &str) -> StoreResult<bool> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM instance_hosts WHERE instance_name = $1")
            .bind(name.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let result = sqlx::query("DELETE FROM instances WHERE name = $1")
            .bind(name.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let found = DB::rows_affected(&result) == 1;
        commit(tx).await?;
        Ok(found)
    }
}
