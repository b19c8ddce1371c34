//! `attachments`: one device uploads files for another, which downloads them, as
//! ciphertext chunks over the attachment API (what the server sees of a file; the devices'
//! AES-GCM is left out, as the delivery scenario leaves MLS out). The figures are upload
//! and download throughput for 1 MiB and 50 MiB files, and, for a server this run
//! started, how much its resident memory grew during a 50 MiB upload: chunks are streamed
//! to the blob store one at a time, so it should not grow with the file.

use crate::device::{Device, run_prefix};
use crate::outcome::{Outcome, percentiles};
use crate::{BenchError, Options, Target, progress, sender};
use pli_proto::attachment::{CreateAttachmentRequest, chunk_count, chunk_len};
use std::time::Instant;

/// (file size, files of it per run).
const FILES: [(u64, usize); 2] = [(1 << 20, 20), (50 << 20, 3)];

pub async fn run(
    options: &Options,
    target: &Target,
    bars: &indicatif::MultiProgress,
) -> Result<Vec<Outcome>, BenchError> {
    let setup = progress::bar(bars, 2, "attachments: registering");
    let devices = Device::register_many(&target.urls(), &run_prefix(), 2, false, &setup).await?;
    setup.finish_and_clear();
    let (uploader, recipient) = (&devices[0], &devices[1]);
    let recipient_device = recipient.transport.self_device().await?.device_id;
    let mut outcomes = Vec::new();
    for (size, count) in FILES {
        let count = options.messages.unwrap_or(count).max(1);
        let label = format!("{} MiB", size >> 20);
        let bar = progress::bar(bars, count as u64, &format!("attachments: {label}"));
        let cipher = pli_proto::attachment::cipher_len(size);
        let chunks = chunk_count(cipher);
        let mut up = sender::histogram();
        let mut down = sender::histogram();
        let (mut up_secs, mut down_secs) = (0.0, 0.0);
        let mut peak_growth = None::<u64>;
        for _ in 0..count {
            let created = uploader
                .transport
                .create_attachment(&CreateAttachmentRequest {
                    size: cipher,
                    recipients: vec![recipient_device],
                    expires_in_secs: None,
                })
                .await?;
            let before = target.rss_bytes();
            let started = Instant::now();
            for index in 0..chunks {
                let len = chunk_len(cipher, index).unwrap_or_default();
                uploader
                    .transport
                    .put_attachment_chunk(&created.id, index, noise(len, index))
                    .await?;
                if let (Some(before), Some(now)) = (before, target.rss_bytes()) {
                    let growth = now.saturating_sub(before);
                    peak_growth = Some(peak_growth.unwrap_or(0).max(growth));
                }
            }
            let took = started.elapsed();
            up_secs += took.as_secs_f64();
            let _ = up.record(took.as_micros() as u64);
            let started = Instant::now();
            let mut got = 0u64;
            for index in 0..chunks {
                got += recipient
                    .transport
                    .attachment_chunk(&created.id, index)
                    .await?
                    .len() as u64;
            }
            let took = started.elapsed();
            down_secs += took.as_secs_f64();
            let _ = down.record(took.as_micros() as u64);
            if got != cipher {
                return Err(BenchError::Server(format!(
                    "downloaded {got} bytes of a {cipher}-byte attachment"
                )));
            }
            recipient.transport.attachment_fetched(&created.id).await?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let mib = (cipher as f64 * count as f64) / f64::from(1 << 20);
        for (direction, histogram, seconds) in
            [("upload", &up, up_secs), ("download", &down, down_secs)]
        {
            let (p50_ms, p99_ms, max_ms) = percentiles(histogram);
            outcomes.push(Outcome {
                scenario: "attachments",
                variant: format!("{label} {direction}"),
                devices: 2,
                messages: count as u64,
                deliveries: count as u64,
                msgs_per_sec: mib / seconds.max(1e-9),
                p50_ms,
                p99_ms,
                max_ms,
                lost: 0,
                duplicated: 0,
                refused: 0,
                refusal: None,
                rss_bytes_per_conn: None,
                rss_growth_bytes: (direction == "upload").then_some(peak_growth).flatten(),
                seconds,
                latency_of: "one whole file, chunk by chunk (per second: MiB)",
            });
        }
    }
    Ok(outcomes)
}

/// A chunk's worth of bytes that do not compress (as ciphertext does not).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
