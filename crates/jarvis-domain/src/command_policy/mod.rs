//! The SSH command policy (SAFE-04): what `execute_ssh` may run on a node, correct by
//! construction.
//!
//! The original filtered raw shell strings with substring blocklists and prefix allowlists and
//! was bypassed in several independent ways. Here no shell syntax exists at all:
//!
//! 1. **Characters.** The command must be at most [`MAX_COMMAND_BYTES`] of printable ASCII,
//!    drawn only from letters, digits, space and `+ , - . / : = @ _`. Every shell
//!    metacharacter, quote, glob, control character (newline, tab, NUL, …) and every non-ASCII
//!    character (homoglyphs, right-to-left overrides, fullwidth punctuation) is refused.
//! 2. **Words.** The command is split on spaces. With no quotes or escapes there is exactly one
//!    way to read it.
//! 3. **Grammar.** The first word must be a bare program name from the allowlist
//!    (`grammar/`), and every further word must fit that program's grammar: known options,
//!    validated option values, known read-only sub-commands, typed arguments, and file paths
//!    inside an allowlist (`paths.rs`). Default deny.
//! 4. **Re-quoting.** What is sent is [`SafeCommand::to_shell`]: every word single-quoted, so the
//!    remote shell sees one simple command whatever the words contain.
//!
//! Layers 1 and 4 each make injection impossible on their own; layer 3 is what keeps an allowed
//! program from being talked into writing, deleting, following forever or reading secrets.

mod engine;
mod grammar;
mod paths;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
mod values;

use std::fmt;

use grammar::{REFUSED_PROGRAMS, commands};

/// Longest accepted command in bytes.
pub const MAX_COMMAND_BYTES: usize = 1000;

/// The punctuation a command may contain besides letters, digits and spaces.
const ALLOWED_PUNCTUATION: &str = "+,-./:=@_";

/// A command that passed the policy. Only [`check_command`] creates one (`non_exhaustive` rules
/// out struct literals in other crates), so holding a `SafeCommand` proves the check ran; the executor
/// sends [`SafeCommand::to_shell`] and nothing else. Treat `argv` as read-only: editing it after
/// the check would skip the grammar (though never the quoting).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SafeCommand {
    /// The words to run: the program, then its arguments (with implied words such as
    /// `--no-pager` added and file paths normalised).
    pub argv: Vec<String>,
}

impl SafeCommand {
    /// The words to run (same as the `argv` field).
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The program name.
    pub fn program(&self) -> &str {
        &self.argv[0]
    }

    /// The command line for the remote shell: every word single-quoted POSIX-style (`'` becomes
    /// `'\''`), joined by single spaces. Quoting is unconditional — not "when needed" — so its
    /// safety never depends on the character check above it.
    pub fn to_shell(&self) -> String {
        let quoted: Vec<String> =
            self.argv.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
        quoted.join(" ")
    }
}

impl fmt::Display for SafeCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.argv.join(" "))
    }
}

/// Why a command was refused. The reason is specific enough for an LLM or a person to fix the
/// command, e.g. "`tail -f` never returns; use `tail -n N FILE`".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct PolicyViolation {
    /// Human-readable explanation.
    pub reason: String,
}

fn refuse(reason: impl Into<String>) -> PolicyViolation {
    PolicyViolation { reason: reason.into() }
}

/// Checks a command against the policy and returns it as argv, ready to re-quote.
pub fn check_command(input: &str) -> Result<SafeCommand, PolicyViolation> {
    if input.trim_matches(' ').is_empty() {
        return Err(refuse("the command is empty"));
    }
    if input.len() > MAX_COMMAND_BYTES {
        return Err(refuse(format!(
            "the command is {} bytes; the limit is {MAX_COMMAND_BYTES}",
            input.len()
        )));
    }
    if let Some(c) = input.chars().find(|c| !allowed_char(*c)) {
        return Err(refuse(char_reason(c)));
    }
    // From here on the input is plain ASCII, so byte slicing below cannot split a character.
    let words: Vec<&str> = input.split(' ').filter(|w| !w.is_empty()).collect();
    let program = words[0];
    let Some(command) = commands().find(|c| c.name == program) else {
        return Err(refuse(unknown_program(program)));
    };
    let argv = command.check(&words[1..]).map_err(refuse)?;
    Ok(SafeCommand { argv })
}

/// The names of all allowed programs, for documentation and prompts.
pub fn allowed_programs() -> impl Iterator<Item = &'static str> {
    commands().map(|c| c.name)
}

fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' ' || ALLOWED_PUNCTUATION.contains(c)
}

fn char_reason(c: char) -> String {
    let what = match c {
        ';' => "`;` is a shell metacharacter; run one command at a time",
        '&' => {
            "`&` is a shell metacharacter (background or `&&` chaining); run one command at a time"
        }
        '|' => {
            "`|` is a shell metacharacter (pipe or `||`); pipes are not supported, run one command at a time"
        }
        '`' | '$' => "command substitution and variables (`` ` `` and `$`) are not allowed",
        '(' | ')' => "`(` and `)` (subshells) are not allowed",
        '<' | '>' => "redirection (`<`, `>`) is not allowed; output comes back to you directly",
        '*' | '?' | '[' | ']' => "globs (`*`, `?`, `[...]`) are not allowed; name the file exactly",
        '{' | '}' => "brace expansion (`{`, `}`) is not allowed",
        '\'' | '"' | '\\' => {
            "quotes and backslashes are not supported: arguments are single words separated by spaces"
        }
        '~' => "`~` (home directory) is not allowed; give an absolute path",
        '#' => "`#` (comment) is not allowed",
        '!' => "`!` (history expansion, negation) is not allowed",
        '^' => "`^` is not allowed",
        '%' => "`%` is not allowed (for ps sorting use names such as `--sort=-pcpu`)",
        '\n' | '\r' => "line breaks are not allowed; send a single line with one command",
        '\t' => "tabs are not allowed; separate words with spaces",
        c if c.is_ascii_control() => {
            return format!("control character U+{:04X} is not allowed", u32::from(c));
        }
        c => {
            return format!(
                "non-ASCII character `{}` (U+{:04X}) is not allowed; commands are plain ASCII \
                 (look-alike and direction-changing characters are refused)",
                c.escape_default(),
                u32::from(c)
            );
        }
    };
    what.to_owned()
}

fn unknown_program(program: &str) -> String {
    if let Some(base) = program.rsplit('/').next().filter(|_| program.contains('/')) {
        return format!(
            "`{program}`: give a bare command name, not a path (`{base}` if it is allowed)"
        );
    }
    if let Some((_, why)) = REFUSED_PROGRAMS.iter().find(|(names, _)| names.contains(&program)) {
        return format!("`{program}` is not an allowed command: it {why}");
    }
    if program.starts_with('-') {
        return format!("`{program}` is an option, not a command");
    }
    format!("`{program}` is not an allowed command")
}
