//! `pli bench` end to end, in a small size: against a server it starts itself and against
//! a running one. Figures are printed, never asserted (timing belongs in BENCHMARKS.md);
//! what is asserted is that every accepted message was delivered exactly once and the
//! output has the promised shape.

mod common;

use common::TestServer;
use serde_json::Value;

async fn bench(args: &[&str]) -> (bool, Vec<Value>, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_pli"))
        .arg("bench")
        .args(args)
        .output()
        .await
        .expect("run pli bench");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let rows = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (output.status.success(), rows, stderr)
}

fn number(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {row}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_delivers_everything_it_accepted_on_a_server_it_starts() {
    let (ok, rows, stderr) = bench(&[
        "--json",
        "--scenario",
        "delivery,fanout,idle",
        "--users",
        "6",
        "--messages",
        "60",
        "--window",
        "4",
    ])
    .await;
    assert!(ok, "{stderr}");
    let scenarios: Vec<&str> = rows.iter().filter_map(|r| r["scenario"].as_str()).collect();
    assert_eq!(scenarios, ["delivery", "fanout", "fanout", "idle"]);
    for row in &rows {
        for key in ["msgs_per_sec", "p50_ms", "p99_ms"] {
            number(row, key);
        }
        assert_eq!(number(row, "lost"), 0.0, "{row}");
        assert_eq!(number(row, "duplicated"), 0.0, "{row}");
        assert_eq!(number(row, "refused"), 0.0, "{row}");
    }
    // 3 pairs, 60 messages: each accepted message delivered once.
    let delivery = &rows[0];
    assert_eq!(number(delivery, "messages"), 60.0);
    assert_eq!(number(delivery, "deliveries"), 60.0);
    assert!(number(delivery, "msgs_per_sec") > 0.0);
    // A group of 6: each of 60 messages into 6 queues, then 60 more pushed to 6 sockets.
    for fanout in &rows[1..3] {
        assert_eq!(number(fanout, "messages"), 60.0, "{fanout}");
        assert_eq!(number(fanout, "deliveries"), 360.0, "{fanout}");
    }
    // The server is a child process, so its memory per connection is known.
    assert!(
        rows[3]["rss_bytes_per_conn"].as_u64().is_some(),
        "{}",
        rows[3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_runs_against_a_running_server_and_refuses_unknown_scenarios() {
    let server = TestServer::start().await;
    let (ok, rows, stderr) = bench(&[
        "--json",
        "--server",
        &server.url,
        "--scenario",
        "delivery,idle",
        "--users",
        "4",
        "--messages",
        "20",
        "--window",
        "2",
    ])
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(number(&rows[0], "deliveries"), 20.0);
    // Not our process: no memory figure rather than a wrong one.
    assert!(rows[1].get("rss_bytes_per_conn").is_none(), "{}", rows[1]);

    let (ok, _, stderr) = bench(&["--scenario", "nonsense"]).await;
    assert!(!ok && stderr.contains("unknown scenario"), "{stderr}");
    // Key transparency: every lookup's proof verified, with its latency.
    let (ok, rows, stderr) = bench(&[
        "--json",
        "--server",
        &server.url,
        "--scenario",
        "kt",
        "--users",
        "3",
        "--messages",
        "12",
    ])
    .await;
    assert!(ok, "{stderr}");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["scenario"], "kt");
    assert_eq!(number(&rows[0], "messages"), 12.0);
    assert!(number(&rows[0], "p50_ms") > 0.0, "{}", rows[0]);
    assert_eq!(number(&rows[0], "lost"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attachments_scenario_moves_whole_files_and_reads_the_servers_memory() {
    let (ok, rows, stderr) =
        bench(&["--json", "--scenario", "attachments", "--messages", "1"]).await;
    assert!(ok, "{stderr}");
    let variants: Vec<&str> = rows.iter().filter_map(|r| r["variant"].as_str()).collect();
    assert_eq!(
        variants,
        [
            "1 MiB upload",
            "1 MiB download",
            "50 MiB upload",
            "50 MiB download"
        ]
    );
    for row in &rows {
        assert_eq!(row["scenario"], "attachments");
        assert_eq!(number(row, "messages"), 1.0, "{row}");
        assert!(number(row, "msgs_per_sec") > 0.0, "{row}");
    }
    // A server this run started: its memory during each upload is known.
    assert!(
        rows[2]["rss_growth_bytes"].as_u64().is_some(),
        "{}",
        rows[2]
    );
    assert!(rows[3].get("rss_growth_bytes").is_none(), "{}", rows[3]);
}
