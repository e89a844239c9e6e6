// A classic page script (no module syntax) with the page's globals.
var fromClassic = 1;
console.log(typeof window, window === self, typeof document, document.readyState, globalThis.fromClassic);
const meta = document.createElement("meta");
meta.httpEquiv = "Content-Security-Policy";
meta.content = "connect-src 'self'";
document.head.appendChild(meta);
console.log(document.querySelector("meta[http-equiv]").content, isSecureContext, origin);
window.addEventListener("load", () => {
  console.log("load", document.readyState);
  // Pending work after the script ends still runs before the run exits.
  navigator.serviceWorker.getRegistrations().then((all) => console.log("registrations", all.length));
});
