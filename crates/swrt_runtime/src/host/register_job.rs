//! The register and update job (Chromium's `service_worker_register_job`):
//! the scope checks of Register and the Update, Install and Activate
//! algorithms of the Service Workers spec (§Update, §Install, §Activate).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use url::Url;

use super::registration::{Registration, UpdateViaCache};
use super::version::{Version, WorkerState};
use super::HostInner;
use crate::error::{HostError, ScriptError};
use crate::realm::EventOutcome;
use crate::sync::Locked;
use crate::worker_type::WorkerType;

/// Scope defaults to the script's directory; it must be same-origin with the
/// script and, without a `Service-Worker-Allowed` header, inside its directory
/// (Register/Update "max scope" check).
pub(crate) fn resolve_scope(script_url: &Url, scope: Option<Url>) -> Result<Url, HostError> {
    if !matches!(script_url.scheme(), "http" | "https" | "file") {
        return Err(HostError::Invalid(format!(
            "script URL {script_url} must be http(s) (or a local file)"
        )));
    }
    // Start Register: an escaped slash or backslash in the script's or the
    // scope's path is a TypeError.
    let escapes_a_separator = |url: &Url| {
        let path = url.path().to_ascii_lowercase();
        path.contains("%2f") || path.contains("%5c")
    };
    if escapes_a_separator(script_url) {
        return Err(HostError::Invalid(format!(
            "the script URL {script_url} has an escaped '/' or '\\' in its path"
        )));
    }
    if let Some(scope) = scope.as_ref().filter(|scope| escapes_a_separator(scope)) {
        return Err(HostError::Invalid(format!(
            "the scope URL {scope} has an escaped '/' or '\\' in its path"
        )));
    }
    let max_scope = script_url
        .join("./")
        .map_err(|_| HostError::Invalid(format!("cannot derive a scope from {script_url}")))?;
    let scope = scope.unwrap_or_else(|| max_scope.clone());
    // Register: a scope of another origin is a SecurityError.
    if scope.origin() != script_url.origin() {
        return Err(HostError::Security(format!(
            "scope {scope} is not same-origin with the script {script_url}"
        )));
    }
    Ok(scope)
}

/// Update step "max scope": the scope must lie under the script's directory,
/// or under the path a `Service-Worker-Allowed` header widens it to.
pub(crate) fn check_max_scope(
    scope: &Url,
    script_url: &Url,
    service_worker_allowed: Option<&str>,
) -> Result<(), HostError> {
    let max_scope = match service_worker_allowed {
        Some(allowed) => script_url.join(allowed).map_err(|_| {
            HostError::Invalid(format!(
                "the Service-Worker-Allowed header '{allowed}' is not a URL"
            ))
        })?,
        None => script_url
            .join("./")
            .map_err(|_| HostError::Invalid(format!("cannot derive a scope from {script_url}")))?,
    };
    if max_scope.origin() != script_url.origin() || !scope.path().starts_with(max_scope.path()) {
        return Err(HostError::Security(format!(
            "the path of the scope {scope} is not under the max scope allowed ({max_scope}); \
             set the Service-Worker-Allowed header or register a narrower scope"
        )));
    }
    Ok(())
}

/// What an update job carries besides the script (Service Workers, "job").
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UpdateJobOptions {
    /// register()'s `updateViaCache`; None keeps the registration's.
    pub(crate) update_via_cache: Option<UpdateViaCache>,
    /// The job's "force bypass cache flag" (a soft update sets it).
    pub(crate) force_bypass_cache: bool,
}

impl Registration {
    /// Update + Install + Activate for a new script. `installing` learns
    /// when the job's promise resolves (the new worker is installing) or that
    /// it failed before that (fetch or evaluation).
    pub(crate) async fn update(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        id: u64,
        script_url: Url,
        worker_type: WorkerType,
        options: UpdateJobOptions,
        installing: Option<
            tokio::sync::oneshot::Sender<
                Result<crate::realm::RegisterResolution, crate::realm::JobRejection>,
            >,
        >,
    ) -> Result<(), HostError> {
        let _job = self.jobs.lock().await;
        let mut installing = installing;
        let result = self
            .run_update(host, id, script_url, worker_type, options, &mut installing)
            .await;
        if result.is_err() {
            // Update, on failure: a registration that never got a worker
            // leaves the registration map before the promise rejects, so
            // the page cannot find it afterwards.
            host.remove_if_empty(self);
        }
        if let (Err(error), Some(tx)) = (&result, installing.take()) {
            let _ = tx.send(Err(error.into()));
        }
        drop(_job);
        if self.is_unregistered() {
            // Unregistered while this job ran: the job kept it from being
            // cleared until now.
            host.try_clear_registration(self.id).await;
        }
        result
    }

    async fn run_update(
        self: &Arc<Self>,
        host: &Arc<HostInner>,
        id: u64,
        script_url: Url,
        worker_type: WorkerType,
        options: UpdateJobOptions,
        installing: &mut Option<
            tokio::sync::oneshot::Sender<
                Result<crate::realm::RegisterResolution, crate::realm::JobRejection>,
            >,
        >,
    ) -> Result<(), HostError> {
        // Update: fetch the script. Its request's redirect mode is "error":
        // a redirected response is a network error. updateViaCache, the
        // job's force bypass flag and staleness choose its cache mode.
        let update_via_cache = options
            .update_via_cache
            .unwrap_or_else(|| self.update_via_cache());
        let has_worker = !self.versions().is_empty();
        let stale = has_worker && self.is_stale(std::time::SystemTime::now());
        let cache_mode = update_via_cache.main_script_cache_mode(options.force_bypass_cache, stale);
        let script = host.fetch_script_with(&script_url, cache_mode).await?;
        *self.last_update_check.locked() = Some(std::time::SystemTime::now());
        if script.url != script_url {
            return Err(HostError::ScriptFetch {
                url: script_url.to_string(),
                reason: format!("the response is a redirect (to {})", script.url),
            });
        }
        check_max_scope(
            &self.scope,
            &script.url,
            script.service_worker_allowed.as_deref(),
        )?;
        // Update, when nothing changed, and Install: the registration takes
        // the job's update via cache mode. A stored registration keeps it and
        // the last update check across restarts.
        *self.update_via_cache.locked() = update_via_cache;
        host.persist_update_check(self).await;
        let imported_cache_mode = update_via_cache.imported_script_cache_mode(stale);
        // Update step "byte-for-byte identical": an unchanged script of the
        // newest worker, of the same type, with unchanged imported scripts,
        // means there is nothing to install.
        if let Some(newest) = self.versions().first().cloned() {
            let same_url = newest.script_url == script.url && newest.worker_type == worker_type;
            let same_bytes = newest.script_source.locked().as_deref() == Some(script.text.as_str());
            if same_url
                && same_bytes
                && newest.state() != WorkerState::Redundant
                && imports_unchanged(host, &newest, imported_cache_mode).await?
            {
                if let Some(tx) = installing.take() {
                    let (seen_tx, _) = tokio::sync::oneshot::channel();
                    let _ = tx.send(Ok((self.view(), seen_tx)));
                }
                return Ok(());
            }
        }
        let version = Arc::new(Version {
            id,
            script_url: script.url.clone(),
            worker_type,
            script_source: Mutex::new(Some(script.text)),
            script_csp: Mutex::new(script.csp),
            imports: Arc::new(crate::realm::ImportedScripts {
                bypass_http_cache: AtomicBool::new(
                    imported_cache_mode == crate::loader::ScriptCacheMode::NoCache,
                ),
                ..Default::default()
            }),
            state: Mutex::new(WorkerState::Parsed),
            runner: tokio::sync::Mutex::new(None),
            skip_waiting: AtomicBool::new(false),
            activity: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            fetch_handler_seen: Mutex::new(true),
            router: Mutex::default(),
        });
        // Run the script ("Run Service Worker"): a throw here fails the job.
        self.slots.locked().evaluating = Some(version.clone());
        let ran = version.running(host, self).await;
        {
            // One step, so that a lookup by id never misses the version.
            let mut slots = self.slots.locked();
            slots.evaluating = None;
            if ran.is_ok() {
                // Install.
                slots.installing = Some(version.clone());
            }
        }
        ran?;
        self.set_state(&version, WorkerState::Installing);
        // Install step 4: resolve the job promise with the registration,
        // and let the page's continuation run before the state moves on.
        if let Some(tx) = installing.take() {
            let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
            if tx.send(Ok((self.view(), seen_tx))).is_ok() {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), seen_rx).await;
            }
        }
        self.publish(host).await;
        let outcome = version.dispatch(host, self, "install", Value::Null).await?;
        version
            .imports
            .install_finished
            .store(true, Ordering::Release);
        if !outcome.is_success() {
            self.slots.locked().installing = None;
            self.set_state(&version, WorkerState::Redundant);
            self.publish(host).await;
            version.push_registration(self.view(), self.ack_limit).await;
            version.stop().await;
            let error = match outcome {
                EventOutcome::ListenerThrew(e) | EventOutcome::Rejected(e) => e,
                EventOutcome::Terminated(reason) => {
                    ScriptError::plain(format!("worker terminated: {reason}"))
                }
                EventOutcome::WorkerGone => ScriptError::plain("the worker stopped during install"),
                EventOutcome::Completed => unreachable!("success handled above"),
            };
            return Err(HostError::InstallFailed {
                url: version.script_url.to_string(),
                error,
            });
        }
        {
            let mut slots = self.slots.locked();
            slots.installing = None;
            slots.waiting = Some(version.clone());
        }
        self.set_state(&version, WorkerState::Installed);
        self.publish(host).await;

        // Try Activate: the waiting worker activates as soon as the old one
        // has no events in flight. A registration unregistered meanwhile
        // activates nothing: its waiting worker goes when it is cleared.
        let previous = self.slots.locked().active.clone();
        if let Some(previous) = &previous {
            while previous.events_in_flight() > 0
                && !version.skip_waiting.load(Ordering::Acquire)
                && !self.is_unregistered()
            {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        if self.is_unregistered() {
            tracing::debug!(script_url = %version.script_url, "unregistered while installing: not activated");
            return Ok(());
        }
        {
            let mut slots = self.slots.locked();
            slots.waiting = None;
            slots.active = Some(version.clone());
        }
        if let Some(previous) = previous {
            self.set_state(&previous, WorkerState::Redundant);
            previous
                .push_registration(self.view(), self.ack_limit)
                .await;
            previous.stop().await;
        }
        self.set_state(&version, WorkerState::Activating);
        self.publish(host).await;
        // Activate step: failures of the activate event do not stop activation.
        let outcome = version
            .dispatch(host, self, "activate", Value::Null)
            .await?;
        match &outcome {
            EventOutcome::Terminated(reason) => {
                tracing::warn!(script_url = %version.script_url, %reason, "worker terminated during activate")
            }
            EventOutcome::Rejected(error) | EventOutcome::ListenerThrew(error) => {
                tracing::warn!(script_url = %version.script_url, "activate event failed (the worker activates anyway): {error}")
            }
            _ => {}
        }
        self.set_state(&version, WorkerState::Activated);
        // Unregistered while it installed or activated: nothing to keep.
        if host.is_current(self) {
            host.persist_registration(self, &version).await;
        }
        self.publish(host).await;
        Ok(())
    }
}

impl HostInner {
    /// Service Workers "Soft Update", run after a navigation and after a
    /// functional event when the registration is stale: an update job with
    /// the force bypass cache flag, whose outcome only the host sees.
    pub(crate) fn soft_update_if_stale(self: &Arc<Self>, registration: &Arc<Registration>) {
        if registration.is_unregistered() || !registration.is_stale(std::time::SystemTime::now()) {
            return;
        }
        let Some((script_url, worker_type)) = registration.newest_script() else {
            return;
        };
        let registration = registration.clone();
        let id = self.next_id.fetch_add(1, Ordering::AcqRel);
        tracing::debug!(scope = %registration.scope, "soft update of a stale registration");
        self.spawn_job(move |host| async move {
            let options = UpdateJobOptions {
                update_via_cache: None,
                force_bypass_cache: true,
            };
            if let Err(error) = registration
                .update(&host, id, script_url, worker_type, options, None)
                .await
            {
                tracing::info!(scope = %registration.scope, "soft update failed: {error}");
            }
        });
    }
}

/// Update step "for each importUrl of the script resource map": fetch every
/// imported script again and compare it with what the worker installed.
async fn imports_unchanged(
    host: &HostInner,
    newest: &Version,
    cache_mode: crate::loader::ScriptCacheMode,
) -> Result<bool, HostError> {
    for (url, installed) in newest.imported_scripts() {
        let parsed = Url::parse(&url).map_err(|_| HostError::ScriptFetch {
            url: url.clone(),
            reason: "not a URL".into(),
        })?;
        let fetched = host.fetch_script_with(&parsed, cache_mode).await?;
        if fetched.text != installed {
            tracing::debug!(%url, "an imported script changed");
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_defaults_to_script_directory() {
        let script = Url::parse("http://localhost/app/sw.js").unwrap();
        assert_eq!(
            resolve_scope(&script, None).unwrap().as_str(),
            "http://localhost/app/"
        );
    }

    #[test]
    fn scope_outside_max_scope_is_rejected() {
        let script = Url::parse("http://localhost/app/sw.js").unwrap();
        let scope = Url::parse("http://localhost/").unwrap();
        assert!(check_max_scope(&scope, &script, None).is_err());
        assert!(check_max_scope(&scope, &script, Some("/")).is_ok());
        let other = Url::parse("http://example.com/app/").unwrap();
        assert!(resolve_scope(&script, Some(other)).is_err());
    }
}
