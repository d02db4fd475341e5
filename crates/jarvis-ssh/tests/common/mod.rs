//! Test harness: a real OpenSSH `sshd` on 127.0.0.1 with throwaway host and client keys.
//!
//! `/usr/sbin/sshd` must exist (Debian `openssh-server`, installed by
//! `scripts/install-test-deps.sh`); the tests fail, never skip, without it.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::HashMap;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jarvis_ssh::{HostKeyPolicy, HostTarget, SshConfig, SshPool};
use tempfile::TempDir;

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; killed (with every session process it forked) on drop.
pub struct Sshd {
    pub dir: TempDir,
    pub port: u16,
    pub user: String,
    /// Authorised ed25519 client key (private key path).
    pub client_key: PathBuf,
    /// The current host key (private key path; the public key is beside it as `.pub`).
    pub host_key: PathBuf,
    host_key_generation: u32,
    child: Option<Child>,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ssh-keygen -q -t <kind> -N <passphrase> -f <path>`.
pub fn keygen(path: &Path, kind: &str, passphrase: &str) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "jarvis-test", "-f"]).arg(path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    run(&mut cmd);
}

/// The `SHA256:…` fingerprint `ssh-keygen -lf` prints for a public key file.
pub fn keygen_fingerprint(pub_path: &Path) -> String {
    let out = run(Command::new("ssh-keygen").arg("-lf").arg(pub_path));
    out.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected ssh-keygen -lf output: {out}"))
        .to_owned()
}

pub fn pub_path(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

impl Sshd {
    /// Generates keys and a config, starts sshd and waits until it accepts connections.
    pub fn start() -> Self {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: the SSH tests need a real OpenSSH server. Run \
             scripts/install-test-deps.sh (it installs Debian's openssh-server)."
        );
        // sshd's privilege-separation directory.
        fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        let dir = tempfile::Builder::new().prefix("jarvis-sshd-").tempdir().unwrap();
        let user = run(&mut Command::new("whoami")).trim().to_owned();
        let client_key = dir.path().join("client_ed25519");
        keygen(&client_key, "ed25519", "");
        fs::copy(pub_path(&client_key), dir.path().join("authorized_keys")).unwrap();
        let mut sshd = Self {
            host_key: dir.path().join("host_key_0"),
            dir,
            port: 0,
            user,
            client_key,
            host_key_generation: 0,
            child: None,
        };
        keygen(&sshd.host_key, "ed25519", "");
        sshd.spawn();
        sshd
    }

    /// Adds a public key to `authorized_keys`.
    pub fn authorize(&self, key: &Path) {
        let mut keys = fs::read_to_string(self.dir.path().join("authorized_keys")).unwrap();
        keys.push_str(&fs::read_to_string(pub_path(key)).unwrap());
        fs::write(self.dir.path().join("authorized_keys"), keys).unwrap();
    }

    /// Generates a new client key in the temp dir (not authorised unless `authorize` is called).
    pub fn new_key(&self, name: &str, kind: &str, passphrase: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        keygen(&path, kind, passphrase);
        path
    }

    /// `SetEnv HOME` points the remote shells at an empty home directory, so the tests do not
    /// depend on this machine's dotfiles (bash sources `~/.bashrc` even for `ssh host cmd`,
    /// and a slow or locking `.bashrc` would make every command slow or hang).
    fn write_config(&self, port: u16) -> PathBuf {
        let d = self.dir.path();
        fs::create_dir_all(d.join("home")).unwrap();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nAuthorizedKeysFile {auth}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nPidFile {pid}\nMaxSessions 10\nLogLevel ERROR\nAllowUsers {user}\n\
             PermitRootLogin prohibit-password\nSetEnv HOME={home}\n",
            host_key = self.host_key.display(),
            auth = d.join("authorized_keys").display(),
            pid = d.join("sshd.pid").display(),
            user = self.user,
            home = d.join("home").display(),
        );
        let path = d.join("sshd_config");
        fs::write(&path, config).unwrap();
        path
    }

    fn spawn(&mut self) {
        let keep_port = self.port != 0;
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = if keep_port { self.port } else { free_port() };
            let config = self.write_config(port);
            let log_path = self.dir.path().join("sshd.log");
            let log = fs::File::create(&log_path).unwrap();
            let mut child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {SSHD}: {e}"));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    last_log = fs::read_to_string(&log_path).unwrap_or_default();
                    eprintln!("sshd exited early ({status}) on port {port}: {last_log}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    self.port = port;
                    self.child = Some(child);
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("sshd did not accept connections on port {port} within 10 s");
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            // Port taken between probing and binding (or still in use after a restart): retry.
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("sshd failed to start: {last_log}");
    }

    /// Kills sshd and every process it forked (per-connection sshd processes and shells), so
    /// existing client connections drop as they would when a node reboots.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let mut pids = descendants(child.id());
        pids.reverse();
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Restarts sshd on the same port with a freshly generated host key (a "reinstalled node").
    pub fn restart_with_new_host_key(&mut self) {
        self.stop();
        self.host_key_generation += 1;
        self.host_key = self.dir.path().join(format!("host_key_{}", self.host_key_generation));
        keygen(&self.host_key, "ed25519", "");
        self.spawn();
    }

    pub fn target(&self) -> HostTarget {
        HostTarget::new("test-node", "127.0.0.1", self.port)
    }

    pub fn config(&self, policy: HostKeyPolicy) -> SshConfig {
        let mut cfg = SshConfig::new(&self.client_key, policy);
        cfg.user = self.user.clone();
        cfg
    }

    /// A pool trusting this sshd's current host key through a known_hosts file.
    pub fn pool(&self) -> SshPool {
        let kh = self.dir.path().join("known_hosts_default");
        fs::write(&kh, self.known_hosts_line(&format!("[127.0.0.1]:{}", self.port))).unwrap();
        SshPool::new(self.config(HostKeyPolicy::KnownHosts(kh))).expect("pool")
    }

    /// `<hosts> <type> <base64>` for the current host key.
    pub fn known_hosts_line(&self, hosts: &str) -> String {
        let public = fs::read_to_string(pub_path(&self.host_key)).unwrap();
        let mut parts = public.split_whitespace();
        format!("{hosts} {} {}\n", parts.next().unwrap(), parts.next().unwrap())
    }

    pub fn host_fingerprint(&self) -> String {
        keygen_fingerprint(&pub_path(&self.host_key))
    }

    /// Established TCP connections whose server side is this sshd (from `/proc/net/tcp`).
    pub fn established_connections(&self) -> usize {
        let table = fs::read_to_string("/proc/net/tcp").unwrap();
        let port = format!("{:04X}", self.port);
        table
            .lines()
            .skip(1)
            .filter(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                cols.len() > 3
                    && cols[1].rsplit(':').next() == Some(port.as_str())
                    && cols[3] == "01"
            })
            .count()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// All descendants of `root`, parents before children, from `/proc/*/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name may contain spaces; fields after the last ')' are fixed.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            out.push(child);
            stack.push(child);
        }
    }
    out
}

/// Polls `check` every 50 ms until it is true or `within` has passed.
pub async fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A generous limit for commands that should finish at once.
pub const T: Duration = Duration::from_secs(15);
