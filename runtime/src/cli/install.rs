//! `executor install`, `uninstall` and `service status`: the service as a
//! user service that starts at login and comes back after a crash: a
//! systemd user unit on Linux, a launchd agent on macOS. Where neither is
//! there (a container, a session without a systemd user manager), install
//! starts a detached background process instead and says that it will not
//! survive a reboot.
//!
//! `EXECUTOR_SERVICE_MANAGER=systemd|launchd|none` overrides detection.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};

use crate::home::Home;
use crate::service;

const UNIT: &str = "executor.service";
const LABEL: &str = "dev.executor.service";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Systemd,
    Launchd,
    /// No service manager: a detached background process.
    None,
}

impl Manager {
    pub fn detect() -> anyhow::Result<Manager> {
        match std::env::var("EXECUTOR_SERVICE_MANAGER").as_deref() {
            Ok("systemd") => return Ok(Manager::Systemd),
            Ok("launchd") => return Ok(Manager::Launchd),
            Ok("none") => return Ok(Manager::None),
            Ok(other) => bail!(
                "EXECUTOR_SERVICE_MANAGER={other:?}: use systemd, launchd or none (or leave it unset to detect)"
            ),
            Err(_) => {}
        }
        if cfg!(target_os = "macos") {
            return Ok(Manager::Launchd);
        }
        // A systemd user manager answers on its bus; `systemctl` alone is
        // not enough (containers often have the binary and no manager).
        let user_manager = Command::new("systemctl")
            .args(["--user", "show-environment"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Ok(if user_manager {
            Manager::Systemd
        } else {
            Manager::None
        })
    }

    fn name(self) -> &'static str {
        match self {
            Manager::Systemd => "systemd (user unit)",
            Manager::Launchd => "launchd (user agent)",
            Manager::None => "none (a detached background process)",
        }
    }
}

/// The path this program was started by, not resolved through symlinks:
/// a unit that names `~/.cargo/bin/executor` or a package manager's link
/// keeps working after an upgrade, where the resolved, versioned path would
/// not. Falls back to the resolved path.
pub fn invoked_path() -> anyhow::Result<PathBuf> {
    let resolved = || std::env::current_exe().context("cannot tell where this program is");
    let Some(argv0) = std::env::args_os().next().map(PathBuf::from) else {
        return resolved();
    };
    let found = if argv0.components().count() > 1 {
        std::path::absolute(&argv0).ok()
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(&argv0))
                .find(|candidate| candidate.is_file())
        })
    };
    match found {
        Some(path) if path.is_file() => Ok(path),
        _ => resolved(),
    }
}

/// What the service is started with.
pub struct Plan {
    pub exe: PathBuf,
    pub home: PathBuf,
    pub host: std::net::IpAddr,
    pub port: u16,
}

impl Plan {
    fn args(&self) -> Vec<String> {
        vec![
            "daemon".into(),
            "run".into(),
            "--host".into(),
            self.host.to_string(),
            "--port".into(),
            self.port.to_string(),
        ]
    }
}

/// The systemd user unit.
pub fn systemd_unit(plan: &Plan) -> String {
    // systemd splits ExecStart on spaces unless a word is quoted, and
    // expands `%` specifiers everywhere (`%%` is a literal `%`).
    let quote = |word: &str| {
        let word = word.replace('%', "%%");
        if word.contains([' ', '"', '\\', '\'']) {
            format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            word
        }
    };
    let exec: Vec<String> = std::iter::once(plan.exe.display().to_string())
        .chain(plan.args())
        .map(|w| quote(&w))
        .collect();
    format!(
        "[Unit]
Description=executor: one local runtime between agents and the APIs they use

[Service]
Type=simple
ExecStart={exec}
Environment={env}
Restart=on-failure
RestartSec=2

[Install]
WantedBy=default.target
",
        exec = exec.join(" "),
        env = quote(&format!("EXECUTOR_HOME={}", plan.home.display())),
    )
}

/// The launchd agent.
pub fn launchd_plist(plan: &Plan) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let args: String = std::iter::once(plan.exe.display().to_string())
        .chain(plan.args())
        .map(|a| format!("    <string>{}</string>\n", escape(&a)))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{LABEL}</string>
  <key>ProgramArguments</key>
  <array>
{args}  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>EXECUTOR_HOME</key>
    <string>{home}</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>StandardErrorPath</key>
  <string>{log}</string>
</dict>
</plist>
"#,
        home = escape(&plan.home.display().to_string()),
        log = escape(&plan.home.join("service.log").display().to_string()),
    )
}

fn unit_path(manager: Manager) -> anyhow::Result<Option<PathBuf>> {
    let user_home = || {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .context("HOME is not set")
    };
    Ok(match manager {
        Manager::Systemd => {
            let config = match std::env::var_os("XDG_CONFIG_HOME") {
                Some(dir) => PathBuf::from(dir),
                None => user_home()?.join(".config"),
            };
            Some(config.join("systemd/user").join(UNIT))
        }
        Manager::Launchd => Some(
            user_home()?
                .join("Library/LaunchAgents")
                .join(format!("{LABEL}.plist")),
        ),
        Manager::None => None,
    })
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Writes `text` to `path` (atomically: a service manager never reads half
/// a unit) unless it is there already; whether it changed.
fn write_if_changed(path: &Path, text: &str) -> anyhow::Result<bool> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::files::write_atomically(path, text.as_bytes())?;
    Ok(true)
}

pub async fn install(home: &Home, plan: Plan, print: bool) -> anyhow::Result<ExitCode> {
    let manager = Manager::detect()?;
    if print {
        match manager {
            Manager::Launchd => print!("{}", launchd_plist(&plan)),
            _ => print!("{}", systemd_unit(&plan)),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let http = reqwest::Client::new();
    match manager {
        Manager::Systemd => {
            let path = unit_path(manager)?.context("no unit path")?;
            let changed = write_if_changed(&path, &systemd_unit(&plan))?;
            // A service started by hand would hold the port.
            if !systemd_active() {
                service::stop(home, &http).await?;
            }
            run("systemctl", &["--user", "daemon-reload"])?;
            run("systemctl", &["--user", "enable", UNIT])?;
            let verb = if changed { "restart" } else { "start" };
            run("systemctl", &["--user", verb, UNIT])?;
            println!(
                "{} {} and started it: executor now starts at login and restarts after a crash",
                if changed {
                    "installed"
                } else {
                    "already installed:"
                },
                path.display()
            );
        }
        Manager::Launchd => {
            let path = unit_path(manager)?.context("no agent path")?;
            let changed = write_if_changed(&path, &launchd_plist(&plan))?;
            let domain = format!("gui/{}", user_id()?);
            let target = format!("{domain}/{LABEL}");
            let loaded = run("launchctl", &["print", &target]).is_ok();
            if changed && loaded {
                run("launchctl", &["bootout", &target])?;
            }
            if changed || !loaded {
                service::stop(home, &http).await?;
                // bootout returns before the old job is gone; bootstrap
                // fails (error 5) until it is.
                let path = path.display().to_string();
                let mut tries = 0;
                while let Err(e) = run("launchctl", &["bootstrap", &domain, &path]) {
                    tries += 1;
                    if tries == 10 {
                        return Err(e);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
            }
            println!(
                "{} {}: executor now starts at login and restarts after a crash",
                if changed {
                    "installed"
                } else {
                    "already installed:"
                },
                path.display()
            );
        }
        Manager::None => {
            let running = service::running(home, &http).await;
            let already = running.is_some();
            let info = match running {
                Some(info) => info,
                None => service::start_background(home, &http, plan.host, plan.port).await?,
            };
            std::fs::write(home.dir.join("installed"), "none\n")?;
            eprintln!(
                "executor: no service manager here (no systemd user manager or launchd): {} executor as a detached background process instead. It will not start again after a reboot; run `executor install` again then.",
                if already { "keeping" } else { "started" }
            );
            println!("running at {} (pid {})", info.url, info.pid);
            return Ok(ExitCode::SUCCESS);
        }
    }
    std::fs::write(
        home.dir.join("installed"),
        format!("{manager:?}\n").to_lowercase(),
    )?;
    wait_healthy(home, &http, manager).await
}

/// Waits for the service the manager started to answer.
async fn wait_healthy(
    home: &Home,
    http: &reqwest::Client,
    manager: Manager,
) -> anyhow::Result<ExitCode> {
    for _ in 0..100 {
        if let Some(info) = service::running(home, http).await {
            println!("running at {} (pid {})", info.url, info.pid);
            return Ok(ExitCode::SUCCESS);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let logs = match manager {
        Manager::Systemd => format!("journalctl --user -u {UNIT}"),
        _ => home.dir.join("service.log").display().to_string(),
    };
    bail!("the service manager started executor but it does not answer; see {logs}")
}

fn systemd_active() -> bool {
    Command::new("systemctl")
        .args(["--user", "is-active", "--quiet", UNIT])
        .status()
        .is_ok_and(|s| s.success())
}

/// The user id, for launchd's `gui/<uid>` domain.
fn user_id() -> anyhow::Result<String> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("cannot run `id -u` for the user id")?;
    let uid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || uid.is_empty() {
        bail!("`id -u` gave no user id");
    }
    Ok(uid)
}

pub async fn uninstall(home: &Home) -> anyhow::Result<ExitCode> {
    let manager = Manager::detect()?;
    let http = reqwest::Client::new();
    match manager {
        Manager::Systemd => {
            let path = unit_path(manager)?.context("no unit path")?;
            if path.exists() {
                let _ = run("systemctl", &["--user", "disable", "--now", UNIT]);
                std::fs::remove_file(&path)?;
                run("systemctl", &["--user", "daemon-reload"])?;
                println!("removed {}", path.display());
            }
        }
        Manager::Launchd => {
            let path = unit_path(manager)?.context("no agent path")?;
            if path.exists() {
                let target = format!("gui/{}/{LABEL}", user_id()?);
                let _ = run("launchctl", &["bootout", &target]);
                std::fs::remove_file(&path)?;
                println!("removed {}", path.display());
            }
        }
        Manager::None => {}
    }
    let _ = std::fs::remove_file(home.dir.join("installed"));
    if service::stop(home, &http).await? {
        println!("stopped the service");
    }
    println!(
        "executor is no longer installed (your sources, connections and policies stay in {})",
        home.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn status(home: &Home) -> anyhow::Result<ExitCode> {
    let manager = Manager::detect()?;
    let installed = std::fs::read_to_string(home.dir.join("installed")).ok();
    println!("service manager: {}", manager.name());
    match (unit_path(manager)?, installed.as_deref().map(str::trim)) {
        (Some(path), _) if path.exists() => println!("installed: yes ({})", path.display()),
        (_, Some("none")) if manager == Manager::None => {
            println!("installed: as a background process (not started again after a reboot)")
        }
        (_, Some(other)) if other != "none" => println!(
            "installed: for {other}, which does not answer in this session (e.g. no systemd user manager over SSH)"
        ),
        _ => println!("installed: no (run `executor install`)"),
    }
    match service::running(home, &reqwest::Client::new()).await {
        Some(info) => {
            println!(
                "running: yes, at {} (pid {}, version {})",
                info.url, info.pid, info.version
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            println!("running: no");
            Ok(ExitCode::from(crate::cli::EXIT_FAILURE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(exe: &str) -> Plan {
        Plan {
            exe: PathBuf::from(exe),
            home: PathBuf::from("/home/me/.executor"),
            host: "127.0.0.1".parse().unwrap(),
            port: 4788,
        }
    }

    #[test]
    fn the_unit_runs_the_daemon_with_its_home_and_quotes_spaces() {
        let unit = systemd_unit(&plan("/opt/my tools/executor"));
        assert!(unit.contains(
            "ExecStart=\"/opt/my tools/executor\" daemon run --host 127.0.0.1 --port 4788\n"
        ));
        assert!(unit.contains("Environment=EXECUTOR_HOME=/home/me/.executor\n"));
        assert!(unit.contains("Restart=on-failure"));
        assert!(unit.contains("WantedBy=default.target"));
    }

    #[test]
    fn percent_signs_are_not_specifiers() {
        let unit = systemd_unit(&plan("/opt/100%/executor"));
        assert!(
            unit.contains("ExecStart=/opt/100%%/executor daemon run"),
            "{unit}"
        );
    }

    #[test]
    fn the_plist_lists_each_argument() {
        let plist = launchd_plist(&plan("/usr/local/bin/executor"));
        assert!(
            plist.contains("<string>/usr/local/bin/executor</string>\n    <string>daemon</string>")
        );
        assert!(plist.contains("<key>RunAtLoad</key>"));
    }
}
