#![allow(dead_code)]
//! Real `innoloan serve` processes, for tests that share a database between processes, kill
//! them, or take their services away.

use std::time::Duration;

/// The secrets key of every test server, in process or not, so that they can share a database.
pub const TEST_SECRETS_KEY: &str = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";

/// A running `innoloan serve`; killed when dropped.
pub struct Server {
    pub child: tokio::process::Child,
    pub address: String,
}

impl Server {
    /// Starts `innoloan serve` on a free port and waits until it answers `/healthz`.
    pub async fn start(database_url: &str, redis_url: Option<&str>, redis_prefix: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self::start_on(port, database_url, redis_url, redis_prefix).await
    }

    /// Starts `innoloan serve` on `port`: a restarted server takes its predecessor's address.
    pub async fn start_on(
        port: u16,
        database_url: &str,
        redis_url: Option<&str>,
        redis_prefix: &str,
    ) -> Server {
        Self::start_with(port, database_url, redis_url, redis_prefix, &[]).await
    }

    /// Like [`Server::start_on`], with more environment variables.
    pub async fn start_with(
        port: u16,
        database_url: &str,
        redis_url: Option<&str>,
        redis_prefix: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_innoloan"));
        command
            .arg("serve")
            .env("SECRETS_KEY", TEST_SECRETS_KEY)
            .env("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
            .env("WEBHOOK_RETRY_SCHEDULE", "1s,1s,1s")
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env("REDIS_KEY_PREFIX", redis_prefix)
            .env_remove("REDIS_URL")
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null());
        command.envs(env.iter().copied());
        if let Some(redis) = redis_url {
            command.env("REDIS_URL", redis);
        }
        let child = command.spawn().expect("the innoloan binary starts");
        let address = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(format!("{address}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Server { child, address };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("innoloan serve did not answer on {address} within 30 s");
    }

    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    /// `kill -9`: no graceful shutdown, no flushing, nothing.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("the server can be killed");
    }
}

/// Says plainly that a test is skipped. Written straight to stderr, past the test harness's
/// output capture, so that it shows in a normal `cargo test` run.
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {reason}");
}
