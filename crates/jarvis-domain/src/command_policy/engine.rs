//! The grammar vocabulary ([`Command`], [`Opt`], [`Form`]) and the matcher that applies one
//! command's grammar to its words.
//!
//! Option parsing mirrors how the target programs read their arguments, because the safety
//! argument is "we accept only what we understood, and the program understands it the same
//! way". Where the two could disagree we refuse instead: `--` and `-` are never accepted,
//! positional values never start with `-`, and a value-taking option consumes its value exactly
//! as getopt does (attached, after `=`, or the next word).

use super::values::Kind;

/// How a program reads its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// GNU getopt_long: short options cluster (`-tlnp`, `-n100`), long options take `=value` or
    /// the next word, options may appear anywhere.
    Gnu,
    /// Every option is one whole word from the table (Perl Getopt::Long in the PVE tools, dpkg,
    /// apt); long options may take `=value`; options may appear anywhere.
    Exact,
    /// Like `Exact`, but options must precede the first positional word and never take `=`
    /// (iproute2's `ip`, ethtool).
    Ordered,
}

/// One option, under all of its spellings.
#[derive(Debug)]
pub(super) struct Opt {
    /// Every accepted spelling, e.g. `["-n", "--lines"]`; the first is used in messages.
    pub names: &'static [&'static str],
    /// `None` for a flag; otherwise the kind of its value.
    pub value: Option<Kind>,
}

/// One accepted shape of positional words: literal sub-command words, then typed arguments.
#[derive(Debug)]
pub(super) struct Form {
    /// Literal words in order; each position lists its accepted alternatives.
    pub words: &'static [&'static [&'static str]],
    /// The kind of the arguments after the words, if any are allowed.
    pub arg: Option<Kind>,
    /// How many such arguments at least.
    pub min: usize,
    /// How many such arguments at most.
    pub max: usize,
}

/// The full grammar of one allowed program. Anything it does not list is refused.
#[derive(Debug)]
pub(super) struct Command {
    /// The bare program name (argv\[0\]).
    pub name: &'static str,
    /// How it parses options.
    pub style: Style,
    /// The options it may be given.
    pub opts: &'static [Opt],
    /// The positional shapes it may be given.
    pub forms: &'static [Form],
    /// Options that must be present (any one spelling of any listed option), and why.
    pub required: &'static [(&'static [&'static str], &'static str)],
    /// Words always inserted right after the program name (e.g. `--no-pager`).
    pub implied: &'static [&'static str],
    /// Well-known refused options or sub-commands with a specific explanation.
    pub refused: &'static [(&'static str, &'static str)],
}

impl Command {
    /// The specific refusal for `token`, phrased about `shown` (what the caller wrote, e.g.
    /// `ip link delete`) unless the reason already names its command.
    fn refusal_as(&self, token: &str, shown: &str) -> Option<String> {
        let (_, why) = self.refused.iter().find(|(t, _)| *t == token)?;
        Some(if why.starts_with('`') { (*why).to_owned() } else { format!("`{shown}` {why}") })
    }

    fn refusal(&self, token: &str) -> Option<String> {
        self.refusal_as(token, &format!("{} {token}", self.name))
    }

    fn find_opt(&self, spelling: &str) -> Option<(usize, &Opt)> {
        self.opts.iter().enumerate().find(|(_, o)| o.names.contains(&spelling))
    }

    fn unknown_option(&self, spelling: &str) -> String {
        self.refusal(spelling)
            .unwrap_or_else(|| format!("`{} {spelling}` is not an allowed option", self.name))
    }

    /// Applies the grammar to the words after the program name. Returns the argv to run
    /// (program name, implied words, then the words with file paths normalised).
    pub(super) fn check(&self, words: &[&str]) -> Result<Vec<String>, String> {
        self.check_inner(words).map_err(|why| {
            // When the first plain word is a well-known refused sub-command (`qm set`,
            // `pct exec`), that is the more useful explanation than whatever went wrong first.
            words.iter().find(|w| !w.starts_with('-')).and_then(|w| self.refusal(w)).unwrap_or(why)
        })
    }

    fn check_inner(&self, words: &[&str]) -> Result<Vec<String>, String> {
        let mut seen = vec![false; self.opts.len()];
        // (index into `words`, word) of every positional.
        let mut positionals: Vec<(usize, &str)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = words[i];
            i += 1;
            if w == "--" {
                return Err("`--` (end of options) is not supported".into());
            }
            if w == "-" {
                return Err("`-` (standard input) is not supported".into());
            }
            if !w.starts_with('-') {
                positionals.push((i - 1, w));
                continue;
            }
            if self.style == Style::Ordered && !positionals.is_empty() {
                return Err(format!(
                    "`{} {w}`: options must come before `{}`",
                    self.name, positionals[0].1
                ));
            }
            let long = w.starts_with("--");
            if self.style == Style::Gnu && !long {
                // A cluster of short options: `-tlnp`, `-n100`, `-bn1`.
                let letters = &w[1..];
                for (at, c) in letters.char_indices() {
                    let spelling = format!("-{c}");
                    let Some((idx, opt)) = self.find_opt(&spelling) else {
                        return Err(self.unknown_option(&spelling));
                    };
                    seen[idx] = true;
                    if let Some(kind) = &opt.value {
                        let rest = &letters[at + c.len_utf8()..];
                        let value =
                            if rest.is_empty() { next(words, &mut i, self, w)? } else { rest };
                        check_value(self, &spelling, kind, value)?;
                        break;
                    }
                }
                continue;
            }
            let (spelling, inline) = match w.split_once('=') {
                Some((name, value)) if long && self.style != Style::Ordered => (name, Some(value)),
                _ => (w, None),
            };
            let Some((idx, opt)) = self.find_opt(spelling) else {
                return Err(self.unknown_option(spelling));
            };
            seen[idx] = true;
            match (&opt.value, inline) {
                (None, Some(_)) => {
                    return Err(format!("`{} {spelling}` takes no value", self.name));
                }
                (None, None) => {}
                (Some(kind), Some(value)) => check_value(self, spelling, kind, value)?,
                (Some(kind), None) => {
                    let value = next(words, &mut i, self, spelling)?;
                    check_value(self, spelling, kind, value)?;
                }
            }
        }

        let replaced = self.match_form(&positionals)?;
        for (names, why) in self.required {
            let present = self
                .opts
                .iter()
                .zip(&seen)
                .any(|(o, s)| *s && o.names.iter().any(|n| names.contains(n)));
            if !present {
                return Err((*why).to_owned());
            }
        }

        let mut argv = Vec::with_capacity(words.len() + 1 + self.implied.len());
        argv.push(self.name.to_owned());
        for implied in self.implied {
            if !words.contains(implied) {
                argv.push((*implied).to_owned());
            }
        }
        for (at, w) in words.iter().enumerate() {
            match replaced.iter().find(|(idx, _)| *idx == at) {
                Some((_, normalised)) => argv.push(normalised.clone()),
                None => argv.push((*w).to_owned()),
            }
        }
        Ok(argv)
    }

    /// Finds the form the positional words fit. Returns normalised replacements for arguments
    /// (file paths), keyed by word index. On failure, reports the error of the form that got
    /// furthest (a specific refusal beats everything, then a bad argument, then a wrong word,
    /// then a wrong count), so the message is about what the caller most likely meant.
    fn match_form(&self, positionals: &[(usize, &str)]) -> Result<Vec<(usize, String)>, String> {
        let mut best: Option<(usize, String)> = None;
        let mut consider = |score: usize, msg: String| {
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, msg));
            }
        };
        for form in self.forms {
            let matched = form
                .words
                .iter()
                .zip(positionals)
                .take_while(|(alts, (_, w))| alts.contains(w))
                .count();
            if matched < form.words.len() {
                let (word, why) = match positionals.get(matched) {
                    Some((_, w)) => {
                        let shown: Vec<&str> =
                            positionals[..=matched].iter().map(|(_, w)| *w).collect();
                        let shown = format!("{} {}", self.name, shown.join(" "));
                        match self.refusal_as(w, &shown) {
                            Some(why) => (usize::MAX, why),
                            None => {
                                let usage = self.usage();
                                (
                                    2 * matched + 2,
                                    format!("`{shown}` is not allowed (allowed: {usage})"),
                                )
                            }
                        }
                    }
                    None => (
                        2 * matched + 2,
                        format!("`{}` needs more words ({})", self.name, self.usage()),
                    ),
                };
                consider(word, why);
                continue;
            }
            let args = &positionals[matched..];
            if args.len() < form.min || args.len() > form.max {
                consider(2 * matched + 1, self.count_error(form, args.len()));
                continue;
            }
            let mut replaced = Vec::new();
            let mut failed = None;
            for (idx, arg) in args {
                let Some(kind) = &form.arg else {
                    failed = Some(self.count_error(form, args.len()));
                    break;
                };
                match kind.check(arg) {
                    Ok(Some(normalised)) => replaced.push((*idx, normalised)),
                    Ok(None) => {}
                    Err(why) => {
                        failed = Some(self.refusal(arg).unwrap_or(why));
                        break;
                    }
                }
            }
            match failed {
                None => return Ok(replaced),
                Some(why) => consider(2 * matched + 3, why),
            }
        }
        Err(best.map_or_else(|| format!("`{}` takes no arguments", self.name), |(_, m)| m))
    }

    fn count_error(&self, form: &Form, got: usize) -> String {
        let what = form.arg.as_ref().map_or("argument", Kind::placeholder);
        let lead = form_words(form);
        let lead = if lead.is_empty() { String::new() } else { format!(" {lead}") };
        match (form.min, form.max) {
            (_, 0) => format!("`{}{lead}` takes no arguments (got {got})", self.name),
            (min, max) if got < min => {
                format!("`{}{lead}` needs at least {min} {what} (at most {max})", self.name)
            }
            (_, max) => format!("`{}{lead}` takes at most {max} {what} (got {got})", self.name),
        }
    }

    /// All forms as short usage strings, e.g. `qm list | qm status VMID`.
    pub(super) fn usage(&self) -> String {
        let forms: Vec<String> = self
            .forms
            .iter()
            .map(|f| {
                let mut s = self.name.to_owned();
                let words = form_words(f);
                if !words.is_empty() {
                    s.push(' ');
                    s.push_str(&words);
                }
                if let Some(kind) = &f.arg {
                    let p = kind.placeholder();
                    match (f.min, f.max) {
                        (_, 0) => {}
                        (0, 1) => s.push_str(&format!(" [{p}]")),
                        (1, 1) => s.push_str(&format!(" {p}")),
                        (0, _) => s.push_str(&format!(" [{p}...]")),
                        _ => s.push_str(&format!(" {p}...")),
                    }
                }
                s
            })
            .collect();
        forms.join(" | ")
    }
}

fn form_words(form: &Form) -> String {
    form.words.iter().map(|alts| alts.join("|")).collect::<Vec<_>>().join(" ")
}

/// The next word as an option's value (getopt takes it whatever it looks like; so do we, and the
/// value check then judges it).
fn next<'a>(words: &[&'a str], i: &mut usize, cmd: &Command, opt: &str) -> Result<&'a str, String> {
    let v = words.get(*i).ok_or_else(|| format!("`{} {opt}` needs a value", cmd.name))?;
    *i += 1;
    Ok(v)
}

fn check_value(cmd: &Command, opt: &str, kind: &Kind, value: &str) -> Result<(), String> {
    match kind.check(value) {
        // Option values are never rewritten: only positional paths are normalised, and no
        // option takes a path.
        Ok(_) => Ok(()),
        Err(why) => Err(format!("`{} {opt}`: {why}", cmd.name)),
    }
}
