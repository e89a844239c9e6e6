// What goes wrong with workers reaches the page: a script that cannot be
// fetched fires `error` at the Worker, a cross-origin URL throws
// SecurityError, and an exception the worker does not handle fires an
// ErrorEvent at the Worker (and is printed).
try {
  new Worker("https://elsewhere.example/worker.js");
} catch (error) {
  console.log("cross-origin:", error.name);
}
const missing = new Worker("missing.js");
console.log("missing script:", await new Promise((resolve) => {
  missing.onerror = (e) => resolve(`${e.type} (${e.constructor.name})`);
}));
const thrower = new Worker("thrower.js");
const error = await new Promise((resolve) => {
  thrower.onerror = resolve;
});
console.log("uncaught in the worker:", error.constructor.name, error.message);
console.log("at", new URL(error.filename).pathname, "line", error.lineno);
const handled = new Worker("handles-its-own.js");
console.log("a worker that handles its error says:", await new Promise((resolve) => {
  handled.onmessage = (e) => resolve(e.data);
  handled.onerror = () => resolve("the error escaped");
}));
