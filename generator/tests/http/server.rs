//! Starting and stopping the servers the suite runs against.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const OFFICE_TOKEN: &str = "suite-office-token-0123456789";

pub struct Server {
    pub base: String,
    child: Child,
    _data: tempfile::TempDir,
}

impl Server {
    /// The folder where the server keeps its state (to check it for plaintext).
    pub fn state(&self) -> &Path {
        self._data.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until_up(base: &str, child: &mut Child, timeout: Duration) {
    let started = Instant::now();
    let client = super::Client::new(base);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server at {base} exited early: {status}");
        }
        let up = client.try_status("/") == Some(200);
        if up {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "the server at {base} did not answer within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `lotse serve` on the example region with a fresh data folder.
pub fn lotse_serve(rate_limit: u32) -> Server {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .args([
            "serve",
            "--content",
            "content",
            "--port",
            &port.to_string(),
            "--data",
        ])
        .arg(data.path())
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .env("LOTSE_RATE_LIMIT", rate_limit.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lotse serve starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base, &mut child, Duration::from_secs(60));
    Server {
        base,
        child,
        _data: data,
    }
}
