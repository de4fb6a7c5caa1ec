//! Issue 17's figures on the release binary, with GitHub, Stripe,
//! Kubernetes and OpenAI added (about 3,100 tools): the time and service
//! peak of each add, idle memory after a restart, the first MCP listing
//! after a restart and after an add, and memory after listing everything
//! and 1,000 calls. `cargo bench --bench invoke -- scale`.
//!
//! Memory is read from `/proc/<pid>/status` of the service: `VmRSS` (now)
//! and `VmHWM` (the peak since it started).

use super::*;

/// `(VmRSS, VmHWM)` of a process, in MiB.
pub fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Lists every tool over `/mcp?tools=all` and prints the table row.
async fn list_row(url: &str, token: &str, label: &str) {
    let listing = list_all(url, token, "all").await;
    println!(
        "| {label} | {} | {} | {} |",
        ms(listing.first_page),
        ms(listing.whole),
        listing.tools
    );
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub async fn scale_bench() {
    let (_upstream, home, mut child, url, token) = bench_source().await;
    let http = reqwest::Client::new();
    let (rss, _) = memory(child.id());
    println!("## issue 17: four specs\n");
    println!("service started, one small source: RSS {rss:.1} MiB\n");
    println!("| add (in this order) | time | service RSS after | service peak so far |");
    println!("|---|---|---|---|");
    for (namespace, file) in FOUR_SPECS {
        // The add alone: parsed, validated, normalised, stored, indexed and
        // servable when it answers. The allow rule comes after.
        let started = Instant::now();
        post_ok(
            &http,
            &format!("{url}/api/tools/invoke/executor.openapi.addSource"),
            &token,
            &famous_spec(namespace, file),
        )
        .await;
        let took = started.elapsed();
        let rule = json!({"pattern": format!("{namespace}.*"), "action": "allow"});
        post_ok(&http, &format!("{url}/api/policies"), &token, &rule).await;
        let (rss, peak) = memory(child.id());
        println!(
            "| {namespace} | {} | {rss:.1} MiB | {peak:.1} MiB |",
            ms(took)
        );
    }
    println!();
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, url, token) = start_service_in(home.path());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle, _) = memory(child.id());
    println!("after a restart, idle: RSS {idle:.1} MiB\n");
    println!(
        "| `tools/list` over `/mcp?tools=all`, every page | first page | whole catalog | tools |"
    );
    println!("|---|---|---|---|");
    list_row(&url, &token, "first listing after a restart").await;
    list_row(&url, &token, "warm").await;
    let (listed, _) = memory(child.id());

    // 1,000 calls of the bench source's tool over MCP.
    let mut mcp = McpHttp::connect(&format!("{url}/mcp?tools=all"), Some(&token)).await;
    let mut took = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let started = Instant::now();
        let answer = mcp
            .request(
                "tools/call",
                json!({"name": "bench.org.main.items.getItem", "arguments": {"id": 1}}),
            )
            .await;
        took.push(started.elapsed());
        assert_eq!(answer["result"]["isError"], false, "{answer}");
    }
    took.sort();
    let (called, peak) = memory(child.id());
    // mimalloc gives freed memory back a little after it is freed.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (settled, _) = memory(child.id());

    // A source added, then the first listing of the new catalog.
    add_source(
        &http,
        &url,
        &token,
        "executor.openapi.addSource",
        famous_spec("oxide", "oxide-nexus.json"),
    )
    .await;
    list_row(&url, &token, "first listing after adding a source (Oxide)").await;
    println!();
    println!("| service memory | RSS |");
    println!("|---|---|");
    println!("| idle after a restart | {idle:.1} MiB |");
    println!("| after listing every tool twice | {listed:.1} MiB |");
    println!(
        "| after 1,000 MCP `tools/call`s too (p50 {}) | {called:.1} MiB (peak so far {peak:.1} MiB) |",
        us(took[took.len() / 2])
    );
    println!("| the same, 5 s later | {settled:.1} MiB |");
    println!();
    let _ = child.kill();
    let _ = child.wait();
}
