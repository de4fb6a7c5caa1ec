//! `EXECUTOR_HOME` (default `~/.executor`): the database, the access token,
//! the key that encrypts stored secrets, the service's address and its log.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The folder and the files in it.
#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
    /// A PostgreSQL database instead of the SQLite file in `dir`:
    /// `EXECUTOR_DATABASE_URL`, or `--database-url` on the commands that
    /// open the store.
    pub database_url: Option<String>,
}

impl Home {
    /// `EXECUTOR_HOME`, else `~/.executor`.
    pub fn from_env() -> anyhow::Result<Home> {
        let dir = match std::env::var_os("EXECUTOR_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                let home = std::env::var_os("HOME").context(
                    "neither EXECUTOR_HOME nor HOME is set: set EXECUTOR_HOME to the folder for executor's state",
                )?;
                PathBuf::from(home).join(".executor")
            }
        };
        let database_url = std::env::var("EXECUTOR_DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty());
        Ok(Home { dir, database_url })
    }

    /// The same home on the database `url` names, when one is given.
    pub fn with_database_url(mut self, url: Option<String>) -> Home {
        if let Some(url) = url.filter(|u| !u.trim().is_empty()) {
            self.database_url = Some(url);
        }
        self
    }

    /// Creates the folder (mode 0700) if needed.
    pub fn ensure(&self) -> anyhow::Result<()> {
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", self.dir.display()))?;
        Ok(())
    }

    pub fn database(&self) -> PathBuf {
        self.dir.join("executor.db")
    }

    /// The owner's token: `EXECUTOR_TOKEN_FILE` when set (replicas behind
    /// one load balancer share it), else `token` in the home.
    pub fn token_path(&self) -> PathBuf {
        file_setting("EXECUTOR_TOKEN_FILE").unwrap_or_else(|| self.dir.join("token"))
    }

    /// The token for MCP clients: it opens `/mcp` only (agents must not
    /// hold the owner's token, which also opens the REST API and so could
    /// approve their own paused calls).
    pub fn mcp_token_path(&self) -> PathBuf {
        file_setting("EXECUTOR_MCP_TOKEN_FILE").unwrap_or_else(|| self.dir.join("mcp-token"))
    }

    /// The key that seals stored secrets: `EXECUTOR_SECRET_KEY_FILE` when
    /// set (replicas on one database must share it), else `secret.key` in
    /// the home.
    pub fn key_path(&self) -> PathBuf {
        file_setting("EXECUTOR_SECRET_KEY_FILE").unwrap_or_else(|| self.dir.join("secret.key"))
    }

    /// Where the running service writes its address and process id.
    pub fn service_file(&self) -> PathBuf {
        self.dir.join("service.json")
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join("service.log")
    }

    /// The bearer token, made on first use (mode 0600).
    pub fn token(&self) -> anyhow::Result<String> {
        let text = self.secret_file(&self.token_path(), 32)?;
        Ok(String::from_utf8(text)?)
    }

    /// The MCP clients' token, made on first use (mode 0600).
    pub fn mcp_token(&self) -> anyhow::Result<String> {
        let text = self.secret_file(&self.mcp_token_path(), 32)?;
        Ok(String::from_utf8(text)?)
    }

    /// The token if it exists, without making one.
    pub fn existing_token(&self) -> Option<String> {
        let bytes = fs::read(self.token_path()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let token = text.trim();
        (!token.is_empty()).then(|| token.to_owned())
    }

    /// The encryption of stored secrets, with its key made on first use.
    pub fn secret_box(&self) -> anyhow::Result<SecretBox> {
        let key = hex::decode(self.secret_file(&self.key_path(), 32)?)?;
        SecretBox::new(&key)
    }

    /// The hex text of a file of `len` random bytes, writing it with mode
    /// 0600 first if it does not exist. Refuses a file others can read.
    fn secret_file(&self, path: &Path, len: usize) -> anyhow::Result<Vec<u8>> {
        self.ensure()?;
        if !path.exists() {
            let mut bytes = vec![0u8; len];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let mut file = match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(file) => file,
                // Another process made it first: read theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return self.read_secret(path);
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()));
                }
            };
            file.write_all(hex::encode(&bytes).as_bytes())?;
            file.sync_all()?;
            return Ok(hex::encode(bytes).into_bytes());
        }
        self.read_secret(path)
    }

    fn read_secret(&self, path: &Path) -> anyhow::Result<Vec<u8>> {
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by other users (mode {:o}): run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(text.trim().as_bytes().to_vec())
    }
}

/// XChaCha20-Poly1305 under the key in `EXECUTOR_HOME/secret.key`. Each
/// ciphertext is bound to its place (associated data), so a value copied to
/// another row does not decrypt.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    fn new(key: &[u8]) -> anyhow::Result<SecretBox> {
        let cipher = XChaCha20Poly1305::new_from_slice(key)
            .map_err(|_| anyhow::anyhow!("the secret key has the wrong length"))?;
        Ok(SecretBox { cipher })
    }

    /// nonce ‖ ciphertext, hex encoded.
    pub fn seal(&self, plaintext: &[u8], place: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(hex::encode(out))
    }

    pub fn open(&self, sealed: &str, place: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = hex::decode(sealed).context("a stored secret is not hex")?;
        if bytes.len() < 24 {
            bail!("a stored secret is truncated");
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!("a stored secret does not decrypt with EXECUTOR_HOME/secret.key")
            })
    }
}

/// A positive whole-number setting from the environment (a limit or a
/// timeout), or `default` when it is unset or not a positive number.
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &u64| n > 0)
        .unwrap_or(default)
}

/// How long a pause waits for an answer by default: one day.
pub const DEFAULT_APPROVAL_TTL: i64 = 24 * 60 * 60;

/// `EXECUTOR_APPROVAL_TIMEOUT` (seconds) or the default.
/// `EXECUTOR_APPROVAL_TIMEOUT` (seconds) or the default.
/// A file named by an environment variable, when it is set and not empty.
fn file_setting(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// `EXECUTOR_ALLOWED_HOSTS`: more names (`host` or `host:port`, comma
/// separated) requests may address the service by, besides its loopback
/// address: a load balancer's name in front of several replicas.
pub fn allowed_hosts() -> Vec<String> {
    std::env::var("EXECUTOR_ALLOWED_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

pub fn approval_ttl() -> anyhow::Result<i64> {
    match std::env::var("EXECUTOR_APPROVAL_TIMEOUT") {
        Ok(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "EXECUTOR_APPROVAL_TIMEOUT={text:?} is not a positive number of seconds (the default is {DEFAULT_APPROVAL_TTL})"
                )
            }),
        Err(_) => Ok(DEFAULT_APPROVAL_TTL),
    }
}

/// Where the service listens unless told otherwise.
pub const DEFAULT_PORT: u16 = 4788;
pub const DEFAULT_HOST: &str = "127.0.0.1";
