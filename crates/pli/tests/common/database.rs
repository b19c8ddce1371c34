//! Which database a test server uses: SQLite in its data directory, or with
//! `PLI_TEST_DATABASE=postgres` a throwaway PostgreSQL database recorded there.

use std::path::Path;

/// Where a data directory remembers its test database.
const DATABASE_URL_FILE: &str = "test-database-url";

/// True when the suite runs on PostgreSQL (`PLI_TEST_DATABASE=postgres`; `sqlite` or unset
/// is SQLite, anything else a mistake worth stopping for).
pub fn on_postgres() -> bool {
    match std::env::var("PLI_TEST_DATABASE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("PLI_TEST_DATABASE={other:?}: use postgres or sqlite"),
    }
}

/// The database a server on `data` uses: SQLite in the directory, or (on PostgreSQL) the
/// database recorded there, created on first use.
pub fn database_for(data: &Path) -> pli_server::Database {
    let recorded = data.join(DATABASE_URL_FILE);
    let url = match std::fs::read_to_string(&recorded) {
        Ok(url) => url,
        Err(_) if on_postgres() => {
            let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
            std::fs::create_dir_all(data).expect("data dir");
            std::fs::write(&recorded, &url).expect("record the database URL");
            url
        }
        Err(_) => return pli_server::Database::Sqlite,
    };
    let mut postgres = pli_server::store::PostgresConfig::new(url);
    postgres.max_connections = 8;
    pli_server::Database::Postgres(postgres)
}

/// Regions named `names` with default policies, each with its own store: a file under
/// `data` on SQLite, a throwaway database each on PostgreSQL (its URL recorded in `data`,
/// so a restart finds the same one).
pub fn test_regions(data: &Path, names: &[&str]) -> Vec<pli_server::config::RegionConfig> {
    names
        .iter()
        .map(|name| {
            let region = pli_proto::Region::parse(name).expect("valid test region");
            let mut config = pli_server::config::RegionConfig::named(region);
            if let pli_server::Database::Postgres(mut own) =
                database_for(&data.join("test-regions").join(name))
            {
                own.max_connections = 4;
                config.database = Some(own);
            }
            config
        })
        .collect()
}

/// A test configuration on `data`: the chosen database, easy proof of work.
pub fn test_config(data: &Path) -> pli_server::Config {
    let mut config = pli_server::Config::new(data);
    config.database = database_for(data);
    config.pow_difficulty = 4;
    config.registrations_per_hour = 10_000;
    config
}

/// Points the data directory at an existing PostgreSQL database (several nodes, one
/// database).
pub fn share_database(data: &Path, url: &str) {
    std::fs::create_dir_all(data).expect("data dir");
    std::fs::write(data.join(DATABASE_URL_FILE), url).expect("record the database URL");
}
