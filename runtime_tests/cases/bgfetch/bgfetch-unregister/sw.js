// Logs every Background Fetch event it receives: after unregister() there
// must be none, for this worker or for one registered later on the scope.
for (const type of ["backgroundfetchsuccess", "backgroundfetchfail", "backgroundfetchabort"]) {
  self.addEventListener(type, (event) => console.log("sw: unexpected", type, event.registration.id));
}
