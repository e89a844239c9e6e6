//! `.sub.` file substitution: wptserve's `sub` pipe for the templates that
//! tests use (`{{host}}`, `{{domains[www1]}}`, `{{hosts[alt][]}}`,
//! `{{ports[http][0]}}`, `{{GET[x]}}`, `{{headers[x]}}`, `{{location[..]}}`,
//! `{{uuid()}}`, `{{$var:expr}}` / `{{$var}}`).

use std::collections::HashMap;

/// The names and ports of the run's servers.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The main host name (`web-platform.test`).
    pub browser_host: String,
    /// The alternate host (`not-web-platform.test`), for `hosts[alt][..]`.
    pub alt_host: String,
    /// The two HTTP ports (`ports[http][0]`, `ports[http][1]`).
    pub ports: [u16; 2],
    /// The two HTTPS ports (`ports[https][0]`, `ports[https][1]`).
    pub https_ports: [u16; 2],
}

/// Subdomains that exist on both hosts, as upstream's config lists them.
pub const SUBDOMAINS: &[(&str, &str)] = &[
    ("www", "www"),
    ("www1", "www1"),
    ("www2", "www2"),
    ("天気の良い日", "xn--n8j6ds53lwwkrqhv28a"),
    ("élève", "xn--lve-6lad"),
];

impl HostConfig {
    /// `domains[sub]` / `hosts[][sub]` (`alt` false) or `hosts[alt][sub]`.
    pub fn host(&self, alt: bool, sub: &str) -> Option<String> {
        let base = if alt {
            &self.alt_host
        } else {
            &self.browser_host
        };
        if sub.is_empty() {
            return Some(base.clone());
        }
        SUBDOMAINS
            .iter()
            .find(|(name, puny)| *name == sub || *puny == sub)
            .map(|(_, puny)| format!("{puny}.{base}"))
    }

    /// Every host name the servers answer for.
    pub fn all_hosts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for alt in [false, true] {
            out.push(self.host(alt, "").unwrap());
            for (name, _) in SUBDOMAINS {
                out.push(self.host(alt, name).unwrap());
            }
        }
        out
    }
}

/// What a substitution can read about the request being answered.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// `scheme://host:port` of the request's URL.
    pub scheme: String,
    /// Host name (no port).
    pub hostname: String,
    /// Port.
    pub port: u16,
    /// Path.
    pub path: String,
    /// Query (with `?`, or empty).
    pub query: String,
    /// Request headers, names lowercased.
    pub headers: Vec<(String, String)>,
}

/// Replaces every `{{...}}` template in `text`. Unknown templates are left
/// as they are and listed in the returned errors.
pub fn substitute(text: &str, hosts: &HostConfig, req: &RequestInfo) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let expr = after[..end].trim();
        match evaluate(expr, hosts, req, &mut vars) {
            Some(value) => out.push_str(&value),
            None => {
                errors.push(format!("unknown template {{{{{expr}}}}}"));
                out.push_str(&rest[start..start + 2 + end + 2]);
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    (out, errors)
}

fn evaluate(
    expr: &str,
    hosts: &HostConfig,
    req: &RequestInfo,
    vars: &mut HashMap<String, String>,
) -> Option<String> {
    if let Some(var) = expr.strip_prefix('$') {
        return match var.split_once(':') {
            Some((name, inner)) => {
                let value = evaluate(inner.trim(), hosts, req, vars)?;
                vars.insert(name.trim().to_string(), value.clone());
                Some(value)
            }
            None => vars.get(var.trim()).cloned(),
        };
    }
    match expr {
        "host" => return Some(hosts.browser_host.clone()),
        "uuid()" => return Some(uuid::Uuid::new_v4().to_string()),
        _ => {}
    }
    let (name, keys) = split_keys(expr)?;
    let key = |i: usize| keys.get(i).map(String::as_str);
    match (name, keys.len()) {
        ("domains", 1) => hosts.host(false, key(0)?),
        ("hosts", 2) => match key(0)? {
            "" => hosts.host(false, key(1)?),
            "alt" => hosts.host(true, key(1)?),
            _ => None,
        },
        ("ports", 2) => {
            let index: usize = key(1)?.parse().ok()?;
            match key(0)? {
                // The private/public address-space variants and WebSockets
                // share the ports of their scheme (there is one loopback
                // address and no separate WebSocket server); h2 is TLS that
                // negotiates HTTP/1.1.
                "http" | "http-private" | "http-public" | "ws" => {
                    hosts.ports.get(index).map(|p| p.to_string())
                }
                "https" | "https-private" | "https-public" | "h2" | "wss" => {
                    hosts.https_ports.get(index).map(|p| p.to_string())
                }
                _ => None,
            }
        }
        ("GET", 1) => Some(query_param(&req.query, key(0)?).unwrap_or_default()),
        ("headers", 1) => {
            let wanted = key(0)?.to_ascii_lowercase();
            Some(
                req.headers
                    .iter()
                    .find(|(n, _)| *n == wanted)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            )
        }
        ("location", 1) => Some(match key(0)? {
            "scheme" => req.scheme.clone(),
            "host" => format!("{}:{}", req.hostname, req.port),
            "hostname" => req.hostname.clone(),
            "port" => req.port.to_string(),
            "path" => req.path.clone(),
            "query" => req.query.clone(),
            "pathname" => req.path.clone(),
            "server" => format!("{}://{}:{}", req.scheme, req.hostname, req.port),
            _ => return None,
        }),
        _ => None,
    }
}

/// `name[a][b]` -> ("name", ["a", "b"]).
fn split_keys(expr: &str) -> Option<(&str, Vec<String>)> {
    let open = expr.find('[')?;
    let name = &expr[..open];
    let mut keys = Vec::new();
    let mut rest = &expr[open..];
    while let Some(inner) = rest.strip_prefix('[') {
        let close = inner.find(']')?;
        keys.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    rest.is_empty().then_some((name, keys))
}

fn query_param(query: &str, name: &str) -> Option<String> {
    let query = query.trim_start_matches('?');
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> HostConfig {
        HostConfig {
            browser_host: "web-platform.test".into(),
            alt_host: "not-web-platform.test".into(),
            ports: [8000, 8001],
            https_ports: [8443, 8444],
        }
    }

    #[test]
    fn hosts_ports_and_query() {
        let req = RequestInfo {
            scheme: "http".into(),
            hostname: "web-platform.test".into(),
            port: 8000,
            path: "/a/b.sub.js".into(),
            query: "?x=hello%20there&y=2".into(),
            headers: vec![("user-agent".into(), "swrt".into())],
        };
        let (out, errors) = substitute(
            "https://{{host}}:{{ports[https][0]}}/ {{ports[https][1]}} {{domains[www1]}} {{hosts[alt][]}} \
             {{hosts[alt][www]}} {{hosts[][www2]}} {{ports[http][1]}} {{GET[x]}}|{{GET[z]}} \
             {{headers[User-Agent]}} {{location[server]}} {{domains[élève]}} {{ unknown }}",
            &config(),
            &req,
        );
        assert_eq!(
            out,
            "https://web-platform.test:8443/ 8444 www1.web-platform.test not-web-platform.test \
             www.not-web-platform.test www2.web-platform.test 8001 hello there| \
             swrt http://web-platform.test:8000 xn--lve-6lad.web-platform.test {{ unknown }}"
        );
        assert_eq!(errors, ["unknown template {{unknown}}"]);
    }

    #[test]
    fn variables_and_uuid() {
        let (out, _) = substitute("{{$id:uuid()}} {{$id}}", &config(), &RequestInfo::default());
        let (a, b) = out.split_once(' ').unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        let (out, _) = substitute("no templates {{", &config(), &RequestInfo::default());
        assert_eq!(out, "no templates {{");
    }

    #[test]
    fn all_hosts_lists_subdomains() {
        let hosts = config().all_hosts();
        assert!(hosts.contains(&"www1.web-platform.test".to_string()));
        assert!(hosts.contains(&"xn--n8j6ds53lwwkrqhv28a.not-web-platform.test".to_string()));
        assert_eq!(hosts.len(), 12);
    }
}
