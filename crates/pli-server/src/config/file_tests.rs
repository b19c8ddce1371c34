//! The configuration file's tests: each key, each refusal, and the order file < flags.

use super::*;

/// The error and its causes, as the binary prints them.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        text.push_str(&format!(": {next}"));
        cause = next.source();
    }
    text
}

fn resolve(text: &str, overrides: Overrides) -> Result<Config, FileError> {
    FileConfig::from_toml(text)?.resolve(overrides, Path::new("/tmp/pli-default"))
}

/// The error of a configuration that must be refused.
fn refused<T>(result: Result<T, FileError>) -> FileError {
    match result {
        Ok(_) => panic!("accepted a configuration that must be refused"),
        Err(err) => err,
    }
}

fn region(name: &str) -> Region {
    Region::parse(name).expect("region")
}

#[test]
fn the_limits_table_sets_each_limit_and_refuses_unknown_keys() {
    let file = FileConfig::from_toml(
        "[limits]\nsends_per_minute = 5\nws_idle_timeout_secs = 7\nmax_connections = 9\n",
    )
    .expect("parses");
    let mut limits = Limits::default();
    file.limits.apply(&mut limits);
    assert_eq!(limits.sends_per_minute, 5);
    assert_eq!(limits.ws_idle_timeout, Duration::from_secs(7));
    assert_eq!(limits.max_connections, 9);
    assert_eq!(
        limits.claims_per_minute,
        Limits::default().claims_per_minute
    );
    assert!(FileConfig::from_toml("[limits]\nsend_per_minute = 5\n").is_err());
}

#[test]
fn region_tables_set_each_policy_and_their_own_databases() {
    let file = FileConfig::from_toml(
        r#"
default_region = "us"
[database]
url = "postgres://pli@db/global"
[regions.eu]
queue_ttl_days = 14
deleted_retention_days = 30
ip_retention_days = 7
recognised_bases = ["court-order", "search-warrant"]
notes = "Operated under the GDPR."
report_bands = false
report_retention_days = 90
[regions.eu.database]
url = "postgres://pli@db-eu/pli"
max_connections = 4
[regions.us.database]
url = "postgres://pli@db-us/pli"
"#,
    )
    .expect("parses");
    let mut config = Config::new("/tmp/pli-test");
    config.database = file.database.resolve(None);
    config.regions = regions(file.regions, vec![region("eu")]).expect("regions");
    config.default_region = file.default_region;
    config.check_regions().expect("valid");
    let names: Vec<&str> = config.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["eu", "us"], "a flag naming a table adds nothing");
    let policy = &config.regions[0].policy;
    assert_eq!(
        (
            policy.queue_ttl_days,
            policy.deleted_retention_days,
            policy.ip_retention_days
        ),
        (14, 30, Some(7))
    );
    assert_eq!(
        policy.recognised_bases,
        [LegalBasis::CourtOrder, LegalBasis::SearchWarrant]
    );
    assert_eq!(policy.notes, "Operated under the GDPR.");
    assert!(!policy.report_bands && config.regions[1].policy.report_bands);
    assert_eq!(
        (
            policy.report_retention_days,
            config.regions[1].policy.report_retention_days
        ),
        (90, 365),
        "set for eu, the default for us"
    );
    let own = config.regions[0]
        .database
        .as_ref()
        .expect("eu's own database");
    assert_eq!(
        (own.url.as_str(), own.max_connections),
        ("postgres://pli@db-eu/pli", 4)
    );
    assert_eq!(config.home_default().as_str(), "us");
    // A region without a database of its own, beside a PostgreSQL global store, is
    // refused: its data would have nowhere to live.
    config.regions.push(RegionConfig::named(region("ru")));
    assert!(config.check_regions().is_err());
    let bad =
        FileConfig::from_toml("[regions.eu]\nrecognised_bases = [\"hearsay\"]\n").expect("parses");
    assert!(
        regions(bad.regions, vec![]).is_err(),
        "an unknown basis is refused"
    );
    assert!(FileConfig::from_toml("[regions.eu]\nqueue_ttl = 3\n").is_err());
    assert!(
        FileConfig::from_toml("[regions.EU]\n").is_err(),
        "names are checked"
    );
}

#[test]
fn the_database_table_selects_postgres_and_sizes_its_pool() {
    let file = FileConfig::from_toml(
        "[database]\nurl = \"postgres://pli@db/pli\"\nmax_connections = 7\nacquire_timeout_secs = 2\n",
    )
    .expect("parses");
    let Database::Postgres(postgres) = file.database.resolve(None) else {
        panic!("a URL selects PostgreSQL");
    };
    assert_eq!(postgres.url, "postgres://pli@db/pli");
    assert_eq!(postgres.max_connections, 7);
    assert_eq!(postgres.acquire_timeout, Duration::from_secs(2));
    let flag = FileDatabase::default().resolve(Some("postgres://other/x".into()));
    assert!(matches!(flag, Database::Postgres(p) if p.url == "postgres://other/x"));
    assert!(matches!(
        FileDatabase::default().resolve(None),
        Database::Sqlite
    ));
    assert!(FileConfig::from_toml("[database]\nmax_conns = 5\n").is_err());
}

#[test]
fn an_unknown_key_is_refused_and_named() {
    let err = refused(FileConfig::from_toml(
        "listen = \"127.0.0.1:1\"\ndatabase_url = \"x\"\n",
    ));
    assert!(matches!(err, FileError::Syntax(_)));
    assert!(chain(&err).contains("database_url"), "{}", chain(&err));
    assert!(FileConfig::from_toml("pow_difficulty = \"high\"\n").is_err());
}

#[test]
fn a_bad_legal_basis_is_refused_naming_the_basis_and_the_region() {
    let err = refused(resolve(
        "[regions.eu]\nrecognised_bases = [\"court-order\", \"hearsay\"]\n",
        Overrides::default(),
    ));
    assert_eq!(
        chain(&err),
        "invalid [regions.eu]: unknown legal basis \"hearsay\""
    );
}

#[test]
fn queue_ttl_days_zero_is_refused() {
    let err = refused(resolve(
        "[regions.eu]\nqueue_ttl_days = 0\n",
        Overrides::default(),
    ));
    assert!(matches!(
        &err,
        FileError::Region { region, source: RegionError::QueueTtl } if region.as_str() == "eu"
    ));
    assert_eq!(
        chain(&err),
        "invalid [regions.eu]: queue_ttl_days must be at least 1"
    );
    let one = resolve("[regions.eu]\nqueue_ttl_days = 1\n", Overrides::default())
        .expect("one day is allowed");
    assert_eq!(one.regions[0].policy.queue_ttl_days, 1);
}

#[test]
fn report_bands_are_set_per_region_and_for_the_implicit_region() {
    let implicit = resolve("report_bands = false\n", Overrides::default()).expect("valid");
    assert!(!implicit.report_bands);
    assert!(!implicit.served_regions()[0].policy.report_bands);
    let default = resolve("", Overrides::default()).expect("valid");
    assert!(
        default.served_regions()[0].policy.report_bands,
        "on by default"
    );
    let regional = resolve(
        "[regions.eu]\nreport_bands = false\n[regions.us]\n",
        Overrides::default(),
    )
    .expect("valid");
    let bands: Vec<(String, bool)> = regional
        .served_regions()
        .into_iter()
        .map(|r| (r.name.as_str().to_owned(), r.policy.report_bands))
        .collect();
    assert_eq!(bands, [("eu".into(), false), ("us".into(), true)]);
}

#[test]
fn the_command_line_overrides_the_file_and_the_file_the_defaults() {
    let file = "data = \"/srv/file\"\npow_difficulty = 12\nregistrations_per_hour = 3\nlog_origin = \"file.example/audit\"\ndefault_region = \"eu\"\n[regions.eu]\n[regions.us]\n";
    let from_file = resolve(file, Overrides::default()).expect("valid");
    assert_eq!(from_file.data_dir, Path::new("/srv/file"));
    assert_eq!(
        (from_file.pow_difficulty, from_file.registrations_per_hour),
        (12, 3)
    );
    assert_eq!(from_file.log_origin, "file.example/audit");
    assert_eq!(from_file.home_default().as_str(), "eu");
    let overridden = resolve(
        file,
        Overrides {
            data: Some("/srv/flag".into()),
            pow_difficulty: Some(8),
            log_origin: Some("flag.example/audit".into()),
            default_region: Some(region("us")),
            regions: vec![region("ap")],
            ..Overrides::default()
        },
    )
    .expect("valid");
    assert_eq!(overridden.data_dir, Path::new("/srv/flag"));
    assert_eq!(
        (overridden.pow_difficulty, overridden.registrations_per_hour),
        (8, 3)
    );
    assert_eq!(overridden.log_origin, "flag.example/audit");
    assert_eq!(overridden.home_default().as_str(), "us");
    let names: Vec<&str> = overridden.regions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["eu", "us", "ap"],
        "the file's tables, then the flags'"
    );
    let defaults = resolve("", Overrides::default()).expect("valid");
    assert_eq!(defaults.data_dir, Path::new("/tmp/pli-default"));
    assert_eq!(defaults.pow_difficulty, Config::DEFAULT_POW_DIFFICULTY);
    assert!(matches!(defaults.database, Database::Sqlite));
    assert!(defaults.tls.is_none() && !defaults.allow_plain_http);
}

#[test]
fn a_database_url_flag_keeps_the_file_s_pool_settings() {
    let config = resolve(
        "[database]\nmax_connections = 3\n",
        Overrides {
            database_url: Some("postgres://flag/pli".into()),
            ..Overrides::default()
        },
    )
    .expect("valid");
    let Database::Postgres(postgres) = config.database else {
        panic!("the flag's URL selects PostgreSQL");
    };
    assert_eq!(
        (postgres.url.as_str(), postgres.max_connections),
        ("postgres://flag/pli", 3)
    );
}

#[test]
fn tls_needs_both_halves_from_either_source() {
    let err = refused(resolve("tls_cert = \"/c.pem\"\n", Overrides::default()));
    assert!(matches!(err, FileError::TlsHalf));
    let config = resolve(
        "tls_cert = \"/c.pem\"\n",
        Overrides {
            tls_key: Some("/k.pem".into()),
            ..Overrides::default()
        },
    )
    .expect("valid");
    let tls = config.tls.expect("TLS");
    assert_eq!(
        (tls.cert_pem.as_path(), tls.key_pem.as_path()),
        (Path::new("/c.pem"), Path::new("/k.pem"))
    );
}

#[test]
fn a_zero_key_directory_interval_is_refused() {
    assert!(matches!(
        resolve("kt_publish_interval = 0\n", Overrides::default()),
        Err(FileError::KtPublishInterval)
    ));
    let zero_flag = Overrides {
        kt_publish_interval: Some(0),
        ..Overrides::default()
    };
    assert!(matches!(
        resolve("kt_publish_interval = 9\n", zero_flag),
        Err(FileError::KtPublishInterval)
    ));
    let config = resolve("kt_publish_interval = 9\n", Overrides::default()).expect("valid");
    assert_eq!(config.kt_publish_interval, Duration::from_secs(9));
}

#[test]
fn proxies_and_witnesses_come_from_the_file_then_the_flags() {
    let flag_proxy = parse_proxy("192.0.2.1").expect("one address");
    let config = resolve(
        "trusted_proxies = [\"10.0.0.0/8\"]\n",
        Overrides {
            trusted_proxies: vec![flag_proxy],
            ..Overrides::default()
        },
    )
    .expect("valid");
    let proxies: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.1/32"]);
    let err = refused(resolve(
        "trusted_proxies = [\"nowhere\"]\n",
        Overrides::default(),
    ));
    assert_eq!(
        chain(&err),
        "\"nowhere\" is not an address or a CIDR network"
    );
    let err = refused(resolve("witnesses = [\"no-plus\"]\n", Overrides::default()));
    assert!(
        chain(&err).starts_with("not a witness key: \"no-plus\": "),
        "{}",
        chain(&err)
    );
}

#[test]
fn an_unknown_default_region_is_refused() {
    let err = refused(resolve(
        "default_region = \"eu\"\n[regions.us]\n",
        Overrides::default(),
    ));
    assert!(matches!(
        err,
        FileError::Regions(ConfigError::UnknownDefaultRegion(_))
    ));
}
