//! Property tests (TEST-02): whatever is accepted is one simple command with allow-listed
//! paths, re-quoting round-trips exactly, any metacharacter anywhere is refused, and no input
//! makes the checker panic.

use proptest::prelude::*;

use super::paths::{self, PathUse};
use super::tests::EVERYDAY;
use super::*;

/// Splits a string the way a POSIX shell splits words, supporting only what `to_shell` emits
/// (single quotes and backslash escapes). Also reports whether any character other than a space
/// appeared outside single quotes.
fn posix_words(s: &str) -> (Vec<String>, bool) {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut unquoted_specials = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(cur.take()),
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => {
                unquoted_specials = true;
                cur.get_or_insert_with(String::new).extend(chars.next());
            }
            other => {
                unquoted_specials = true;
                cur.get_or_insert_with(String::new).push(other);
            }
        }
    }
    words.extend(cur);
    (words, unquoted_specials)
}

/// Resolves `.` and `..` the way the kernel would (ignoring symlinks).
fn resolve(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

const FILE_PROGRAMS: &[(&str, PathUse)] = &[
    ("cat", PathUse::Read),
    ("head", PathUse::Read),
    ("tail", PathUse::Read),
    ("wc", PathUse::Read),
    ("ls", PathUse::List),
    ("du", PathUse::List),
    ("df", PathUse::List),
    ("stat", PathUse::List),
];

/// The invariants every accepted command must satisfy.
fn assert_safe(input: &str, cmd: &SafeCommand) {
    let argv = cmd.argv();
    assert!(allowed_programs().any(|p| p == argv[0]), "{input:?}: program {:?}", argv[0]);
    for w in argv {
        assert!(
            !w.is_empty() && w.chars().all(|c| c != ' ' && allowed_char(c)),
            "{input:?}: {w:?}"
        );
        assert!(w != "--" && w != "-", "{input:?}");
    }
    // (i) re-quoting round-trips and leaves nothing unquoted.
    let shell = cmd.to_shell();
    let (words, unquoted) = posix_words(&shell);
    assert_eq!(&words, argv, "{input:?} -> {shell}");
    assert!(!unquoted, "{input:?}: unquoted characters in {shell}");
    // (iii) every file argument is already normal and inside the allowlist.
    if let Some((_, how)) = FILE_PROGRAMS.iter().find(|(p, _)| *p == argv[0]) {
        for w in argv[1..].iter().filter(|w| w.starts_with('/')) {
            assert_eq!(&resolve(w), w, "{input:?}: {w} is not normal");
            assert!(!w.split('/').any(|c| c == "priv"), "{input:?}: {w}");
            assert_eq!(paths::check(w, *how).as_deref(), Ok(w.as_str()), "{input:?}");
        }
    }
    // Spot checks of the grammar's intent on whatever the generators found.
    let has = |words: &[&str]| argv.iter().any(|w| words.contains(&w.as_str()));
    match argv[0].as_str() {
        "tail" => assert!(
            !argv
                .iter()
                .any(|w| w.starts_with("-f") || w.starts_with("-F") || w.starts_with("--f"))
        ),
        // The verb is what must be read-only; a unit may well be called `reboot` (`systemctl
        // show reboot` only reads reboot.target's properties).
        "systemctl" => {
            let verb = argv[1..].iter().find(|w| !w.starts_with('-')).map(String::as_str);
            assert!(
                !matches!(
                    verb,
                    Some(
                        "start"
                            | "stop"
                            | "restart"
                            | "reboot"
                            | "poweroff"
                            | "kill"
                            | "mask"
                            | "disable"
                            | "enable"
                            | "isolate"
                            | "edit"
                            | "halt"
                            | "set-property"
                    )
                ),
                "{input:?}: verb {verb:?}"
            )
        }
        "journalctl" => {
            // Short options may be clustered (`-bn1` is `-b -n 1`): walk each cluster; after an
            // option that takes a value, the rest of the word is that value.
            let (mut bounded, mut follows) = (false, false);
            for w in argv.iter().filter(|w| w.starts_with('-') && !w.starts_with("--")) {
                for c in w[1..].chars() {
                    match c {
                        'f' => follows = true,
                        'n' => bounded = true,
                        _ => {}
                    }
                    if "nupStUoDM".contains(c) {
                        break;
                    }
                }
            }
            bounded |= argv.iter().any(|w| w.starts_with("--lines"));
            follows |= has(&["--follow"]);
            assert!(bounded && !follows, "{input:?}: journalctl must be bounded and not follow");
        }
        "top" => assert!(argv.iter().any(|w| w.contains('b'))),
        "ping" => assert!(argv.iter().any(|w| w.starts_with("-c"))),
        "qm" | "pct" => assert!(has(&["list", "status", "config", "pending"])),
        _ => {}
    }
}

const META: &[char] = &[
    ';', '&', '|', '`', '$', '(', ')', '<', '>', '\\', '"', '\'', '*', '?', '[', ']', '{', '}',
    '~', '#', '!', '^', '%', '\n', '\r', '\t', '\0', '\x7f', '\x0b', '\x0c', '\x1b',
];

fn banned_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(META),
        (0u8..32).prop_map(char::from),
        any::<char>().prop_filter("non-ASCII", |c| !c.is_ascii()),
    ]
}

/// An everyday command with random extra spaces between (and around) its words.
fn spaced_everyday() -> impl Strategy<Value = String> {
    (prop::sample::select(EVERYDAY), prop::collection::vec(1usize..4, 16)).prop_map(
        |((input, _), gaps)| {
            let words: Vec<&str> = input.split_whitespace().collect();
            let mut out = " ".repeat(gaps[15] - 1);
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    out.push_str(&" ".repeat(gaps[i % 15]));
                }
                out.push_str(w);
            }
            out
        },
    )
}

const SOUP: &[&str] = &[
    "cat",
    "ls",
    "rm",
    "sh",
    "tail",
    "head",
    "du",
    "df",
    "stat",
    "wc",
    "systemctl",
    "journalctl",
    "ping",
    "qm",
    "pct",
    "pvesh",
    "ip",
    "ps",
    "top",
    "zpool",
    "zfs",
    "find",
    "env",
    "sudo",
    "/bin/rm",
    "status",
    "restart",
    "stop",
    "list",
    "config",
    "get",
    "set",
    "show",
    "link",
    "delete",
    "addr",
    "-c",
    "-f",
    "-F",
    "-n",
    "-b",
    "-u",
    "-h",
    "-l",
    "-a",
    "-s",
    "-x",
    "-o",
    "-p",
    "-t",
    "--",
    "-",
    "--follow",
    "--lines=5",
    "--since=today",
    "--no-pager",
    "10",
    "1",
    "100",
    "101",
    "5000",
    "0",
    "docker",
    "pveproxy",
    "vmbr0",
    "rpool",
    "err",
    "aux",
    "-eo",
    "pid,comm",
    "--sort=-pcpu",
    "/",
    "/etc/shadow",
    "/var/log",
    "/var/log/syslog",
    "/proc/loadavg",
    "/proc/self/environ",
    "/etc/pve/priv",
    "/etc/pve",
    "..",
    "./x",
    "//etc",
    "/var/log/..",
    "/sys/class/thermal/thermal_zone0/temp",
    "/cluster/resources",
    "/dev/sda",
    "10.0.0.1",
    ";",
    "&&",
    "|",
    "`",
    "$(",
    ")",
    ">",
    "<",
    "*",
    "~",
    "'",
    "\"",
    "\\",
    "\n",
    "\t",
    "=",
    ",",
    "-exec",
    "{}",
    "+",
    "reboot",
];

/// Random token sequences from a hostile vocabulary, joined with or without spaces.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(SOUP), prop::bool::weighted(0.85)), 1..10).prop_map(
        |parts| {
            parts
                .into_iter()
                .map(|(t, space)| if space { format!("{t} ") } else { t.into() })
                .collect()
        },
    )
}

/// An allowed program followed by words drawn from everyday commands and the hostile
/// vocabulary: far more of these get past the first word, so they exercise the grammars.
fn directed_soup() -> impl Strategy<Value = String> {
    let mut vocab: Vec<&'static str> = SOUP.to_vec();
    vocab.extend(EVERYDAY.iter().flat_map(|(input, _)| input.split_whitespace()));
    let programs: Vec<&'static str> = allowed_programs().collect();
    (prop::sample::select(programs), prop::collection::vec(prop::sample::select(vocab), 0..7))
        .prop_map(|(program, words)| format!("{program} {}", words.join(" ")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// (i) + (iii) on accepted everyday commands with arbitrary spacing.
    #[test]
    fn accepted_commands_requote_exactly(input in spaced_everyday()) {
        let cmd = check_command(&input).map_err(|v| TestCaseError::fail(v.reason))?;
        assert_safe(&input, &cmd);
    }

    /// (ii) any banned character anywhere in an accepted command makes it refused.
    #[test]
    fn inserting_any_banned_char_is_refused(
        (input, _) in prop::sample::select(EVERYDAY),
        at in any::<prop::sample::Index>(),
        c in banned_char(),
    ) {
        let mut s = input.to_owned();
        s.insert(at.index(s.len() + 1), c);
        prop_assert!(check_command(&s).is_err(), "accepted {:?}", s);
    }

    /// (iv) random hostile token soup is either refused or provably one safe command.
    #[test]
    fn hostile_soup_never_yields_an_unsafe_command(input in prop_oneof![soup(), directed_soup()]) {
        if let Ok(cmd) = check_command(&input) {
            assert_safe(&input, &cmd);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// Fuzz-style: arbitrary bytes never panic the checker, and anything accepted is safe.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1200)) {
        let input = String::from_utf8_lossy(&bytes);
        if let Ok(cmd) = check_command(&input) {
            assert_safe(&input, &cmd);
        }
    }

    /// Fuzz-style over structured input, which reaches deep into the grammar.
    #[test]
    fn structured_fuzz_never_panics(
        input in prop_oneof![soup(), directed_soup(), "[ -~]{0,80}", any::<String>()],
    ) {
        if let Ok(cmd) = check_command(&input) {
            assert_safe(&input, &cmd);
        }
    }
}

#[test]
fn directed_soup_reaches_the_grammars() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    // Guards against a vacuous property: a good share of generated commands must be accepted,
    // or the "accepted implies safe" checks above test nothing.
    let mut runner = TestRunner::deterministic();
    let strategy = directed_soup();
    let accepted = (0..2_000)
        .filter(|_| check_command(&strategy.new_tree(&mut runner).unwrap().current()).is_ok())
        .count();
    assert!(accepted > 100, "only {accepted} of 2000 generated commands were accepted");
}
