//! A throwaway PostgreSQL cluster from Debian's `postgresql` package
//! (tests/run.sh installs it when missing): `initdb` into a temporary
//! folder, `postgres` on a free loopback port, trust authentication for
//! the one superuser `executor`. Run as an unprivileged user (`nobody`)
//! when the tests run as root, as PostgreSQL refuses root. Dropping it
//! stops the server and removes the folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Cluster {
    server: Child,
    dir: PathBuf,
    pub port: u16,
}

/// The newest installed PostgreSQL's programs (`PG_BIN` overrides).
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (Debian's postgresql; tests/run.sh installs it)")
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
        .1
}

fn is_root() -> bool {
    // The owner of a file this process just made.
    let probe = tempfile::NamedTempFile::new().unwrap();
    std::os::unix::fs::MetadataExt::uid(&probe.as_file().metadata().unwrap()) == 0
}

/// `program` with `args`, as `nobody` when this process is root, killed
/// when the thread that started it ends (util-linux `setpriv`), so that no
/// server outlives its test.
fn command(program: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    if is_root() {
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
    }
    c.args(["--pdeathsig=KILL", "--"]).arg(program).args(args);
    c
}

/// The cluster a whole test process shares when `EXECUTOR_TEST_STORE` is
/// `postgres` (tests/run.sh runs the behaviour tests again that way):
/// started on first use from a thread that lives as long as the process,
/// so the server ends with it. Folders of earlier processes that are gone
/// are removed first.
pub fn shared() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        for entry in std::fs::read_dir(std::env::temp_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("executor-pg-")
                .and_then(|rest| rest.split('-').next())
            else {
                continue;
            };
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let cluster = Cluster::start();
            sender.send(cluster.url("postgres")).unwrap();
            // Holds the cluster (and the server's parent thread) until the
            // process exits.
            loop {
                std::thread::park();
            }
        });
        receiver.recv().unwrap()
    })
}

/// Every row of every table of the database at `url`, as JSON text.
pub fn dump(url: &str) -> Vec<u8> {
    let url = url.to_owned();
    off_runtime(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let tables: Vec<String> = client
            .query(
                "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = 'public'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(tables.iter().any(|t| t == "sources"), "{tables:?}");
        let mut out = Vec::new();
        for table in tables {
            for row in client
                .query(&format!("SELECT row_to_json(t)::TEXT FROM {table} t"), &[])
                .unwrap()
            {
                out.extend(row.get::<_, String>(0).into_bytes());
                out.push(b'\n');
            }
        }
        out
    })
}

/// A new database on the shared cluster, its URL.
pub fn shared_database() -> String {
    let admin = shared().to_owned();
    let name = format!("t_{}", rand_u64());
    off_runtime(|| {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
    });
    admin.replace("/postgres", &format!("/{name}"))
}

impl Cluster {
    pub fn start() -> Cluster {
        let bin = bin_dir();
        // Not under a 0700 temporary folder: `nobody` must reach it.
        let dir =
            std::env::temp_dir().join(format!("executor-pg-{}-{}", std::process::id(), rand_u64()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown nobody {}", dir.display());
        }
        let data = dir.join("data");
        let out = command(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "executor",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let server = command(
            &bin.join("postgres"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-p",
                &port.to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                &format!("unix_socket_directories={}", dir.display()),
                "-c",
                "fsync=off",
                "-c",
                "max_connections=100",
            ],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
        let cluster = Cluster { server, dir, port };
        let started = Instant::now();
        while off_runtime(|| {
            postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).is_err()
        }) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://executor@127.0.0.1:{}/{database}", self.port)
    }

    /// A new empty database, its URL.
    pub fn database(&self, name: &str) -> String {
        off_runtime(|| {
            let mut admin =
                postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
        });
        self.url(name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGTERM would wait for clients; a fast stop is what a test wants.
        let _ = Command::new("kill")
            .args(["-INT", &self.server.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.server.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `f` on a thread of its own: the `postgres` crate's blocking client
/// may not run inside a test's async runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rand_u64() -> u128 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) as u128
}
