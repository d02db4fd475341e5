//! Scenario scripts (in the style of PVE's HA simulator): cluster events on a virtual clock.
//!
//! One command per line; `at <time> <command>` runs it at that time after the start (times like
//! `90s`, `5m`, `1h30m`), a bare command runs at the current time; `# …` is a comment. The
//! commands are listed in [`run_line`].

use chrono::Duration;
use jarvis_domain::cluster::GuestType;
use jarvis_domain::monitor::{AutonomyLevel, IncidentKind, IncidentState, Matcher, NoticeKind};

use super::world::{GIB, World};

/// Parses `1h30m`, `90s`, `5m`.
pub fn parse_time(s: &str) -> Result<Duration, String> {
    let mut total = 0i64;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().map_err(|_| format!("bad time `{s}`"))?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("bad time unit in `{s}`")),
        };
    }
    if !num.is_empty() {
        return Err(format!("time `{s}` needs a unit (h, m, s)"));
    }
    Ok(Duration::seconds(total))
}

fn pct_of(total: u64, pct: f64) -> u64 {
    (total as f64 * pct / 100.0) as u64
}

fn num<T: std::str::FromStr>(w: &[&str], i: usize, line: &str) -> Result<T, String> {
    w.get(i)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("argument {i} missing or invalid in `{line}`"))
}

fn word<'a>(w: &[&'a str], i: usize, line: &str) -> Result<&'a str, String> {
    w.get(i).copied().ok_or_else(|| format!("argument {i} missing in `{line}`"))
}

/// Runs a whole script; on a failed line the error carries the log so far.
pub fn run_script(text: &str) -> Result<World, String> {
    let mut log = Vec::new();
    run_script_into(text, &mut log).map_err(|e| format!("{e}\n--- log so far:\n{}", log.join("\n")))
}

fn run_script_into(text: &str, log_out: &mut Vec<String>) -> Result<World, String> {
    let mut world = World::new(AutonomyLevel::ActReport);
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (at, cmd) = match line.strip_prefix("at ") {
            Some(rest) => {
                let (t, cmd) = rest
                    .split_once(' ')
                    .ok_or_else(|| format!("line {}: `at` needs a command", n + 1))?;
                (Some(parse_time(t)?), cmd)
            }
            None => (None, line),
        };
        if let Some(at) = at {
            let until = world.t0 + at;
            if until < world.now {
                return Err(format!("line {}: time goes backwards", n + 1));
            }
            world.run_until(until);
        }
        if let Err(e) = run_line(&mut world, cmd) {
            *log_out = world.log.clone();
            return Err(format!("line {}: {e}", n + 1));
        }
    }
    Ok(world)
}

/// One command.
fn run_line(w: &mut World, line: &str) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let a = &words[..];
    let logged = |w: &mut World| w.log(format!("> {line}"));
    match a[0] {
        "level" => {
            let level = AutonomyLevel::try_from(num::<u8>(a, 1, line)?)?;
            if w.monitor.incidents().next().is_none() && w.log.is_empty() {
                w.level = level;
                w.monitor = jarvis_domain::monitor::Monitor::new(w.settings.clone(), level);
            } else {
                logged(w);
                w.set_level(level);
            }
        }
        "node" => a[1..].iter().for_each(|n| w.add_node(n)),
        "guest" => {
            let kind = match word(a, 2, line)? {
                "qemu" => GuestType::Qemu,
                "lxc" => GuestType::Lxc,
                other => return Err(format!("guest type `{other}`")),
            };
            let running = word(a, 5, line)? == "running";
            w.add_guest(num(a, 1, line)?, kind, word(a, 3, line)?, word(a, 4, line)?, running);
        }
        "quiet-events" => w.log_events = false,
        "end" => {}
        _ => {
            logged(w);
            event(w, a, line)?;
        }
    }
    Ok(())
}

fn event(w: &mut World, a: &[&str], line: &str) -> Result<(), String> {
    match a[0] {
        "crash" => w.crash(num(a, 1, line)?),
        "stop" => w.operator_stop(num(a, 1, line)?, a.get(2).copied().unwrap_or("qmshutdown")),
        "jarvis-stop" => w.jarvis_stop(num(a, 1, line)?),
        "start" => w.operator_start(num(a, 1, line)?),
        "migrate" => w.migrate(num(a, 1, line)?, word(a, 2, line)?),
        "node-off" => w.node_off(word(a, 1, line)?),
        "node-on" => w.node_on(word(a, 1, line)?),
        "wol-fails" => w.wol_fails.push(word(a, 1, line)?.into()),
        "cpu" => w.node_mut(word(a, 1, line)?).cpu = num::<f64>(a, 2, line)? / 100.0,
        "mem" => {
            let n = w.node_mut(word(a, 1, line)?);
            n.mem = pct_of(n.maxmem, num(a, 2, line)?);
        }
        "disk" => {
            let n = w.node_mut(word(a, 1, line)?);
            n.disk = pct_of(n.maxdisk, num(a, 2, line)?);
        }
        "temp" => {
            let c: f64 = num(a, 2, line)?;
            w.node_mut(word(a, 1, line)?).temperatures = Some([("cpu".to_string(), c)].into());
        }
        "storage" => {
            let (node, storage, pct) =
                (word(a, 1, line)?, word(a, 2, line)?, num::<f64>(a, 3, line)?);
            let s = w
                .snap
                .storage
                .iter_mut()
                .find(|s| s.node == node && s.storage == storage)
                .ok_or("no such storage")?;
            s.used = pct_of(s.total, pct);
            s.avail = s.total - s.used;
        }
        "storage-down" => {
            let (node, storage) = (word(a, 1, line)?, word(a, 2, line)?);
            let s = w
                .snap
                .storage
                .iter_mut()
                .find(|s| s.node == node && s.storage == storage)
                .ok_or("no such storage")?;
            s.status = "unknown".into();
        }
        "guest-disk" => {
            let vm = w.vm_mut(num(a, 1, line)?);
            vm.disk = pct_of(vm.maxdisk.max(GIB), num(a, 2, line)?);
        }
        "backup" => w.backup(
            num(a, 1, line)?,
            word(a, 2, line)?,
            num(a, 3, line)?,
            a.get(4) == Some(&"fail"),
        ),
        "fail-starts" => {
            w.fail_starts.insert(num(a, 1, line)?, num(a, 2, line)?);
        }
        "killswitch" => w.kill = word(a, 1, line)? == "on",
        "silence" => {
            let mut m = Matcher::default();
            let (k, v) = word(a, 1, line)?.split_once('=').ok_or("silence needs key=value")?;
            match k {
                "node" => m.node = Some(v.into()),
                "vmid" => m.vmid = Some(v.parse().map_err(|_| "vmid")?),
                "kind" => m.kind = Some(IncidentKind::parse(v).ok_or("kind")?),
                _ => return Err(format!("silence matcher `{k}`")),
            }
            let minutes = parse_time(word(a, 2, line)?)?.num_minutes();
            w.silence(m, &a[3..].join(" "), minutes);
        }
        "ack" => w.ack(word(a, 1, line)?),
        "resolve" => w.resolve(word(a, 1, line)?),
        "approve" => w.decide(word(a, 1, line)?, true),
        "deny" => w.decide(word(a, 1, line)?, false),
        "restart" => w.restart(),
        "pve" => w.set_pve_reachable(word(a, 1, line)? == "up"),
        "quorum" => {
            w.snap.quorum.quorate = word(a, 1, line)? == "ok";
        }
        "expect" => expect(w, a, line)?,
        other => return Err(format!("unknown command `{other}`")),
    }
    Ok(())
}

fn expect(w: &mut World, a: &[&str], line: &str) -> Result<(), String> {
    match word(a, 1, line)? {
        "state" => {
            let key = word(a, 2, line)?;
            let want = word(a, 3, line)?;
            let got = w.state_of(key);
            let ok = match want {
                "none" => got.is_none(),
                s => got == IncidentState::parse(s),
            };
            if !ok {
                return Err(format!("expected {key} {want}, got {got:?}"));
            }
        }
        "notices" => {
            let key = word(a, 2, line)?;
            for spec in &a[3..] {
                let (k, n) = spec.split_once('=').ok_or("notices need kind=count")?;
                let kind = NoticeKind::parse(k).ok_or_else(|| format!("notice kind `{k}`"))?;
                let n: u32 = n.parse().map_err(|_| "count")?;
                let id = w.latest.get(key).cloned().unwrap_or_default();
                let got = w.tally.notices.get(&(id, kind)).copied().unwrap_or(0);
                if got != n {
                    return Err(format!("expected {n} {k} notices for {key}, got {got}"));
                }
            }
        }
        "runs" => {
            let n: usize = num(a, 2, line)?;
            if w.tally.runs.len() != n {
                return Err(format!("expected {n} actions submitted, got {}", w.tally.runs.len()));
            }
        }
        "guest" => {
            let vmid: u32 = num(a, 2, line)?;
            let want = word(a, 3, line)?;
            let got = w.vm_mut(vmid).status.as_str();
            if got != want {
                return Err(format!("expected guest {vmid} {want}, got {got}"));
            }
        }
        other => return Err(format!("unknown expectation `{other}`")),
    }
    Ok(())
}
