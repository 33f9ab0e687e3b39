//! What both backends' backup code shares: the order tables are written and
//! restored in (a table after every table it refers to), quoting of
//! identifiers, and the check that an archive's tables fit this database.

use std::collections::{BTreeMap, BTreeSet};

use lectern_app::backup::TableSchema;
use lectern_app::StoreError;

/// The migration ledger belongs to the binary, not to the site: never backed up.
pub(crate) const LEDGER: &str = "_sqlx_migrations";

/// Orders `tables` so that each comes after the tables it refers to
/// (`refs[t]`), ties broken by name so the order is stable. References to
/// itself or to unknown tables are ignored; a cycle keeps name order.
pub(crate) fn foreign_key_order(
    tables: Vec<TableSchema>,
    refs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<TableSchema> {
    let mut pending: BTreeMap<String, TableSchema> =
        tables.into_iter().map(|t| (t.name.clone(), t)).collect();
    let mut out = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending
            .keys()
            .find(|name| {
                refs.get(*name)
                    .is_none_or(|deps| deps.iter().all(|d| d == *name || !pending.contains_key(d)))
            })
            .cloned();
        // A cycle: take the first by name rather than loop forever.
        let name = match ready.or_else(|| pending.keys().next().cloned()) {
            Some(n) => n,
            None => break,
        };
        if let Some(t) = pending.remove(&name) {
            out.push(t);
        }
    }
    out
}

/// `name` as a quoted SQL identifier (both backends use double quotes).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Checks that an archived table exists here with every archived column;
/// returns the error a person can act on otherwise.
pub(crate) fn check_fits(
    archived: &TableSchema,
    here: &BTreeMap<String, TableSchema>,
) -> Result<(), StoreError> {
    let Some(local) = here.get(&archived.name) else {
        return Err(StoreError::Internal(format!(
            "the backup has a table {:?} that this database does not have",
            archived.name
        )));
    };
    for c in &archived.columns {
        if !local.columns.contains(c) {
            return Err(StoreError::Internal(format!(
                "the backup's table {:?} has a column {c:?} that this database does not have",
                archived.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TableSchema {
        TableSchema {
            name: name.into(),
            columns: vec![],
        }
    }

    #[test]
    fn tables_come_after_what_they_refer_to() {
        let mut refs = BTreeMap::new();
        refs.insert(
            "a_child".to_string(),
            BTreeSet::from(["z_parent".to_string()]),
        );
        refs.insert(
            "z_parent".to_string(),
            BTreeSet::from(["z_parent".to_string()]),
        );
        let order = foreign_key_order(vec![t("a_child"), t("m"), t("z_parent")], &refs);
        let names: Vec<_> = order.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["m", "z_parent", "a_child"]);
    }

    #[test]
    fn quoting_doubles_quotes() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
