//! "Verify it yourself": the commands that check a report and the log with no account, the
//! log's current checkpoint, and what its witnesses co-signed. A reader should not have to
//! trust this page: everything on it can be checked with `pli audit`.

use super::checkpoint::LogState;
use base64::Engine;
use maud::{Markup, html};
use pli_proto::report::Report;

/// What the section shows.
pub struct Verify<'a> {
    /// This server's address as the reader reached it, or `None` when the request did not
    /// name it plainly (the commands then say `URL`).
    pub server: Option<String>,
    /// The log's public key, base64, as `GET /v1/audit/key` serves it.
    pub key: String,
    pub log: Option<&'a LogState>,
    /// On a report's page: the report and where its signed JSON is.
    pub report: Option<(&'a Report, String)>,
}

/// The signature lines of a signed note: (signer name, base64 signature).
fn signature_lines(note: &str) -> Vec<(&str, &str)> {
    let Some((_, lines)) = note.split_once("\n\n") else {
        return Vec::new();
    };
    lines
        .lines()
        .filter_map(|l| l.strip_prefix("\u{2014} ")?.rsplit_once(' '))
        .collect()
}

/// Seconds since the Unix epoch as `2026-11-23 14:05 UTC`.
fn when(seconds: u64) -> String {
    let (year, month, day) = pli_proto::governance::civil_from_days((seconds / 86_400) as i64);
    let minutes = (seconds % 86_400) / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

pub fn section(verify: &Verify<'_>) -> Markup {
    let server = verify.server.as_deref().unwrap_or("URL");
    let key = &verify.key;
    html! {
        section class="verify" {
            h2 { "Verify it yourself" }
            p {
                "You need no account and no trust in this page. With the " code { "pli" }
                " command-line tool:"
            }
            ol {
                @if verify.report.is_none() {
                    li {
                        "Check a report: its page gives the command that recomputes every "
                        "figure from the log and confirms the report, or names what is wrong."
                    }
                }
                @if let Some((report, href)) = &verify.report {
                    @let file = format!("report-{}.json", report.period.label);
                    li {
                        "Download this report, signed by the log's key: "
                        a href=(href) download=(file) { (file) } "."
                    }
                    li {
                        "Check its signature, verify the audit log, and recompute every figure "
                        "from the log; the command names any figure the log does not support:"
                        pre { code { "pli audit report --server " (server) " --report " (file) " --key " (key) } }
                    }
                }
                li {
                    "Verify the whole log against its signed checkpoints, and keep the newest, "
                    "so that a later run fails if the log's past was ever rewritten:"
                    pre { code { "pli audit verify --server " (server) " --key " (key) } }
                }
            }
            @if verify.server.is_none() {
                p { code { "URL" } " is this server's address." }
            }
            @match verify.log {
                None => { p { "The audit log is empty: it has no checkpoint yet." } }
                Some(log) => { (checkpoint(log)) }
            }
        }
    }
}

fn checkpoint(log: &LogState) -> Markup {
    let signatures = signature_lines(&log.note);
    let origin = log.checkpoint.origin.as_str();
    let own = signatures.iter().find(|(name, _)| *name == origin);
    let cosigners: Vec<&str> = signatures
        .iter()
        .filter(|(name, _)| *name != origin)
        .map(|(name, _)| *name)
        .collect();
    html! {
        h3 { "The log's current checkpoint" }
        dl class="checkpoint" {
            dt { "Origin" } dd { code { (origin) } }
            dt { "Entries (tree size)" } dd { (log.checkpoint.size) }
            dt { "Root hash (hex)" } dd { code { (hex::encode(log.checkpoint.root)) } }
            dt { "Root hash (base64)" } dd { code { (base64::engine::general_purpose::STANDARD.encode(log.checkpoint.root)) } }
            dt { "Signature" } dd { code { (own.map_or("", |(_, s)| *s)) } }
            dt { "Co-signed by" }
            dd {
                @if cosigners.is_empty() { "no witness yet" } @else { (cosigners.join(", ")) }
            }
        }
        details {
            summary { "The checkpoint as a signed note (C2SP), as " code { "/v1/audit/checkpoints" } " serves it" }
            pre { code { (log.note) } }
        }
        h3 { "Witnesses" }
        @if log.witnesses.is_empty() {
            p {
                "This server lists no witness: its checkpoints are signed by the operator "
                "alone. A witness is a party outside the operator that co-signs a checkpoint "
                "only after checking that the log grew append-only."
            }
        } @else {
            p {
                "Parties outside the operator that co-sign a checkpoint only after checking "
                "that the log grew append-only from the last one they co-signed."
            }
            table {
                caption { "The witnesses this server lists" }
                thead { tr {
                    th scope="col" { "Witness" } th scope="col" { "Newest checkpoint co-signed" }
                    th scope="col" { "Key" }
                } }
                tbody {
                    @for witness in &log.witnesses {
                        tr {
                            th scope="row" { (witness.name) }
                            td {
                                @match witness.newest {
                                    Some((size, time)) => { "size " (size) ", " (when(time)) }
                                    None => { "none yet" }
                                }
                            }
                            td { code { (witness.vkey) } }
                        }
                    }
                }
            }
            p {
                "A device can keep only checkpoints a witness co-signed: "
                code { "pli audit require-witness KEY" } "."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_note_lists_its_signers() {
        let note = "o\n3\nAAAA\n\n\u{2014} o SIG1\n\u{2014} w.example SIG2\n";
        assert_eq!(
            super::signature_lines(note),
            [("o", "SIG1"), ("w.example", "SIG2")]
        );
        assert_eq!(super::when(86_400 + 3_600 + 60), "1970-01-02 01:01 UTC");
    }
}
