// A listener that throws fails the install, and the error names its location.
self.addEventListener("install", () => {
  null.prime();
});
