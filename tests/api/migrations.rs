//! Each `down.sql` reverses its `up.sql`: up, down, up again gives the same schema.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::{BACKENDS, Backend, TestDb};

#[derive(QueryableByName, Debug, PartialEq)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn schema(db: &TestDb, backend: Backend) -> Vec<String> {
    let mut c = db.raw();
    let q = match backend {
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master WHERE name NOT LIKE '__diesel%' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS line FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%' ORDER BY table_name, column_name"
        }
    };
    diesel::sql_query(q)
        .load::<Line>(&mut c)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[test]
fn migrations_reverse_cleanly() {
    for backend in BACKENDS {
        let db = TestDb::new(backend);
        let mut c = db.raw();
        assert!(scelle::storage::run_migrations(&mut c).unwrap() >= 1);
        let up = schema(&db, backend);
        assert!(up.iter().any(|l| l.contains("log_entries")), "{up:?}");
        scelle::storage::revert_all_migrations(&mut c).unwrap();
        assert_eq!(
            schema(&db, backend),
            Vec::<String>::new(),
            "{backend:?}: down left objects behind"
        );
        scelle::storage::run_migrations(&mut c).unwrap();
        assert_eq!(schema(&db, backend), up);
    }
}

#[test]
fn unknown_database_schemes_are_refused() {
    use scelle::storage::DatabaseUrl;
    assert!(DatabaseUrl::parse("mysql://x").is_err());
    assert!(DatabaseUrl::parse("").is_err());
    assert!(matches!(
        DatabaseUrl::parse("sqlite:///tmp/a.db"),
        Ok(DatabaseUrl::Sqlite(_))
    ));
    assert!(matches!(
        DatabaseUrl::parse("data/a.db"),
        Ok(DatabaseUrl::Sqlite(_))
    ));
    assert!(matches!(
        DatabaseUrl::parse("postgresql://u@h/db"),
        Ok(DatabaseUrl::Postgres(_))
    ));
}
