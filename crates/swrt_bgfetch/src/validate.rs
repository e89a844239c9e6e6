//! `BackgroundFetchManager.fetch()` input: the `Request` constructor's
//! checks on each request (step 2), and the rejection for a fetch the store
//! refused to create.

use crate::error::{FetchRejection, Quota};
use crate::types::RequestSpec;
use swrt_store::{CreateFetchError, CredentialsMode, NewRequest, RequestMode};

/// The rejection `fetch()` gives for a fetch the store refused to create.
pub(crate) fn create_rejection(e: CreateFetchError, upload_total: u64) -> FetchRejection {
    match e {
        CreateFetchError::IdExists { .. } => FetchRejection::TypeError(
            "There already is a registration for the given id.".into(),
        ),
        // Chromium limits active fetches per origin; neither the draft nor
        // Chromium's error mapping names an exception for it. swrt treats it
        // as a resource limit: QuotaExceededError.
        CreateFetchError::TooManyActive { limit } => FetchRejection::QuotaExceeded(
            Quota::message(format!(
                "Too many active background fetches for this origin (limit {limit})."
            )),
        ),
        // The rejection says what was asked for and the origin's quota.
        CreateFetchError::QuotaExceeded {
            requested,
            free,
            quota,
        } => FetchRejection::QuotaExceeded(Quota {
            message: format!(
                "Quota exceeded: {requested} bytes requested, {free} of the origin's {quota} bytes free."
            ),
            quota: Some(quota),
            requested: Some(requested),
        }),
        CreateFetchError::Store(e) if e.is_storage_full() => FetchRejection::QuotaExceeded(Quota {
            message: "Quota exceeded: the disk is full.".into(),
            quota: None,
            requested: Some(upload_total),
        }),
        CreateFetchError::Store(e) => FetchRejection::Internal(e.to_string()),
    }
}

/// Request-constructor validation (step 2).
pub(crate) fn validate_request(r: &RequestSpec) -> Result<NewRequest, FetchRejection> {
    let url = url::Url::parse(&r.url)
        .map_err(|e| FetchRejection::TypeError(format!("Invalid URL {:?}: {e}", r.url)))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchRejection::TypeError(format!(
            "Request cannot be constructed from a URL that includes credentials: {}",
            r.url
        )));
    }
    let mode = match RequestMode::parse(&r.mode) {
        Some(m @ (RequestMode::Cors | RequestMode::SameOrigin)) => m,
        Some(RequestMode::NoCors) => {
            return Err(FetchRejection::TypeError(
                "Requests with 'no-cors' mode are not allowed.".into(),
            ))
        }
        Some(RequestMode::Navigate) => return Err(FetchRejection::TypeError(
            "Cannot construct a Request with a RequestInit whose mode member is set as 'navigate'."
                .into(),
        )),
        None => {
            return Err(FetchRejection::TypeError(format!(
                "Invalid request mode {:?}",
                r.mode
            )))
        }
    };
    let Some(credentials) = CredentialsMode::parse(&r.credentials) else {
        return Err(FetchRejection::TypeError(format!(
            "Invalid credentials mode {:?}",
            r.credentials
        )));
    };
    if r.method.is_empty()
        || !r
            .method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err(FetchRejection::TypeError(format!(
            "'{}' is not a valid HTTP method.",
            r.method
        )));
    }
    // Fetch "normalize a method" for the standard methods.
    let upper = r.method.to_ascii_uppercase();
    let method = if matches!(
        upper.as_str(),
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT"
    ) {
        upper
    } else {
        r.method.clone()
    };
    if matches!(
        method.to_ascii_uppercase().as_str(),
        "CONNECT" | "TRACE" | "TRACK"
    ) {
        return Err(FetchRejection::TypeError(format!(
            "'{}' HTTP method is unsupported.",
            r.method
        )));
    }
    if r.body.is_some() && matches!(method.as_str(), "GET" | "HEAD") {
        return Err(FetchRejection::TypeError(
            "Request with GET/HEAD method cannot have body.".into(),
        ));
    }
    for (k, v) in &r.headers {
        if hyper::header::HeaderName::from_bytes(k.as_bytes()).is_err()
            || hyper::header::HeaderValue::from_str(v).is_err()
        {
            return Err(FetchRejection::TypeError(format!("Invalid header {k:?}")));
        }
    }
    Ok(NewRequest {
        method,
        url: url.to_string(),
        headers: r.headers.clone(),
        mode,
        credentials,
        body: r.body.clone(),
        integrity: r.integrity.clone(),
    })
}
