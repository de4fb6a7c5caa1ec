//! Three executor replicas on one PostgreSQL database behind Debian's
//! nginx, configured by `deploy/nginx.conf` itself (its ports rewritten):
//! a source added through one replica is callable through the balancer on
//! every replica within a second; a web UI sign-in through one replica
//! holds on all; an MCP session (the official SDK client) stays on the
//! replica that holds it, and stateless MCP requests are answered by any;
//! a replica SIGKILLed under a
//! steady load of calls loses only the calls in flight on it, and nothing
//! stored.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::postgres::Cluster;
use support::service::{Service, http, sdk, start_recording_upstream};

struct Nginx {
    child: Child,
    url: String,
}

impl Drop for Nginx {
    /// SIGTERM, so that the master stops its workers (after a SIGKILL they
    /// would live on, holding the port).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// `deploy/nginx.conf` with its replicas' ports and its own replaced, run
/// in the foreground with its files in `dir`.
async fn nginx(dir: &Path, replicas: &[Service], port: u16) -> Nginx {
    let mut conf = std::fs::read_to_string(support::repo_root().join("deploy/nginx.conf")).unwrap();
    for (default, replica) in ["4788", "4789", "4790"].iter().zip(replicas) {
        conf = conf.replace(
            &format!("127.0.0.1:{default}"),
            &format!("127.0.0.1:{}", port_of(&replica.url)),
        );
    }
    conf = conf.replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let file = dir.join("nginx.conf");
    std::fs::write(&file, conf).unwrap();
    // Debian puts it in /usr/sbin, not always on a user's PATH.
    let program = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nginx");
    let child = Command::new(program)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("logs/error.log"))
        .arg("-c")
        .arg(&file)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .expect("Debian's nginx (tests/run.sh installs it)");
    let nginx = Nginx {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while !http()
        .get(format!("{}/api/health", nginx.url))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}{}",
            std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default(),
            std::fs::read_to_string(dir.join("logs/error.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nginx
}

/// A tool call through the balancer: the status and the body (`None` when
/// the body is not an envelope, as nginx's own 502 page).
async fn call(url: &str, token: &str, tool: &str, input: Value) -> (u16, Option<Value>) {
    let response = http()
        .post(format!("{url}/api/tools/invoke/{tool}"))
        .bearer_auth(token)
        .json(&input)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_nginx_share_one_database() {
    let cluster = Cluster::start();
    let url = cluster.database("replicas");
    let shared = tempfile::tempdir().unwrap();
    let files = |name: &str| shared.path().join(name).display().to_string();
    let (key, token, mcp_token) = (files("secret.key"), files("token"), files("mcp-token"));
    let homes: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (upstream, seen) = start_recording_upstream().await;
    // The balancer's address, which the replicas must allow as `Host`.
    let lb_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let lb_host = format!("127.0.0.1:{lb_port}");
    let names = ["a", "b", "c"];
    let replicas: Vec<Service> = homes
        .iter()
        .zip(names)
        .map(|(home, name)| {
            Service::start_with_env(
                home.path(),
                &[
                    ("EXECUTOR_DATABASE_URL", url.as_str()),
                    ("EXECUTOR_SECRET_KEY_FILE", key.as_str()),
                    ("EXECUTOR_TOKEN_FILE", token.as_str()),
                    ("EXECUTOR_MCP_TOKEN_FILE", mcp_token.as_str()),
                    ("EXECUTOR_REPLICA", name),
                    ("EXECUTOR_ALLOWED_HOSTS", lb_host.as_str()),
                ],
            )
        })
        .collect();
    assert!(
        replicas.windows(2).all(|w| w[0].token == w[1].token),
        "one token opens every replica"
    );
    let owner = replicas[0].token.clone();
    let dir = tempfile::tempdir().unwrap();
    let balancer = nginx(dir.path(), &replicas, lb_port).await;

    // A source added through replica a is callable on every replica, so
    // through the balancer, within a second.
    replicas[0].add_echo(&upstream).await;
    let added = Instant::now();
    for replica in &replicas {
        loop {
            let (_, read) = replica.invoke("echo.items.getItem", json!({"id": 1})).await;
            if read["ok"] == true {
                break;
            }
            assert!(
                added.elapsed() < Duration::from_secs(1),
                "the source did not reach {} within a second: {read}",
                replica.url
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for _ in 0..6 {
        let (status, body) = call(
            &balancer.url,
            &owner,
            "echo.items.getItem",
            json!({"id": 2}),
        )
        .await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body.unwrap()["ok"], true);
    }
    let ready: Value = http()
        .get(format!("{}/api/ready", balancer.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({"ok": true, "store": "postgres"}));

    // The web UI through the balancer: a login link from one replica signs
    // the browser in on all of them.
    let (_, login) = replicas[1].post("/api/web/login", json!({})).await;
    let link = login["data"]["url"].as_str().unwrap();
    let code = link.split("code=").nth(1).unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = no_redirects
        .get(format!("{}/login?code={code}", balancer.url))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "{:?}", signed_in.text().await);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with(&format!("executor_session_{lb_port}=")),
        "{cookie}"
    );
    for _ in 0..6 {
        let page = no_redirects
            .get(format!("{}/connections", balancer.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "signed in on every replica");
    }

    // An MCP session through the balancer: the official SDK client lists
    // and calls, request after request, on the replica that holds it.
    let steps: Vec<Value> = std::iter::once(json!({"list": true}))
        .chain(
            (0..8).map(|i| json!({"call": "echo.org.main.items.getItem", "arguments": {"id": i}})),
        )
        .collect();
    let mcp_url = format!("{}/mcp", balancer.url);
    let mcp_token_value = replicas[0].mcp_token.clone();
    let out = tokio::task::spawn_blocking(move || {
        sdk(&mcp_url, &mcp_token_value, "none", Value::Array(steps))
    })
    .await
    .unwrap();
    let results = out["results"].as_array().unwrap();
    assert!(results[0]["tools"].as_array().unwrap().len() > 12, "{out}");
    for result in &results[1..] {
        assert_eq!(result["isError"], false, "{result}");
    }

    // Stateless MCP (2026-07-28) through the balancer: every request may
    // reach another replica, and each answers.
    let stateless =
        support::service::stateless_client((), &balancer.url, "/mcp", &replicas[0].mcp_token).await;
    assert_eq!(
        stateless.peer().peer_info().unwrap().protocol_version,
        rmcp::model::ProtocolVersion::V_2026_07_28
    );
    for id in 0..6 {
        let arguments = json!({"id": id}).as_object().unwrap().clone();
        let result = stateless
            .peer()
            .call_tool(
                rmcp::model::CallToolRequestParams::new("echo.org.main.items.getItem")
                    .with_arguments(arguments),
            )
            .await
            .unwrap();
        assert_eq!(
            result.structured_content.unwrap()["data"]["path"],
            format!("/v1/items/{id}")
        );
    }
    stateless.cancel().await.unwrap();

    // A steady load of writes (each one a stored pause) through the
    // balancer from four callers; replica c is SIGKILLed in the middle.
    let mut replicas = replicas;
    let victim = replicas.pop().unwrap();
    let started = Instant::now();
    let (kill_at, stop_at) = (Duration::from_millis(400), Duration::from_millis(1200));
    let load = |worker: usize| {
        let url = balancer.url.clone();
        let owner = owner.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let mut i = 0;
            while started.elapsed() < stop_at {
                let sent = started.elapsed();
                let (status, body) = call(
                    &url,
                    &owner,
                    "echo.items.createItem",
                    json!({"name": format!("load-{worker}-{i}")}),
                )
                .await;
                let paused = body
                    .as_ref()
                    .and_then(|b| b["error"]["executionId"].as_str().map(str::to_owned));
                outcomes.push((sent, status, paused));
                i += 1;
            }
            outcomes
        })
    };
    let workers: Vec<_> = (0..4).map(load).collect();
    tokio::time::sleep(kill_at).await;
    victim.kill();
    let mut paused_ids = Vec::new();
    let (mut failed, mut before, mut after) = (0, 0, 0);
    for worker in workers {
        for (sent, status, paused) in worker.await.unwrap() {
            match paused {
                Some(id) => {
                    paused_ids.push(id);
                    if sent < kill_at {
                        before += 1;
                    } else {
                        after += 1;
                    }
                }
                None => {
                    failed += 1;
                    assert!(status >= 500, "a failure is the balancer's: {status}");
                }
            }
        }
    }
    // Calls went on before and after the kill; only calls in flight on the
    // killed replica failed: at most one per caller (each waits for its
    // answer before its next call).
    eprintln!("load: {before} paused before the kill, {after} after, {failed} failed");
    assert!(
        before >= 8 && after >= 8,
        "{before} paused before the kill, {after} after"
    );
    assert!(failed <= 4, "{failed} calls failed");
    // Every pause a caller was told about is stored, on every replica.
    for replica in &replicas {
        let (_, listed) = replica.get("/api/executions?state=paused&limit=1000").await;
        let listed: Vec<&str> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["id"].as_str())
            .collect();
        for id in &paused_ids {
            assert!(listed.contains(&id.as_str()), "{id} is lost");
        }
    }
    // Writes pause: none reached the upstream.
    assert!(!seen.lock().unwrap().iter().any(|l| l.starts_with("POST")));
}
