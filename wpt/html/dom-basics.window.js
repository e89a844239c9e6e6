// The DOM of a page: tree mutation, selectors, attributes, tokens, events.

test(() => {
  const list = document.createElement("ul");
  const a = document.createElement("li");
  const b = document.createElement("li");
  list.append(a, "text", b);
  assert_equals(list.childNodes.length, 3);
  assert_equals(list.children.length, 2);
  assert_equals(a.nextElementSibling, b);
  assert_equals(b.previousSibling.nodeType, Node.TEXT_NODE);
  list.insertBefore(b, a);
  assert_equals(list.firstChild, b);
  a.replaceWith(document.createComment("gone"));
  assert_equals(list.childNodes[1].nodeType, Node.COMMENT_NODE);
  assert_throws_dom("HierarchyRequestError", () => b.appendChild(list));
  assert_throws_dom("NotFoundError", () => list.removeChild(document.createElement("p")));
  const fragment = document.createDocumentFragment();
  fragment.append(document.createElement("p"), document.createElement("p"));
  list.replaceChildren(fragment);
  assert_equals(list.children.length, 2);
  assert_equals(fragment.childNodes.length, 0, "a fragment's children move");
}, "tree mutation follows the DOM standard");

test(() => {
  document.body.insertAdjacentHTML("beforeend",
    '<section id="s"><h2 class="t x">A</h2><p lang="en-GB" data-kind="note">one</p><p>two</p><p>three</p></section>');
  const s = document.getElementById("s");
  assert_equals(s.querySelectorAll("p").length, 3);
  assert_equals(s.querySelector("p:nth-child(3)").textContent, "two");
  assert_equals(s.querySelector("p:last-of-type").textContent, "three");
  assert_equals(s.querySelector("[lang|=en]").textContent, "one");
  assert_equals(s.querySelector('[data-kind^="no"]').dataset.kind, "note");
  assert_equals(s.querySelectorAll("h2 ~ p").length, 3);
  assert_equals(s.querySelectorAll("h2 + p").length, 1);
  assert_equals(s.querySelectorAll(":is(h2, p):not(.t)").length, 3);
  assert_equals(document.querySelector("section > .t.x").textContent, "A");
  assert_equals(s.querySelector("p").closest("section"), s);
  assert_true(s.querySelector("h2").matches("section h2.x"));
  assert_equals(s.querySelectorAll("*").length, 4, "the universal selector");
  assert_equals(s.querySelectorAll("section > *:not(p)").length, 1);
  assert_equals(s.querySelectorAll(".x, .t").length, 1, "a selector list matches each element once");
  assert_throws_dom("SyntaxError", () => document.querySelector("p:::bad"));
  assert_throws_dom("SyntaxError", () => document.querySelector("p >"));
  assert_throws_dom("SyntaxError", () => document.querySelector(""));
  s.remove();
  assert_equals(document.getElementById("s"), null);
}, "querySelector and friends match CSS selectors");

test(() => {
  const el = document.createElement("div");
  el.className = "a b";
  el.classList.add("c");
  el.classList.remove("a");
  assert_true(el.classList.toggle("d"));
  assert_false(el.classList.toggle("d"));
  assert_equals(el.getAttribute("class"), "b c");
  assert_throws_dom("InvalidCharacterError", () => el.classList.add("has space"));
  el.dataset.fooBar = "1";
  assert_equals(el.getAttribute("data-foo-bar"), "1");
  el.setAttribute("ID", "x");
  assert_equals(el.id, "x", "attribute names are lower-cased in HTML");
  assert_array_equals(el.getAttributeNames(), ["class", "data-foo-bar", "id"]);
  assert_equals(el.outerHTML, '<div class="b c" data-foo-bar="1" id="x"></div>');
  assert_equals(Object.prototype.toString.call(el), "[object HTMLDivElement]");
  assert_true(el instanceof HTMLElement);
}, "attributes, classList, dataset and serialization");

test(() => {
  const outer = document.createElement("div");
  const inner = document.createElement("span");
  outer.appendChild(inner);
  document.body.appendChild(outer);
  const seen = [];
  document.addEventListener("custom", (e) => seen.push("document"));
  outer.addEventListener("custom", (e) => seen.push("outer " + (e.target === inner)));
  inner.addEventListener("custom", () => seen.push("inner"));
  inner.dispatchEvent(new Event("custom", { bubbles: true }));
  inner.dispatchEvent(new Event("custom"));
  assert_array_equals(seen, ["inner", "outer true", "document", "inner"]);
  outer.remove();
}, "events bubble through the tree");
