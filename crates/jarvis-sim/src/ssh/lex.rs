//! Splitting a command line the way a shell would: single and double quotes, backslashes,
//! `$VAR` expansion, comments, the operators `;`, `&&`, `||`, `|` (and `&`, run in the
//! foreground here), and redirections such as `2>&1` or `>/dev/null`. Command substitution and
//! globbing are not supported; their text stays literal.

/// One lexical token of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Word(String),
    /// `;`, `&&`, `||` or `|`.
    Op(&'static str),
    /// A redirection: file descriptor and target (`&1` for a duplication).
    Redir(u8, String),
}

/// Reads a variable name after `$` (`NAME`, `{NAME}` or `?`); None when `$` is literal.
fn var_name(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<String> {
    match chars.peek() {
        Some('{') => {
            chars.next();
            Some(chars.by_ref().take_while(|c| *c != '}').collect())
        }
        Some('?') => {
            chars.next();
            Some("?".into())
        }
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if !(c.is_ascii_alphanumeric() || c == '_') {
                    break;
                }
                name.push(c);
                chars.next();
            }
            Some(name)
        }
        _ => None,
    }
}

/// Splits a command line into tokens, expanding `$VAR` from `env` (unknown ones are empty);
/// `Err` carries bash's syntax error message.
pub(crate) fn tokenize(line: &str, env: &[(&str, String)]) -> Result<Vec<Tok>, String> {
    let lookup = |name: &str| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let mut toks = Vec::new();
    let mut word = String::new();
    // Whether a word is in progress (an empty quoted string is a word too).
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let flush = |toks: &mut Vec<Tok>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unexpected EOF while looking for matching `''".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            word.extend(chars.next());
                        }
                        Some('$') => match var_name(&mut chars) {
                            Some(name) => word.push_str(&lookup(&name)),
                            None => word.push('$'),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unexpected EOF while looking for matching `\"'".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => word.push(c),
                }
            }
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        toks.push(Tok::Op(";"));
                        break;
                    }
                }
            }
            ';' | '\n' | '&' | '|' => {
                flush(&mut toks, &mut word, &mut in_word);
                let op = match c {
                    '&' if chars.peek() == Some(&'&') => {
                        chars.next();
                        "&&"
                    }
                    '|' if chars.peek() == Some(&'|') => {
                        chars.next();
                        "||"
                    }
                    '|' => "|",
                    // `cmd &` runs in the background: here it simply runs.
                    _ => ";",
                };
                toks.push(Tok::Op(op));
            }
            '>' | '<' => {
                // `2>` and friends: a word of digits right before is the descriptor.
                let fd = if in_word && !word.is_empty() && word.chars().all(|c| c.is_ascii_digit())
                {
                    let fd = word.parse::<u8>().unwrap_or(1);
                    word.clear();
                    in_word = false;
                    fd
                } else {
                    flush(&mut toks, &mut word, &mut in_word);
                    if c == '<' { 0 } else { 1 }
                };
                if chars.peek() == Some(&'>') {
                    chars.next();
                }
                let mut target = String::new();
                if chars.peek() == Some(&'&') {
                    chars.next();
                    target.push('&');
                }
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || ";&|<>".contains(c) {
                        break;
                    }
                    if c != '\'' && c != '"' {
                        target.push(c);
                    }
                    chars.next();
                }
                toks.push(Tok::Redir(fd, target));
            }
            '$' => match var_name(&mut chars) {
                // An unquoted empty expansion makes no word at all.
                Some(name) => {
                    let value = lookup(&name);
                    in_word |= !value.is_empty();
                    word.push_str(&value);
                }
                None => {
                    in_word = true;
                    word.push('$');
                }
            },
            c if c.is_whitespace() => flush(&mut toks, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut toks, &mut word, &mut in_word);
    Ok(toks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Tok> {
        tokenize(line, &[("HOME", "/root".into())]).unwrap()
    }

    fn w(s: &str) -> Tok {
        Tok::Word(s.into())
    }

    #[test]
    fn quoting_is_undone_like_a_shell() {
        assert_eq!(words("'df' '-h'"), vec![w("df"), w("-h")]);
        assert_eq!(
            words(r#"echo "a b" c\ d '' "x\"y""#),
            vec![w("echo"), w("a b"), w("c d"), w(""), w("x\"y")]
        );
        assert_eq!(
            words("a && b || c; d | e # note"),
            vec![
                w("a"),
                Tok::Op("&&"),
                w("b"),
                Tok::Op("||"),
                w("c"),
                Tok::Op(";"),
                w("d"),
                Tok::Op("|"),
                w("e")
            ]
        );
        assert_eq!(
            words("x 2>&1 >/dev/null"),
            vec![w("x"), Tok::Redir(2, "&1".into()), Tok::Redir(1, "/dev/null".into())]
        );
        assert!(tokenize("echo 'open", &[]).is_err());
        assert_eq!(
            words("echo $HOME \"${HOME}/x\" '$HOME' $NOPE $"),
            vec![w("echo"), w("/root"), w("/root/x"), w("$HOME"), w("$")]
        );
    }
}
