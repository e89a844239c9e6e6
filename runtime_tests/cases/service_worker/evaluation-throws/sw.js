// Top-level throw fails evaluation.
function boot() {
  throw new RangeError("bad config");
}
boot();
