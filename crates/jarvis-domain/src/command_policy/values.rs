//! The kinds of values an option or positional argument may take, and their checks.
//!
//! Every check is an allowlist of characters and shapes. The input has already been limited to
//! `[A-Za-z0-9 +,-./:=@_]` by the character check, so these rules only narrow it further.

use super::paths::{self, PathUse};

/// What a value must look like.
#[derive(Debug)]
pub(super) enum Kind {
    /// Decimal digits without leading zeros, within an inclusive range.
    UInt { min: u64, max: u64 },
    /// Exactly one of these words.
    OneOf(&'static [&'static str]),
    /// A comma-separated list of these words (`err,warn`, `pid,comm`).
    ListOf(&'static [&'static str]),
    /// Sort keys: a comma-separated list of these words, each optionally prefixed by `-` or `+`.
    SortKeys(&'static [&'static str]),
    /// A systemd unit name.
    Unit,
    /// A network interface name.
    Iface,
    /// A host name or IP address.
    Host,
    /// A block device path.
    Device,
    /// A guest id.
    VmId,
    /// A comma-separated list of process ids.
    Pids,
    /// A PVE API path for `pvesh get`.
    ApiPath,
    /// A ZFS pool, dataset or snapshot name.
    ZfsName,
    /// A Debian package name.
    Package,
    /// A journalctl time: `YYYY-MM-DD`, `HH:MM[:SS]`, `today`, `yesterday`, `now` or `-2h`.
    Since,
    /// A syslog priority (`0`–`7` or `emerg` … `debug`).
    Priority,
    /// A plain identifier or comma list of them (systemd properties, syslog identifiers).
    Word,
    /// A file whose contents may be read.
    ReadPath,
    /// A file or directory whose listing, size or metadata may be read.
    ListPath,
}

const PRIORITIES: &[&str] = &[
    "0", "1", "2", "3", "4", "5", "6", "7", "emerg", "alert", "crit", "err", "warning", "notice",
    "info", "debug",
];

impl Kind {
    /// How the value is written in usage strings.
    pub(super) fn placeholder(&self) -> &'static str {
        match self {
            Kind::UInt { .. } => "N",
            Kind::OneOf(_) | Kind::ListOf(_) | Kind::SortKeys(_) => "VALUE",
            Kind::Unit => "UNIT",
            Kind::Iface => "IFACE",
            Kind::Host => "HOST",
            Kind::Device => "DEVICE",
            Kind::VmId => "VMID",
            Kind::Pids => "PIDS",
            Kind::ApiPath => "API_PATH",
            Kind::ZfsName => "POOL",
            Kind::Package => "PACKAGE",
            Kind::Since => "TIME",
            Kind::Priority => "PRIORITY",
            Kind::Word => "NAME",
            Kind::ReadPath => "FILE",
            Kind::ListPath => "PATH",
        }
    }

    /// Checks `v`. `Ok(Some(x))` means "accepted, run it as `x`" (a normalised path).
    pub(super) fn check(&self, v: &str) -> Result<Option<String>, String> {
        let ok = match self {
            Kind::UInt { min, max } => {
                return uint(v, *min, *max).map(|_| None);
            }
            Kind::OneOf(words) => {
                return if words.contains(&v) {
                    Ok(None)
                } else {
                    Err(format!("`{v}` is not one of {}", words.join(", ")))
                };
            }
            Kind::ListOf(words) => {
                return list(v, |item| words.contains(&item), words).map(|()| None);
            }
            Kind::SortKeys(words) => {
                let key = |item: &str| {
                    let bare = item.strip_prefix(['-', '+']).unwrap_or(item);
                    words.contains(&bare)
                };
                return list(v, key, words).map(|()| None);
            }
            Kind::Unit => {
                (1..=200).contains(&v.len())
                    && starts_alnum(v)
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"@._:-".contains(&b))
            }
            Kind::Iface => {
                (1..=15).contains(&v.len())
                    && starts_alnum(v)
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
            }
            Kind::Host => {
                (1..=253).contains(&v.len())
                    && (starts_alnum(v) || v.starts_with(':'))
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b".:-".contains(&b))
            }
            Kind::Device => device(v),
            Kind::VmId => {
                return uint(v, 100, 999_999_999).map(|_| None);
            }
            Kind::Pids => {
                let items: Vec<&str> = v.split(',').collect();
                items.len() <= 32 && items.iter().all(|p| uint(p, 1, 4_194_304).is_ok())
            }
            Kind::ApiPath => return api_path(v).map(|()| None),
            Kind::ZfsName => {
                v.len() <= 255
                    && v.starts_with(|c: char| c.is_ascii_alphabetic())
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:/@-".contains(&b))
                    && !v.contains("//")
                    && !v.ends_with('/')
            }
            Kind::Package => {
                (1..=100).contains(&v.len())
                    && v.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && v.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-:".contains(&b)
                    })
            }
            Kind::Since => since(v),
            Kind::Priority => PRIORITIES.contains(&v),
            Kind::Word => {
                (1..=100).contains(&v.len())
                    && starts_alnum(v)
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:@,-".contains(&b))
            }
            Kind::ReadPath => return paths::check(v, PathUse::Read).map(Some),
            Kind::ListPath => return paths::check(v, PathUse::List).map(Some),
        };
        if ok { Ok(None) } else { Err(format!("`{v}` is not a valid {}", self.describe())) }
    }

    fn describe(&self) -> &'static str {
        match self {
            Kind::Unit => "systemd unit name",
            Kind::Iface => "interface name (1-15 of A-Z a-z 0-9 . _ @ -)",
            Kind::Host => "host name or IP address",
            Kind::Device => {
                "disk device (/dev/sdX, /dev/nvmeN, /dev/nvmeNnM or /dev/disk/by-id/NAME)"
            }
            Kind::ZfsName => "pool or dataset name",
            Kind::Package => "package name",
            Kind::Since => "time (YYYY-MM-DD, HH:MM[:SS], today, yesterday, now, or -2h / -30min)",
            Kind::Priority => {
                "priority (0-7 or emerg, alert, crit, err, warning, notice, info, debug)"
            }
            Kind::Word => "name (letters, digits and . _ : @ , -)",
            Kind::Pids => "process id list (e.g. 1,42)",
            _ => "value",
        }
    }
}

fn starts_alnum(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_alphanumeric())
}

fn uint(v: &str, min: u64, max: u64) -> Result<u64, String> {
    // No signs, no leading zeros (some programs read `010` as octal), at most 10 digits.
    let digits = !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit());
    let canonical = v == "0" || !v.starts_with('0');
    match v.parse::<u64>() {
        Ok(n) if digits && canonical && (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("`{v}` must be a whole number from {min} to {max}")),
    }
}

fn list(v: &str, ok: impl Fn(&str) -> bool, words: &[&str]) -> Result<(), String> {
    let items: Vec<&str> = v.split(',').collect();
    if items.len() > 32 {
        return Err(format!("`{v}` lists too many values"));
    }
    match items.iter().find(|i| !ok(i)) {
        None => Ok(()),
        Some(bad) => Err(format!("`{bad}` is not one of {}", words.join(", "))),
    }
}

fn digits(v: &str, max_len: usize) -> bool {
    (1..=max_len).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
}

fn device(v: &str) -> bool {
    if let Some(id) = v.strip_prefix("/dev/disk/by-id/") {
        return (1..=200).contains(&id.len())
            && starts_alnum(id)
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    }
    if let Some(rest) = v.strip_prefix("/dev/sd").or_else(|| v.strip_prefix("/dev/vd")) {
        // sda, sdab, sda1
        let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
        let part = &rest[letters..];
        return (1..=2).contains(&letters) && (part.is_empty() || digits(part, 3));
    }
    if let Some(rest) = v.strip_prefix("/dev/nvme") {
        // nvme0, nvme0n1, nvme0n1p2
        let (ctrl, rest) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
        if !digits(ctrl, 2) {
            return false;
        }
        let Some(rest) = rest.strip_prefix('n') else { return rest.is_empty() };
        let (ns, rest) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
        return digits(ns, 2) && rest.strip_prefix('p').map_or(rest.is_empty(), |p| digits(p, 3));
    }
    false
}

fn since(v: &str) -> bool {
    let date = |s: &str| {
        let b = s.as_bytes();
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    };
    let time = |s: &str| {
        let parts: Vec<&str> = s.split(':').collect();
        (2..=3).contains(&parts.len()) && parts.iter().all(|p| p.len() == 2 && digits(p, 2))
    };
    let relative = |s: &str| {
        let Some(rest) = s.strip_prefix('-') else { return false };
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        (1..=4).contains(&n) && ["s", "min", "h", "d", "w"].contains(&&rest[n..])
    };
    ["today", "yesterday", "now"].contains(&v) || date(v) || time(v) || relative(v)
}

/// API path segments that are read-only but reach into guests or backups (guest-agent
/// `file-read`, backup `file-restore`), open consoles, or return the subscription key;
/// `pvesh get` on them is refused.
const API_SEGMENTS_REFUSED: &[&str] = &[
    "agent",
    "subscription",
    "file-restore",
    "termproxy",
    "vncproxy",
    "vncwebsocket",
    "spiceproxy",
    "mtunnel",
    "mtunnelwebsocket",
    "priv",
];

fn api_path(v: &str) -> Result<(), String> {
    let Some(body) = v.strip_prefix('/') else {
        return Err(format!(
            "`{v}` must be an API path starting with `/`, e.g. /cluster/resources"
        ));
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Ok(());
    }
    for seg in body.split('/') {
        let ok = !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg.len() <= 200
            && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:@=-".contains(&b));
        if !ok {
            return Err(format!("`{v}` is not a valid API path (segment `{seg}`)"));
        }
        if API_SEGMENTS_REFUSED.contains(&seg) {
            return Err(format!(
                "`{v}`: `{seg}` API paths reach into guests, backups, consoles or license keys and \
                 are refused"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_decimal_in_range() {
        let k = Kind::UInt { min: 1, max: 2000 };
        for ok in ["1", "50", "2000"] {
            assert!(k.check(ok).is_ok(), "{ok}");
        }
        for bad in ["0", "2001", "-5", "+5", "010", "1e3", "", "99999999999", "5x"] {
            assert!(k.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn devices() {
        for ok in [
            "/dev/sda",
            "/dev/sdab",
            "/dev/sda1",
            "/dev/nvme0",
            "/dev/nvme0n1",
            "/dev/nvme1n1p3",
            "/dev/disk/by-id/ata-Samsung_SSD_860-123",
        ] {
            assert!(device(ok), "{ok}");
        }
        for bad in [
            "/dev/sd",
            "/dev/sdabc",
            "/dev/sda1234",
            "/dev/nvme",
            "/dev/nvmen1",
            "/dev/nvme0n",
            "/dev/nvme0n1x",
            "/dev/mem",
            "/dev/disk/by-id/../../mem",
            "/dev/disk/by-id/",
            "/dev/kmsg",
        ] {
            assert!(!device(bad), "{bad}");
        }
    }

    #[test]
    fn since_values() {
        for ok in
            ["today", "yesterday", "now", "2026-01-31", "08:00", "08:00:30", "-2h", "-30min", "-1d"]
        {
            assert!(since(ok), "{ok}");
        }
        for bad in ["", "tomorrow-ish", "2026-1-31", "8:00", "-h", "-99999h", "2h", "-2y"] {
            assert!(!since(bad), "{bad}");
        }
    }

    #[test]
    fn api_paths() {
        for ok in ["/", "/cluster/resources", "/nodes/pve1/qemu/100/status/current", "/nodes/"] {
            assert!(api_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "cluster",
            "//x",
            "/nodes/../access",
            "/nodes/pve1/qemu/100/agent/file-read",
            "/nodes/a/storage/b/file-restore/download",
            "/nodes/pve1/subscription",
            "/a/./b",
        ] {
            assert!(api_path(bad).is_err(), "{bad}");
        }
    }
}
