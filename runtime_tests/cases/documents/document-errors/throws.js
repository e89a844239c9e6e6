// line 1
function broken() {
  return null.value;
}
broken();
