//! Web-platform-tests server conventions: `NAME.headers` sidecar files and
//! the `?pipe=` query parameter.

use std::fmt;

use axum::http::header::{HeaderMap, HeaderName, HeaderValue};
use axum::http::{header, StatusCode};
use tracing::warn;

/// Parses the body of a `NAME.headers` sidecar: one `Name: Value` per line,
/// blank lines ignored. Malformed lines are skipped with a warning.
pub fn parse_headers_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                out.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => warn!(line = n + 1, "ignoring malformed line in .headers file"),
        }
    }
    out
}

/// Applies sidecar headers: the first line for a name replaces whatever the
/// server would have sent, later lines with the same name add values.
pub fn apply_sidecar(headers: &mut HeaderMap, lines: &[(String, String)]) {
    let mut seen: Vec<HeaderName> = Vec::new();
    for (name, value) in lines {
        let Some((name, value)) = header_pair(name, value) else {
            continue;
        };
        let append = seen.contains(&name);
        if !append {
            seen.push(name.clone());
        }
        set_header(headers, name, value, append);
    }
}

/// One `name(arg, ...)` item of a pipe expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeCall {
    /// Function name, e.g. `header` or `status`.
    pub name: String,
    /// Unescaped arguments (empty for `name` or `name()`).
    pub args: Vec<String>,
}

/// A syntax error in a pipe expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeSyntaxError(String);

impl fmt::Display for PipeSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a pipe expression such as
/// `header(Name,Value)|header(X,a\,b,True)|status(404)`.
///
/// Items are separated by `|`, arguments by `,`; a backslash makes the next
/// character literal (so `\,` `\)` `\|` `\\` embed those characters).
pub fn parse_pipes(input: &str) -> Result<Vec<PipeCall>, PipeSyntaxError> {
    let mut calls = Vec::new();
    let mut chars = input.chars();
    loop {
        let mut name = String::new();
        let mut next = chars.next();
        while let Some(c) = next {
            if c == '(' || c == '|' {
                break;
            }
            if c == ')' || c == ',' || c == '\\' {
                return Err(PipeSyntaxError(format!("unexpected {c:?} in pipe name")));
            }
            name.push(c);
            next = chars.next();
        }
        let name = name.trim().to_owned();
        match next {
            None | Some('|') => {
                if !name.is_empty() {
                    calls.push(PipeCall {
                        name,
                        args: Vec::new(),
                    });
                }
                if next.is_none() {
                    return Ok(calls);
                }
            }
            Some(_open_paren) => {
                if name.is_empty() {
                    return Err(PipeSyntaxError("pipe arguments without a name".into()));
                }
                let mut args = Vec::new();
                let mut cur = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(PipeSyntaxError(format!(
                                "unterminated arguments of {name}"
                            )))
                        }
                        Some('\\') => match chars.next() {
                            Some(c) => cur.push(c),
                            None => return Err(PipeSyntaxError("dangling backslash".into())),
                        },
                        Some(',') => args.push(std::mem::take(&mut cur)),
                        Some(')') => {
                            args.push(std::mem::take(&mut cur));
                            break;
                        }
                        Some(c) => cur.push(c),
                    }
                }
                if args.len() == 1 && args[0].is_empty() {
                    args.clear();
                }
                calls.push(PipeCall { name, args });
                match chars.next() {
                    None => return Ok(calls),
                    Some('|') => {}
                    Some(c) => {
                        return Err(PipeSyntaxError(format!("unexpected {c:?} after ')'")));
                    }
                }
            }
        }
    }
}

/// Applies parsed pipes to a response's status and headers.
/// Unsupported pipes and bad arguments are skipped with a warning.
pub fn apply_pipes(status: &mut StatusCode, headers: &mut HeaderMap, calls: &[PipeCall]) {
    for call in calls {
        match (call.name.as_str(), call.args.as_slice()) {
            ("status", [code, ..]) => match code.trim().parse::<u16>().map(StatusCode::from_u16) {
                Ok(Ok(code)) => *status = code,
                _ => warn!(code = %code, "pipe status(): invalid status code"),
            },
            ("header", [name, value, rest @ ..]) => {
                let append = rest
                    .first()
                    .is_some_and(|a| a.trim().eq_ignore_ascii_case("true"));
                if let Some((name, value)) = header_pair(name, value) {
                    set_header(headers, name, value, append);
                }
            }
            (name @ ("status" | "header"), args) => {
                warn!(
                    pipe = name,
                    ?args,
                    "pipe called with too few arguments; ignored"
                );
            }
            (name, _) => warn!(pipe = name, "unsupported pipe; ignored"),
        }
    }
}

/// Validates a header name/value pair, refusing the framing headers the HTTP
/// layer owns (overriding them would corrupt the connection).
fn header_pair(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    let Ok(name) = HeaderName::from_bytes(name.trim().as_bytes()) else {
        warn!(name, "invalid header name; ignored");
        return None;
    };
    if name == header::CONTENT_LENGTH
        || name == header::TRANSFER_ENCODING
        || name == header::CONNECTION
    {
        warn!(%name, "refusing to override a framing header; ignored");
        return None;
    }
    match HeaderValue::from_str(value) {
        Ok(value) => Some((name, value)),
        Err(_) => {
            warn!(%name, "invalid header value; ignored");
            None
        }
    }
}

fn set_header(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue, append: bool) {
    if append {
        headers.append(name, value);
    } else {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> PipeCall {
        PipeCall {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn parses_pipe_grammar() {
        assert_eq!(
            parse_pipes("header(Name,Value)|header(Name2,Value2)|status(404)").unwrap(),
            vec![
                call("header", &["Name", "Value"]),
                call("header", &["Name2", "Value2"]),
                call("status", &["404"]),
            ]
        );
        assert_eq!(
            parse_pipes(r"header(X,a\,b\)c\|d\\e,True)").unwrap(),
            vec![call("header", &["X", r"a,b)c|d\e", "True"])]
        );
        assert_eq!(
            parse_pipes("gzip|trickle(d1)|").unwrap(),
            vec![call("gzip", &[]), call("trickle", &["d1"])]
        );
        assert_eq!(parse_pipes("status()").unwrap(), vec![call("status", &[])]);
        assert_eq!(parse_pipes("").unwrap(), vec![]);
        assert!(parse_pipes("header(a,b").is_err());
        assert!(parse_pipes("header(a,b)x").is_err());
        assert!(parse_pipes("(a)").is_err());
        assert!(parse_pipes(r"header(a\").is_err());
    }

    #[test]
    fn applies_pipes() {
        let mut status = StatusCode::OK;
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("old"));
        let calls = parse_pipes(
            "header(X-A,new)|header(X-B,1)|header(X-B,2,True)|status(418)|nope(1)|status(abc)|header(Content-Length,1)",
        )
        .unwrap();
        apply_pipes(&mut status, &mut headers, &calls);
        assert_eq!(status, StatusCode::IM_A_TEAPOT);
        assert_eq!(headers.get_all("x-a").iter().collect::<Vec<_>>(), ["new"]);
        assert_eq!(
            headers.get_all("x-b").iter().collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert!(headers.get("content-length").is_none());
    }

    #[test]
    fn sidecar_lines() {
        let lines = parse_headers_file("A: 1\r\n\nbad line\nB:two: parts \nA: 2\n: x\n");
        assert_eq!(
            lines,
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "two: parts".to_string()),
                ("A".to_string(), "2".to_string()),
            ]
        );
        let mut headers = HeaderMap::new();
        headers.insert("a", HeaderValue::from_static("default"));
        apply_sidecar(&mut headers, &lines);
        assert_eq!(headers.get_all("a").iter().collect::<Vec<_>>(), ["1", "2"]);
    }
}
