//! Service Workers static routing: the router rules a worker adds in its
//! install event (`InstallEvent.addRoutes()`), checked as "Verify Router
//! Condition" says, and consulted by Handle Fetch before a fetch event
//! ("Get Router Source").

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;
use urlpattern::{UrlPattern, UrlPatternInit, UrlPatternMatchInput, UrlPatternOptions};

/// How deeply `_or` and `not` may nest (Chromium's limit).
const MAX_CONDITION_DEPTH: usize = 10;

/// A `RouterRule` as script gave it, after Web IDL conversion: what is
/// checked, compiled and stored with the worker.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct RouterRuleInit {
    pub(crate) condition: RouterConditionInit,
    pub(crate) source: RouterSourceInit,
}

/// A `RouterCondition` dictionary.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RouterConditionInit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url_pattern: Option<UrlPatternInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) request_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) request_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) request_destination: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) running_status: Option<String>,
    #[serde(default, rename = "_or", skip_serializing_if = "Option::is_none")]
    pub(crate) or: Option<Vec<RouterConditionInit>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) not: Option<Box<RouterConditionInit>>,
}

/// `URLPatternCompatible`: a constructor string or a `URLPatternInit`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum UrlPatternInput {
    String(String),
    Init(PatternInit),
}

/// A `URLPatternInit` dictionary.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PatternInit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pathname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
    #[serde(default, rename = "baseURL", skip_serializing_if = "Option::is_none")]
    base_url: Option<String>,
}

/// `RouterSource`: a `RouterSourceEnum` value or a `RouterSourceDict`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub(crate) enum RouterSourceInit {
    Enum(String),
    Dict {
        #[serde(rename = "cacheName", default, skip_serializing_if = "Option::is_none")]
        cache_name: Option<String>,
    },
}

/// Where a request matched by a rule is answered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouterSource {
    /// The network, without the worker.
    Network,
    /// The Cache API: the named cache, or every cache of the origin in
    /// creation order; the network when nothing matches.
    Cache(Option<String>),
    /// The worker's fetch event, as without a router.
    FetchEvent,
    /// The network and the fetch event at once; the first response wins.
    RaceNetworkAndFetchHandler,
}

/// A checked rule.
#[derive(Debug)]
pub(crate) struct RouterRule {
    condition: RouterCondition,
    pub(crate) source: RouterSource,
}

#[derive(Debug, Default)]
struct RouterCondition {
    url_pattern: Option<UrlPattern>,
    request_method: Option<String>,
    request_mode: Option<String>,
    request_destination: Option<String>,
    running: Option<bool>,
    or: Option<Vec<RouterCondition>>,
    not: Option<Box<RouterCondition>>,
}

/// What a rule's condition looks at in a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoutedRequest<'a> {
    pub(crate) url: &'a Url,
    pub(crate) method: &'a str,
    pub(crate) mode: &'a str,
    pub(crate) destination: &'a str,
}

/// `addRoutes()` steps: every rule's condition passes "Verify Router
/// Condition" (else TypeError, the message says why), and a rule whose
/// source needs the fetch event needs a fetch listener.
pub(crate) fn compile_rules(
    rules: &[RouterRuleInit],
    script_url: &Url,
    has_fetch_handler: bool,
) -> Result<Vec<RouterRule>, String> {
    rules
        .iter()
        .map(|rule| {
            let source = compile_source(&rule.source)?;
            if matches!(
                source,
                RouterSource::FetchEvent | RouterSource::RaceNetworkAndFetchHandler
            ) && !has_fetch_handler
            {
                return Err(
                    "a rule whose source is the fetch event needs a fetch event listener".into(),
                );
            }
            Ok(RouterRule {
                condition: compile_condition(&rule.condition, script_url, 0)?,
                source,
            })
        })
        .collect()
}

fn compile_source(source: &RouterSourceInit) -> Result<RouterSource, String> {
    Ok(match source {
        RouterSourceInit::Enum(value) => match value.as_str() {
            "network" => RouterSource::Network,
            "cache" => RouterSource::Cache(None),
            "fetch-event" => RouterSource::FetchEvent,
            "race-network-and-fetch-handler" => RouterSource::RaceNetworkAndFetchHandler,
            other => return Err(format!("'{other}' is not a valid RouterSourceEnum value")),
        },
        RouterSourceInit::Dict { cache_name } => RouterSource::Cache(cache_name.clone()),
    })
}

/// "Verify Router Condition", compiling the URL pattern on the way.
fn compile_condition(
    init: &RouterConditionInit,
    script_url: &Url,
    depth: usize,
) -> Result<RouterCondition, String> {
    if depth >= MAX_CONDITION_DEPTH {
        return Err(format!(
            "router conditions nest more than {MAX_CONDITION_DEPTH} levels deep"
        ));
    }
    let mut condition = RouterCondition::default();
    let mut has_condition = false;
    if let Some(input) = &init.url_pattern {
        let pattern = compile_pattern(input, script_url)?;
        if pattern.has_regexp_groups() {
            return Err(
                "a router condition's urlPattern may not use regular expression groups".into(),
            );
        }
        condition.url_pattern = Some(pattern);
        has_condition = true;
    }
    if let Some(method) = &init.request_method {
        condition.request_method = Some(normalize_method(method)?);
        has_condition = true;
    }
    if let Some(mode) = &init.request_mode {
        condition.request_mode = Some(mode.clone());
        has_condition = true;
    }
    if let Some(destination) = &init.request_destination {
        condition.request_destination = Some(destination.clone());
        has_condition = true;
    }
    if let Some(status) = &init.running_status {
        condition.running = Some(match status.as_str() {
            "running" => true,
            "not-running" => false,
            other => return Err(format!("'{other}' is not a valid RunningStatus value")),
        });
        has_condition = true;
    }
    if let Some(any) = &init.or {
        if has_condition {
            return Err("'_or' cannot be combined with other conditions".into());
        }
        condition.or = Some(
            any.iter()
                .map(|c| compile_condition(c, script_url, depth + 1))
                .collect::<Result<_, _>>()?,
        );
        has_condition = true;
    }
    if let Some(not) = &init.not {
        if has_condition {
            return Err("'not' cannot be combined with other conditions".into());
        }
        condition.not = Some(Box::new(compile_condition(not, script_url, depth + 1)?));
        has_condition = true;
    }
    if !has_condition {
        return Err("a router condition needs at least one condition".into());
    }
    Ok(condition)
}

/// URL Pattern, "build a URL pattern from a Web IDL value" with the
/// worker's script URL as the base URL.
fn compile_pattern(input: &UrlPatternInput, script_url: &Url) -> Result<UrlPattern, String> {
    let init = match input {
        UrlPatternInput::String(text) => {
            UrlPatternInit::parse_constructor_string::<regex::Regex>(text, Some(script_url.clone()))
                .map_err(|e| format!("'{text}' is not a valid URL pattern: {e}"))?
        }
        UrlPatternInput::Init(init) => UrlPatternInit {
            protocol: init.protocol.clone(),
            username: init.username.clone(),
            password: init.password.clone(),
            hostname: init.hostname.clone(),
            port: init.port.clone(),
            pathname: init.pathname.clone(),
            search: init.search.clone(),
            hash: init.hash.clone(),
            base_url: Some(match &init.base_url {
                Some(base) => {
                    Url::parse(base).map_err(|_| format!("'{base}' is not a valid base URL"))?
                }
                None => script_url.clone(),
            }),
        },
    };
    UrlPattern::parse(init, UrlPatternOptions::default())
        .map_err(|e| format!("not a valid URL pattern: {e}"))
}

/// Fetch's "normalize" of a method, refusing what is not a method.
fn normalize_method(method: &str) -> Result<String, String> {
    let token = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token {
        return Err(format!("'{method}' is not a valid HTTP method"));
    }
    let upper = method.to_ascii_uppercase();
    Ok(
        if ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].contains(&upper.as_str()) {
            upper
        } else {
            method.to_string()
        },
    )
}

impl RouterCondition {
    /// "Match Router Condition".
    fn matches(&self, request: &RoutedRequest<'_>, running: bool) -> bool {
        if let Some(any) = &self.or {
            return any.iter().any(|c| c.matches(request, running));
        }
        if let Some(not) = &self.not {
            return !not.matches(request, running);
        }
        if let Some(pattern) = &self.url_pattern {
            if !pattern
                .test(UrlPatternMatchInput::Url(request.url.clone()))
                .unwrap_or(false)
            {
                return false;
            }
        }
        self.request_method
            .as_deref()
            .is_none_or(|m| m == request.method)
            && self
                .request_mode
                .as_deref()
                .is_none_or(|m| m == request.mode)
            && self
                .request_destination
                .as_deref()
                .is_none_or(|d| d == request.destination)
            && self.running.is_none_or(|r| r == running)
    }
}

/// "Get Router Source": the source of the first rule whose condition
/// matches `request`, if any. `running` says whether the worker runs.
pub(crate) fn router_source<'r>(
    rules: &'r [Arc<RouterRule>],
    request: &RoutedRequest<'_>,
    running: bool,
) -> Option<&'r RouterSource> {
    rules
        .iter()
        .find(|rule| rule.condition.matches(request, running))
        .map(|rule| &rule.source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(
        json: serde_json::Value,
        has_fetch_handler: bool,
    ) -> Result<Vec<Arc<RouterRule>>, String> {
        let init: Vec<RouterRuleInit> = serde_json::from_value(json).unwrap();
        let compiled = compile_rules(
            &init,
            &Url::parse("https://a.test/app/sw.js").unwrap(),
            has_fetch_handler,
        )?;
        Ok(compiled.into_iter().map(Arc::new).collect())
    }

    fn source(
        rules: &[Arc<RouterRule>],
        url: &str,
        method: &str,
        running: bool,
    ) -> Option<RouterSource> {
        let url = Url::parse(url).unwrap();
        let request = RoutedRequest {
            url: &url,
            method,
            mode: "cors",
            destination: "",
        };
        router_source(rules, &request, running).cloned()
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let compiled = rules(
            serde_json::json!([
                { "condition": { "urlPattern": "/app/api/*", "requestMethod": "post" }, "source": "network" },
                { "condition": { "urlPattern": { "pathname": "/app/static/*" } }, "source": { "cacheName": "v1" } },
                { "condition": { "not": { "runningStatus": "running" } }, "source": "cache" },
                { "condition": { "_or": [{ "requestMode": "navigate" }, { "requestMethod": "GET" }] }, "source": "fetch-event" }
            ]),
            true,
        )
        .unwrap();
        assert_eq!(
            source(&compiled, "https://a.test/app/api/x", "POST", true),
            Some(RouterSource::Network),
            "patterns resolve against the script URL; methods are normalized"
        );
        assert_eq!(
            source(&compiled, "https://a.test/app/static/a.css", "GET", true),
            Some(RouterSource::Cache(Some("v1".into())))
        );
        assert_eq!(
            source(&compiled, "https://a.test/app/other", "GET", false),
            Some(RouterSource::Cache(None))
        );
        assert_eq!(
            source(&compiled, "https://a.test/app/other", "GET", true),
            Some(RouterSource::FetchEvent)
        );
        assert_eq!(
            source(&compiled, "https://a.test/app/other", "PUT", true),
            None
        );
    }

    #[test]
    fn verify_router_condition_refuses_what_the_spec_refuses() {
        let refused = [
            serde_json::json!([{ "condition": {}, "source": "network" }]),
            serde_json::json!([{ "condition": { "urlPattern": "/(a|b)" }, "source": "network" }]),
            serde_json::json!([{ "condition": { "urlPattern": "/a", "_or": [] }, "source": "network" }]),
            serde_json::json!([{ "condition": { "requestMode": "cors", "not": { "requestMode": "cors" } }, "source": "network" }]),
            serde_json::json!([{ "condition": { "requestMethod": "bad method" }, "source": "network" }]),
            serde_json::json!([{ "condition": { "not": { "not": { "not": { "not": { "not": { "not": { "not": { "not": { "not": { "not": { "requestMode": "cors" } } } } } } } } } } }, "source": "network" }]),
        ];
        for rule in refused {
            assert!(rules(rule.clone(), true).is_err(), "{rule}");
        }
        let fetch_event = serde_json::json!([{ "condition": { "requestMode": "cors" }, "source": "fetch-event" }]);
        assert!(
            rules(fetch_event.clone(), false).is_err(),
            "no fetch listener"
        );
        assert!(rules(fetch_event, true).is_ok());
        let empty_or = serde_json::json!([{ "condition": { "_or": [] }, "source": "network" }]);
        let compiled = rules(empty_or, true).unwrap();
        assert_eq!(
            source(&compiled, "https://a.test/x", "GET", true),
            None,
            "an empty _or matches nothing"
        );
    }

    /// Rules are stored with the worker as JSON and compiled again when it
    /// is restored: what is written reads back as the same rules.
    #[test]
    fn stored_rules_read_back_the_same() {
        let added: Vec<RouterRuleInit> = serde_json::from_value(serde_json::json!([
            { "condition": { "urlPattern": { "pathname": "/a/*", "baseURL": "https://a.test/" } }, "source": {} },
            { "condition": { "_or": [{ "runningStatus": "not-running" }] }, "source": { "cacheName": "v1" } },
            { "condition": { "not": { "urlPattern": "/b" } }, "source": "race-network-and-fetch-handler" }
        ]))
        .unwrap();
        let stored = serde_json::to_string(&added).unwrap();
        let read: Vec<RouterRuleInit> = serde_json::from_str(&stored).unwrap();
        assert_eq!(read, added);
        assert_eq!(read[0].source, RouterSourceInit::Dict { cache_name: None });
        let compiled = rules(serde_json::from_str(&stored).unwrap(), true).unwrap();
        assert_eq!(compiled[1].source, RouterSource::Cache(Some("v1".into())));
    }
}
