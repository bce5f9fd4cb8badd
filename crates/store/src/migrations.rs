//! The ordered schema migrations, embedded in the binary.
//!
//! The SQL is kept portable (ANSI types, no AUTOINCREMENT, no backend-specific functions) so that
//! the same files can later migrate a PostgreSQL database. A migration is never edited once
//! released: a schema change is a new file with the next number.

/// One schema migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// Strictly increasing, starting at 1; recorded in `schema_migrations.version`.
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration this binary knows, in the order they must be applied.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../migrations/0001_init.sql") },
    Migration { version: 2, name: "two_factor", sql: include_str!("../migrations/0002_two_factor.sql") },
];

/// The schema version a fully migrated database has with this binary.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "migration {}", m.name);
        }
    }

    #[test]
    fn sql_is_portable() {
        for m in MIGRATIONS {
            let upper = m.sql.to_uppercase();
            for banned in ["AUTOINCREMENT", "DATETIME(", "STRFTIME(", "WITHOUT ROWID", "PRAGMA"] {
                assert!(!upper.contains(banned), "migration {} uses {banned}", m.name);
            }
        }
    }
}
