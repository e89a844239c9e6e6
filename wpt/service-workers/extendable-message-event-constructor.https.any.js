// META: global=serviceworker
// META: title=ExtendableMessageEvent constructor

test(() => {
  assert_throws_js(TypeError, () => new ExtendableMessageEvent(), "the type is required");
  const event = new ExtendableMessageEvent("message");
  assert_true(event instanceof ExtendableEvent);
  assert_true(event instanceof Event);
  assert_equals(event.type, "message");
  assert_equals(event.data, null);
  assert_equals(event.origin, "");
  assert_equals(event.lastEventId, "");
  assert_equals(event.source, null);
  assert_array_equals(event.ports, []);
  assert_false(event.bubbles);
  assert_false(event.cancelable);
  assert_false(event.isTrusted);
  assert_equals(Object.prototype.toString.call(event), "[object ExtendableMessageEvent]");
}, "no init dictionary: every member has its default");

test(() => {
  const data = { nested: [1, 2] };
  const event = new ExtendableMessageEvent("custom", {
    data,
    origin: "https://example.test",
    lastEventId: 42,
    bubbles: true,
    cancelable: true,
  });
  assert_equals(event.type, "custom");
  assert_equals(event.data, data, "data is the very value, not a copy");
  assert_equals(event.origin, "https://example.test");
  assert_equals(event.lastEventId, "42", "lastEventId is a DOMString");
  assert_true(event.bubbles);
  assert_true(event.cancelable);
}, "data, origin, lastEventId and EventInit members come from the dictionary");

test(() => {
  assert_equals(new ExtendableMessageEvent("message", { origin: "\uD800" }).origin, "\uFFFD",
                "origin is a USVString");
  assert_equals(new ExtendableMessageEvent("message", { data: undefined }).data, null,
                "undefined data takes the default");
  assert_equals(new ExtendableMessageEvent("message", { data: 0 }).data, 0);
}, "member conversions");

test(() => {
  const channel = new MessageChannel();
  const event = new ExtendableMessageEvent("message", { source: channel.port1 });
  assert_equals(event.source, channel.port1);
  assert_equals(new ExtendableMessageEvent("message", { source: null }).source, null);
  assert_equals(new ExtendableMessageEvent("message", { source: undefined }).source, null);
}, "source may be a MessagePort or null");

test(() => {
  const event = new ExtendableMessageEvent("message", { source: self.serviceWorker });
  assert_true(self.serviceWorker instanceof ServiceWorker);
  assert_equals(event.source, self.serviceWorker);
}, "source may be a ServiceWorker");

promise_test(async () => {
  const all = await self.clients.matchAll({ includeUncontrolled: true, type: "all" });
  assert_greater_than(all.length, 0, "the test page is a client");
  const event = new ExtendableMessageEvent("message", { source: all[0] });
  assert_equals(event.source, all[0]);
}, "source may be a Client");

test(() => {
  for (const source of [{}, "a string", 1, true, new MessageChannel(), self, () => {}]) {
    assert_throws_js(TypeError, () => new ExtendableMessageEvent("message", { source }),
                     `source ${String(source)}`);
  }
}, "any other source is a TypeError");

test(() => {
  const one = new MessageChannel();
  const two = new MessageChannel();
  const ports = [one.port1, two.port2];
  const event = new ExtendableMessageEvent("message", { ports });
  assert_not_equals(event.ports, ports, "a new array");
  assert_array_equals(event.ports, ports);
  assert_true(Object.isFrozen(event.ports), "a frozen array");
  assert_equals(event.ports, event.ports, "the same array on every get");
  ports.push(new MessageChannel().port1);
  assert_equals(event.ports.length, 2, "later changes to the argument do not show");
  const fromSet = new ExtendableMessageEvent("message", { ports: new Set([one.port2]) });
  assert_array_equals(fromSet.ports, [one.port2], "any iterable of ports");
}, "ports is a frozen copy of the sequence");

test(() => {
  const port = new MessageChannel().port1;
  for (const ports of [[port, new MessageChannel()], [port, {}], [null], 1, "ports", null, { length: 0 }]) {
    assert_throws_js(TypeError, () => new ExtendableMessageEvent("message", { ports }),
                     `ports ${String(ports)}`);
  }
}, "ports must be a sequence of MessagePorts");

test(() => {
  const event = new ExtendableMessageEvent("message");
  assert_throws_dom("InvalidStateError", () => event.waitUntil(Promise.resolve()),
                    "a constructed event is not trusted");
}, "waitUntil() of a constructed event throws InvalidStateError");
