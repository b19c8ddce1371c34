//! Network pieces a test puts between a client and a server: a TCP proxy that cuts every
//! connection once a byte budget is spent (a dropped network, mid-upload), and a local
//! S3-compatible server (moto) for the blob store's S3 path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback TCP proxy to `upstream`. While a budget is set, the bytes clients send count
/// against it; once it is spent, every connection is cut and new ones are refused until
/// [`CuttingProxy::heal`].
pub struct CuttingProxy {
    pub url: String,
    budget: Arc<AtomicI64>,
    cut: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
}

impl CuttingProxy {
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let budget = Arc::new(AtomicI64::new(i64::MAX));
        let cut = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let (b, c, s) = (budget.clone(), cut.clone(), sent.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                tokio::spawn(pipe(client, server, b.clone(), c.clone(), s.clone()));
            }
        });
        Self {
            url,
            budget,
            cut,
            sent,
        }
    }

    /// Cuts the network once clients have sent `bytes` more.
    pub fn cut_after(&self, bytes: i64) {
        self.budget.store(bytes, Ordering::SeqCst);
    }

    /// Whether the budget ran out and the network is cut.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    /// The network is back, with no budget; the byte count starts over.
    pub fn heal(&self) {
        self.budget.store(i64::MAX, Ordering::SeqCst);
        self.sent.store(0, Ordering::SeqCst);
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Bytes clients sent since the last heal.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

async fn pipe(
    client: TcpStream,
    server: TcpStream,
    budget: Arc<AtomicI64>,
    cut: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let watch = cut.clone();
    let upward = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            if watch.load(Ordering::SeqCst) {
                break;
            }
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let left = budget.fetch_sub(n as i64, Ordering::SeqCst) - n as i64;
            if left < 0 {
                watch.store(true, Ordering::SeqCst);
                break;
            }
            sent.fetch_add(n as u64, Ordering::SeqCst);
            if server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    let downward = async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            if cut.load(Ordering::SeqCst) {
                break;
            }
            let n = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if client_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    // Either direction ending ends both: the connection is cut, as a network drop does.
    tokio::select! {
        () = upward => {}
        () = downward => {}
    }
}

/// A local S3-compatible server (moto, `tests/support/s3_server.py`) with one bucket; it
/// stops when this is dropped.
pub struct S3Server {
    pub endpoint: String,
    pub bucket: String,
    _child: tokio::process::Child,
}

impl S3Server {
    pub async fn start(bucket: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/s3_server.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(bucket)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 for the S3 test server");
        let stdout = child.stdout.take().expect("stdout");
        let port = tokio::io::BufReader::new(stdout)
            .lines()
            .next_line()
            .await
            .expect("read")
            .expect("moto printed its port (is `moto[server]` installed? .ci/run installs it)");
        Self {
            endpoint: format!("http://127.0.0.1:{}", port.trim()),
            bucket: bucket.to_owned(),
            _child: child,
        }
    }

    /// The server configuration's `[blobs]` for this bucket.
    pub fn config(&self) -> pli_server::store::blobs::S3Config {
        pli_server::store::blobs::S3Config {
            bucket: self.bucket.clone(),
            region: Some("us-east-1".into()),
            endpoint: Some(self.endpoint.clone()),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            allow_http: true,
            prefix: Some("pli".into()),
        }
    }

    /// Every object key in the bucket, with its bytes.
    pub async fn objects(&self) -> Vec<(String, Vec<u8>)> {
        use futures_util::TryStreamExt as _;
        use object_store::{ObjectStore as _, ObjectStoreExt as _};
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_region("us-east-1")
            .with_endpoint(&self.endpoint)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_allow_http(true)
            .build()
            .expect("an S3 client");
        let listed: Vec<_> = store.list(None).try_collect().await.expect("list");
        let mut objects = Vec::new();
        for meta in listed {
            let bytes = store
                .get(&meta.location)
                .await
                .expect("get")
                .bytes()
                .await
                .expect("bytes");
            objects.push((meta.location.to_string(), bytes.to_vec()));
        }
        objects
    }
}
