// With --root and --origin, the embedded server is that origin.
console.log(location.href, registration.scope);
self.addEventListener("activate", (event) => {
  event.waitUntil(fetch("page.html").then((r) => console.log(r.status, r.headers.get("content-type"))));
});
