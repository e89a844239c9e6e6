// META: global=window,serviceworker
// META: title=The global object's prototype chain cannot be replaced

test(() => {
  const chain = [];
  for (let object = self; object !== Object.prototype; object = Object.getPrototypeOf(object)) chain.push(object);
  assert_greater_than_equal(chain.length, 3, "the global, its interface's prototype and EventTarget.prototype");
  for (const object of chain) {
    const proto = Object.getPrototypeOf(object);
    assert_throws_js(TypeError, () => Object.setPrototypeOf(object, {}), "Object.setPrototypeOf");
    assert_throws_js(TypeError, () => { object.__proto__ = {}; }, "__proto__");
    assert_false(Reflect.setPrototypeOf(object, {}), "Reflect.setPrototypeOf");
    assert_equals(Object.setPrototypeOf(object, proto), object, "setting the same prototype is allowed");
    assert_true(Reflect.setPrototypeOf(object, proto));
    assert_equals(Object.getPrototypeOf(object), proto, "unchanged");
  }
}, "the global object and the prototypes it inherits from are immutable prototype objects");

test(() => {
  const object = {};
  const proto = { marker: true };
  assert_equals(Object.setPrototypeOf(object, proto), object);
  assert_true(object.marker);
  object.__proto__ = null;
  assert_equals(Object.getPrototypeOf(object), null, "the __proto__ setter still works on other objects");
  assert_true(Reflect.setPrototypeOf(object, proto));
  assert_equals(Object.setPrototypeOf.name, "setPrototypeOf");
  assert_equals(Object.setPrototypeOf.length, 2);
  assert_equals(Reflect.setPrototypeOf.name, "setPrototypeOf");
  assert_equals(Reflect.setPrototypeOf.length, 2);
}, "other objects' prototypes still change");
