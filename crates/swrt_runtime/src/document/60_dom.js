// The DOM of a page realm (DOM Standard: nodes, trees, elements,
// attributes, selectors; HTML: element interfaces, serialization).
//
// Nodes are plain JavaScript objects; the HTML parser runs in Rust
// (op_swrt_html_parse) and `61_html_document.js` builds its output into
// these nodes. Behaviour that depends on a node entering or leaving a
// document (scripts that run, frames that load, CSP <meta> pragmas) is
// delegated to hooks that the document module installs.
//
// One file past 500 lines on purpose: the node classes share internal
// slots (children, parent, attributes) that the tree algorithms and the
// serializer reach directly, which a split would have to export to every
// realm script.
(function () {
const { core, primordials } = __bootstrap;
const { event: eventModule, domException, url: urlModule } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { op_swrt_html_parse_fragment } = core.ops;
const {
  ArrayPrototypeIndexOf, ArrayPrototypePush, ArrayPrototypeSplice, ArrayPrototypeFilter, ArrayPrototypeJoin,
  ArrayPrototypeMap, ArrayPrototypeIncludes, ArrayPrototypeSome, Symbol, SymbolIterator, SymbolToStringTag,
  StringPrototypeToLowerCase, StringPrototypeToUpperCase, StringPrototypeTrim, StringPrototypeSplit,
  StringPrototypeReplace, StringPrototypeStartsWith, StringPrototypeEndsWith, StringPrototypeIncludes,
  StringPrototypeSlice, ObjectDefineProperty, ObjectFreeze, TypeError, String,
} = primordials;
const { EventTarget, Event, setEventTargetData, defineEventHandler } = eventModule;
const { DOMException } = domException;

const illegal = Symbol("illegal constructor");
const HTML_NS = "http://www.w3.org/1999/xhtml";
const NAMESPACES = { html: HTML_NS, svg: "http://www.w3.org/2000/svg", mathml: "http://www.w3.org/1998/Math/MathML" };

// Set by the document module: what happens when nodes enter or leave a
// document, or an element's attribute changes.
const hooks = {
  inserted(_node) {},
  removed(_node) {},
  attributeChanged(_element, _name) {},
  childrenChanged(_parent) {},
};

function check(key) {
  if (key !== illegal) throw new TypeError("Illegal constructor");
}

function hierarchyError(message) {
  return new DOMException(message, "HierarchyRequestError");
}

/** A NodeList that tracks a node's children (DOM: childNodes is live). */
class NodeList extends Array {
  item(index) { return this[index] ?? null; }
  static get [Symbol.species]() { return Array; }
  get [SymbolToStringTag]() { return "NodeList"; }
}

/** A snapshot collection (HTMLCollection / static NodeList results). */
class HTMLCollection extends Array {
  item(index) { return this[index] ?? null; }
  namedItem(name) {
    for (const el of this) if (el.id === name || el.getAttribute("name") === name) return el;
    return null;
  }
  static get [Symbol.species]() { return Array; }
  get [SymbolToStringTag]() { return "HTMLCollection"; }
}

function collection(items, Kind = HTMLCollection) {
  const out = new Kind();
  for (const item of items) ArrayPrototypePush(out, item);
  return out;
}

class Node extends EventTarget {
  constructor(key, ownerDocument) {
    check(key);
    super();
    setEventTargetData(this);
    this._ownerDocument = ownerDocument;
    this._parent = null;
    this._children = new NodeList();
  }
  get ownerDocument() { return this._ownerDocument; }
  get parentNode() { return this._parent; }
  get parentElement() { return this._parent instanceof Element ? this._parent : null; }
  get childNodes() { return this._children; }
  get firstChild() { return this._children[0] ?? null; }
  get lastChild() { return this._children[this._children.length - 1] ?? null; }
  get previousSibling() {
    if (!this._parent) return null;
    const siblings = this._parent._children;
    return siblings[ArrayPrototypeIndexOf(siblings, this) - 1] ?? null;
  }
  get nextSibling() {
    if (!this._parent) return null;
    const siblings = this._parent._children;
    return siblings[ArrayPrototypeIndexOf(siblings, this) + 1] ?? null;
  }
  get baseURI() { return (this._ownerDocument ?? this).URL; }
  get nodeValue() { return null; }
  set nodeValue(_value) {}
  hasChildNodes() { return this._children.length > 0; }
  getRootNode(_options = undefined) {
    let node = this;
    while (node._parent) node = node._parent;
    return node;
  }
  get isConnected() { return this.getRootNode() instanceof Document; }
  contains(other) {
    for (let node = other; node; node = node._parent) if (node === this) return true;
    return false;
  }
  compareDocumentPosition(other) {
    if (other === this) return 0;
    if (this.contains(other)) return 0x10 | 0x04; // CONTAINED_BY | FOLLOWING
    if (other.contains(this)) return 0x08 | 0x02; // CONTAINS | PRECEDING
    if (this.getRootNode() !== other.getRootNode()) return 0x01 | 0x20 | 0x02;
    const order = [];
    walk(this.getRootNode(), (n) => { ArrayPrototypePush(order, n); });
    return ArrayPrototypeIndexOf(order, other) > ArrayPrototypeIndexOf(order, this) ? 0x04 : 0x02;
  }
  isSameNode(other) { return other === this; }
  isEqualNode(other) {
    if (!other || other.nodeType !== this.nodeType || other.nodeName !== this.nodeName) return false;
    if (this.nodeType === 3 || this.nodeType === 8) return this.data === other.data;
    if (this instanceof Element) {
      if (this._attrs.length !== other._attrs.length) return false;
      for (const attr of this._attrs) if (other.getAttribute(attr.name) !== attr.value) return false;
    }
    if (this._children.length !== other._children.length) return false;
    for (let i = 0; i < this._children.length; i++) if (!this._children[i].isEqualNode(other._children[i])) return false;
    return true;
  }
  appendChild(node) { return this.insertBefore(node, null); }
  insertBefore(node, child) {
    if (!(node instanceof Node)) throw new TypeError("Failed to execute 'insertBefore' on 'Node': parameter 1 is not of type 'Node'.");
    child = child ?? null;
    // DOM "ensure pre-insertion validity".
    if (!(this instanceof Document || this instanceof DocumentFragment || this instanceof Element)) {
      throw hierarchyError("This node type does not support children.");
    }
    if (node.contains(this)) throw hierarchyError("The new child element contains the parent.");
    if (child !== null && child._parent !== this) {
      throw new DOMException("The node before which the new node is to be inserted is not a child of this node.", "NotFoundError");
    }
    if (node instanceof Document) throw hierarchyError("Nodes of type '#document' may not be inserted.");
    if (this instanceof Document && node instanceof Text) throw hierarchyError("Nodes of type '#text' may not be inserted inside nodes of type '#document'.");
    if (child === node) child = node.nextSibling;
    const nodes = node instanceof DocumentFragment ? [...node._children] : [node];
    if (node instanceof DocumentFragment) {
      for (const n of nodes) n._parent = null;
      node._children.length = 0;
    } else if (node._parent) {
      node._parent.removeChild(node);
    }
    for (const n of nodes) insertNode(this, n, child);
    if (nodes.length) hooks.childrenChanged(this);
    return node;
  }
  removeChild(node) {
    if (!(node instanceof Node) || node._parent !== this) {
      throw new DOMException("The node to be removed is not a child of this node.", "NotFoundError");
    }
    const wasConnected = node.isConnected;
    ArrayPrototypeSplice(this._children, ArrayPrototypeIndexOf(this._children, node), 1);
    node._parent = null;
    if (wasConnected) walk(node, (n) => hooks.removed(n));
    hooks.childrenChanged(this);
    return node;
  }
  replaceChild(node, child) {
    if (!(child instanceof Node) || child._parent !== this) {
      throw new DOMException("The node to be replaced is not a child of this node.", "NotFoundError");
    }
    if (node === child) return child;
    const next = child.nextSibling === node ? node.nextSibling : child.nextSibling;
    this.removeChild(child);
    this.insertBefore(node, next);
    return child;
  }
  cloneNode(deep = false) {
    const copy = cloneOne(this, this._ownerDocument);
    if (deep) for (const child of this._children) copy.appendChild(child.cloneNode(true));
    return copy;
  }
  normalize() {
    for (let i = 0; i < this._children.length; i++) {
      const child = this._children[i];
      if (child instanceof Text) {
        while (child.nextSibling instanceof Text) {
          child.data += child.nextSibling.data;
          this.removeChild(child.nextSibling);
        }
        if (child.data === "") { this.removeChild(child); i--; }
      } else {
        child.normalize();
      }
    }
  }
  get textContent() {
    let out = "";
    walk(this, (n) => { if (n instanceof Text) out += n.data; });
    return out;
  }
  set textContent(value) {
    replaceAllChildren(this, value === null || value === "" ? null : this._ownerDocument.createTextNode(String(value)));
  }
}
for (const [name, value] of [
  ["ELEMENT_NODE", 1], ["ATTRIBUTE_NODE", 2], ["TEXT_NODE", 3], ["CDATA_SECTION_NODE", 4],
  ["PROCESSING_INSTRUCTION_NODE", 7], ["COMMENT_NODE", 8], ["DOCUMENT_NODE", 9], ["DOCUMENT_TYPE_NODE", 10],
  ["DOCUMENT_FRAGMENT_NODE", 11], ["DOCUMENT_POSITION_DISCONNECTED", 1], ["DOCUMENT_POSITION_PRECEDING", 2],
  ["DOCUMENT_POSITION_FOLLOWING", 4], ["DOCUMENT_POSITION_CONTAINS", 8], ["DOCUMENT_POSITION_CONTAINED_BY", 16],
]) {
  ObjectDefineProperty(Node, name, { value, enumerable: true });
  ObjectDefineProperty(Node.prototype, name, { value, enumerable: true });
}

function insertNode(parent, node, child) {
  const index = child === null ? parent._children.length : ArrayPrototypeIndexOf(parent._children, child);
  ArrayPrototypeSplice(parent._children, index, 0, node);
  node._parent = parent;
  adopt(node, parent instanceof Document ? parent : parent._ownerDocument);
  if (parent.isConnected) walk(node, (n) => hooks.inserted(n));
}

function adopt(node, document) {
  if (node._ownerDocument === document || node instanceof Document) return;
  walk(node, (n) => { n._ownerDocument = document; });
}

function replaceAllChildren(parent, node) {
  for (const child of [...parent._children]) parent.removeChild(child);
  if (node !== null) parent.appendChild(node);
}

/** Visits `root` and its descendants in tree order; `visit` returning false skips a subtree. */
function walk(root, visit) {
  if (visit(root) === false) return;
  const children = root._children;
  for (let i = 0; i < children.length; i++) walk(children[i], visit);
}

function descendants(root, predicate) {
  const out = [];
  const children = root._children;
  for (let i = 0; i < children.length; i++) {
    walk(children[i], (n) => {
      if (n instanceof Element && predicate(n)) ArrayPrototypePush(out, n);
    });
  }
  return out;
}

class CharacterData extends Node {
  constructor(key, ownerDocument, data) {
    super(key, ownerDocument);
    this._data = String(data);
  }
  get data() { return this._data; }
  set data(value) { this._data = value === null ? "" : String(value); if (this._parent) hooks.childrenChanged(this._parent); }
  get nodeValue() { return this._data; }
  set nodeValue(value) { this.data = value; }
  get textContent() { return this._data; }
  set textContent(value) { this.data = value; }
  get length() { return this._data.length; }
  appendData(data) { this.data = this._data + String(data); }
  substringData(offset, count) { return StringPrototypeSlice(this._data, offset, offset + count); }
}

class Text extends CharacterData {
  get nodeType() { return 3; }
  get nodeName() { return "#text"; }
  get wholeText() { return this._data; }
  splitText(offset) {
    const rest = this._ownerDocument.createTextNode(StringPrototypeSlice(this._data, offset));
    this.data = StringPrototypeSlice(this._data, 0, offset);
    if (this._parent) this._parent.insertBefore(rest, this.nextSibling);
    return rest;
  }
  get [SymbolToStringTag]() { return "Text"; }
}

class Comment extends CharacterData {
  get nodeType() { return 8; }
  get nodeName() { return "#comment"; }
  get [SymbolToStringTag]() { return "Comment"; }
}

class DocumentType extends Node {
  constructor(key, ownerDocument, name) {
    super(key, ownerDocument);
    this._name = name;
  }
  get nodeType() { return 10; }
  get nodeName() { return this._name; }
  get name() { return this._name; }
  get publicId() { return ""; }
  get systemId() { return ""; }
  get [SymbolToStringTag]() { return "DocumentType"; }
}

// ParentNode and ChildNode mixins (DOM).
const parentNodeMixin = {
  get children() { return collection(ArrayPrototypeFilter(this._children, (n) => n instanceof Element)); },
  get firstElementChild() { for (const n of this._children) if (n instanceof Element) return n; return null; },
  get lastElementChild() {
    for (let i = this._children.length - 1; i >= 0; i--) if (this._children[i] instanceof Element) return this._children[i];
    return null;
  },
  get childElementCount() { return ArrayPrototypeFilter(this._children, (n) => n instanceof Element).length; },
  append(...nodes) { this.insertBefore(convertNodes(this, nodes), null); },
  prepend(...nodes) { this.insertBefore(convertNodes(this, nodes), this.firstChild); },
  replaceChildren(...nodes) {
    const node = convertNodes(this, nodes);
    replaceAllChildren(this, null);
    this.insertBefore(node, null);
  },
  querySelector(selectors) { return findFirst(this, compileSelector(selectors)); },
  querySelectorAll(selectors) {
    const match = compileSelector(selectors);
    return collection(descendants(this, (el) => match(el, this)), NodeList);
  },
  getElementsByTagName(name) {
    const lower = StringPrototypeToLowerCase(String(name));
    return collection(descendants(this, (el) => name === "*" || el.localName === lower || el.tagName === name));
  },
  getElementsByClassName(names) {
    const wanted = splitTokens(names);
    return collection(descendants(this, (el) => wanted.length > 0 && wanted.every((c) => ArrayPrototypeIncludes(el.classList._tokens(), c))));
  },
};
const childNodeMixin = {
  remove() { if (this._parent) this._parent.removeChild(this); },
  before(...nodes) { if (this._parent) this._parent.insertBefore(convertNodes(this._parent, nodes), this); },
  after(...nodes) { if (this._parent) this._parent.insertBefore(convertNodes(this._parent, nodes), this.nextSibling); },
  replaceWith(...nodes) {
    if (!this._parent) return;
    const parent = this._parent;
    const next = this.nextSibling;
    const node = convertNodes(parent, nodes);
    parent.removeChild(this);
    parent.insertBefore(node, next && next._parent === parent ? next : null);
  },
  get nextElementSibling() {
    for (let n = this.nextSibling; n; n = n.nextSibling) if (n instanceof Element) return n;
    return null;
  },
  get previousElementSibling() {
    for (let n = this.previousSibling; n; n = n.previousSibling) if (n instanceof Element) return n;
    return null;
  },
};

function mixin(target, source) {
  for (const name of Reflect.ownKeys(source)) {
    const desc = Object.getOwnPropertyDescriptor(source, name);
    desc.enumerable = true;
    ObjectDefineProperty(target.prototype, name, desc);
  }
}

function convertNodes(parent, nodes) {
  const document = parent instanceof Document ? parent : parent._ownerDocument;
  const fragment = document.createDocumentFragment();
  for (const node of nodes) fragment.appendChild(node instanceof Node ? node : document.createTextNode(String(node)));
  return fragment;
}

function findFirst(root, match) {
  let found = null;
  const children = root._children;
  for (let i = 0; i < children.length && found === null; i++) {
    walk(children[i], (n) => {
      if (found !== null) return false;
      if (n instanceof Element && match(n, root)) found = n;
    });
  }
  return found;
}

function splitTokens(value) {
  return ArrayPrototypeFilter(StringPrototypeSplit(String(value), /[\t\n\f\r ]+/), Boolean);
}

/** DOMTokenList over an element's `class` (or another token) attribute. */
class DOMTokenList {
  constructor(key, element, attribute) {
    check(key);
    this._element = element;
    this._attribute = attribute;
  }
  _tokens() { return [...new Set(splitTokens(this._element.getAttribute(this._attribute) ?? ""))]; }
  _set(tokens) { this._element.setAttribute(this._attribute, ArrayPrototypeJoin(tokens, " ")); }
  get length() { return this._tokens().length; }
  get value() { return this._element.getAttribute(this._attribute) ?? ""; }
  set value(v) { this._element.setAttribute(this._attribute, v); }
  item(i) { return this._tokens()[i] ?? null; }
  contains(token) { return ArrayPrototypeIncludes(this._tokens(), String(token)); }
  add(...tokens) {
    const current = this._tokens();
    for (const t of tokens) { validToken(t); if (!ArrayPrototypeIncludes(current, t)) ArrayPrototypePush(current, String(t)); }
    this._set(current);
  }
  remove(...tokens) {
    for (const t of tokens) validToken(t);
    this._set(ArrayPrototypeFilter(this._tokens(), (t) => !ArrayPrototypeIncludes(tokens, t)));
  }
  toggle(token, force = undefined) {
    validToken(token);
    const has = this.contains(token);
    if (has && force !== true) { this.remove(token); return false; }
    if (!has && force !== false) { this.add(token); return true; }
    return has;
  }
  replace(token, replacement) {
    const tokens = this._tokens();
    const i = ArrayPrototypeIndexOf(tokens, token);
    if (i < 0) return false;
    tokens[i] = String(replacement);
    this._set([...new Set(tokens)]);
    return true;
  }
  toString() { return this.value; }
  [SymbolIterator]() { return this._tokens()[SymbolIterator](); }
  get [SymbolToStringTag]() { return "DOMTokenList"; }
}

function validToken(token) {
  const t = String(token);
  if (t === "") throw new DOMException("The token provided must not be empty.", "SyntaxError");
  if (/[\t\n\f\r ]/.test(t)) throw new DOMException(`The token provided ('${t}') contains HTML space characters.`, "InvalidCharacterError");
}

class Attr {
  constructor(key, name, value, element) {
    check(key);
    this.name = name;
    this.value = value;
    this.ownerElement = element;
  }
  get localName() { return this.name; }
  get namespaceURI() { return null; }
  get specified() { return true; }
  get [SymbolToStringTag]() { return "Attr"; }
}

const VALID_NAME = /^[A-Za-z_:][^\t\n\f\r />"'=]*$/;

class Element extends Node {
  constructor(key, ownerDocument, localName, namespace = HTML_NS) {
    super(key, ownerDocument);
    this._localName = localName;
    this._namespace = namespace;
    this._attrs = [];
  }
  get nodeType() { return 1; }
  get nodeName() { return this.tagName; }
  get localName() { return this._localName; }
  get namespaceURI() { return this._namespace; }
  get prefix() { return null; }
  get tagName() { return this._namespace === HTML_NS ? StringPrototypeToUpperCase(this._localName) : this._localName; }
  get attributes() {
    const list = collection(this._attrs);
    list.getNamedItem = (name) => this.getAttributeNode(name);
    return list;
  }
  _attr(name) {
    const n = this._namespace === HTML_NS ? StringPrototypeToLowerCase(String(name)) : String(name);
    for (const attr of this._attrs) if (attr.name === n) return attr;
    return null;
  }
  getAttribute(name) { return this._attr(name)?.value ?? null; }
  /** The value of the attribute named `lowerName` (already lowercase), or null. */
  _attrValue(lowerName) {
    const attrs = this._attrs;
    for (let i = 0; i < attrs.length; i++) if (attrs[i].name === lowerName) return attrs[i].value;
    return null;
  }
  getAttributeNode(name) { return this._attr(name); }
  getAttributeNS(_namespace, name) { return this.getAttribute(name); }
  hasAttribute(name) { return this._attr(name) !== null; }
  hasAttributes() { return this._attrs.length > 0; }
  getAttributeNames() { return ArrayPrototypeMap(this._attrs, (a) => a.name); }
  setAttribute(name, value) {
    name = String(name);
    if (!VALID_NAME.test(name)) throw new DOMException(`'${name}' is not a valid attribute name.`, "InvalidCharacterError");
    const n = this._namespace === HTML_NS ? StringPrototypeToLowerCase(name) : name;
    const existing = this._attr(n);
    if (existing) existing.value = String(value);
    else ArrayPrototypePush(this._attrs, new Attr(illegal, n, String(value), this));
    hooks.attributeChanged(this, n);
  }
  setAttributeNS(_namespace, name, value) { this.setAttribute(name, value); }
  removeAttribute(name) {
    const attr = this._attr(name);
    if (!attr) return;
    ArrayPrototypeSplice(this._attrs, ArrayPrototypeIndexOf(this._attrs, attr), 1);
    hooks.attributeChanged(this, attr.name);
  }
  removeAttributeNS(_namespace, name) { this.removeAttribute(name); }
  toggleAttribute(name, force = undefined) {
    const has = this.hasAttribute(name);
    if (has && force !== true) { this.removeAttribute(name); return false; }
    if (!has && force !== false) { this.setAttribute(name, ""); return true; }
    return has;
  }
  get id() { return this.getAttribute("id") ?? ""; }
  set id(value) { this.setAttribute("id", value); }
  get className() { return this.getAttribute("class") ?? ""; }
  set className(value) { this.setAttribute("class", value); }
  get classList() { return this._classList ??= new DOMTokenList(illegal, this, "class"); }
  set classList(value) { this.setAttribute("class", value); }
  matches(selectors) { return compileSelector(selectors)(this, this); }
  webkitMatchesSelector(selectors) { return this.matches(selectors); }
  closest(selectors) {
    const match = compileSelector(selectors);
    for (let el = this; el instanceof Element; el = el._parent) if (match(el, this)) return el;
    return null;
  }
  get innerHTML() { return serializeChildren(this); }
  set innerHTML(markup) {
    const target = this instanceof HTMLTemplateElement ? this.content : this;
    replaceAllChildren(target, parseFragment(this, markup));
  }
  get outerHTML() { return serializeNode(this); }
  set outerHTML(markup) {
    if (!this._parent) return;
    const context = this._parent instanceof Element ? this._parent : this._ownerDocument.createElement("body");
    this.replaceWith(parseFragment(context, markup));
  }
  insertAdjacentHTML(position, markup) {
    const where = StringPrototypeToLowerCase(String(position));
    const context = where === "beforebegin" || where === "afterend" ? this._parent : this;
    if (!(context instanceof Element)) throw new DOMException("The element has no parent.", "NoModificationAllowedError");
    insertAdjacent(this, where, parseFragment(context, markup));
  }
  insertAdjacentElement(position, element) { return insertAdjacent(this, StringPrototypeToLowerCase(String(position)), element); }
  insertAdjacentText(position, text) { insertAdjacent(this, StringPrototypeToLowerCase(String(position)), this._ownerDocument.createTextNode(String(text))); }
  getBoundingClientRect() { return { x: 0, y: 0, width: 0, height: 0, top: 0, right: 0, bottom: 0, left: 0 }; }
  getClientRects() { return []; }
  get [SymbolToStringTag]() { return "Element"; }
}
mixin(Element, parentNodeMixin);
mixin(Element, childNodeMixin);
mixin(CharacterData, childNodeMixin);
mixin(DocumentType, { remove: childNodeMixin.remove });

function insertAdjacent(element, where, node) {
  switch (where) {
    case "beforebegin": if (element._parent) element._parent.insertBefore(node, element); break;
    case "afterbegin": element.insertBefore(node, element.firstChild); break;
    case "beforeend": element.insertBefore(node, null); break;
    case "afterend": if (element._parent) element._parent.insertBefore(node, element.nextSibling); break;
    default: throw new DOMException(`'${where}' is not a valid position.`, "SyntaxError");
  }
  return node;
}

// HTML element interfaces. Reflected attributes are listed per interface.
class HTMLElement extends Element {
  get title() { return this.getAttribute("title") ?? ""; }
  set title(v) { this.setAttribute("title", v); }
  get lang() { return this.getAttribute("lang") ?? ""; }
  set lang(v) { this.setAttribute("lang", v); }
  get dir() { return this.getAttribute("dir") ?? ""; }
  set dir(v) { this.setAttribute("dir", v); }
  get hidden() { return this.hasAttribute("hidden"); }
  set hidden(v) { this.toggleAttribute("hidden", !!v); }
  get innerText() { return this.textContent; }
  set innerText(v) { this.textContent = v; }
  get style() { return this._style ??= createStyle(this); }
  get dataset() { return this._dataset ??= createDataset(this); }
  click() { this.dispatchEvent(new Event("click", { bubbles: true, cancelable: true })); }
  focus() {}
  blur() {}
  get offsetWidth() { return 0; }
  get offsetHeight() { return 0; }
  get [SymbolToStringTag]() { return "HTMLElement"; }
}

const elementInterfaces = { __proto__: null };
/** Defines `HTML<Name>Element` for tags, with string, boolean and URL reflections. */
function defineElement(name, tags, reflect = {}, Base = HTMLElement) {
  const cls = { [name]: class extends Base {
    get [SymbolToStringTag]() { return name; }
  } }[name];
  for (const attr of reflect.strings ?? []) {
    const prop = attr.replace(/-([a-z])/g, (_, c) => StringPrototypeToUpperCase(c));
    ObjectDefineProperty(cls.prototype, prop === "httpEquiv" ? "httpEquiv" : prop, {
      get() { return this.getAttribute(attr) ?? ""; },
      set(v) { this.setAttribute(attr, v); },
      enumerable: true, configurable: true,
    });
  }
  for (const attr of reflect.booleans ?? []) {
    const prop = attr === "nomodule" ? "noModule" : attr;
    ObjectDefineProperty(cls.prototype, prop, {
      get() { return this.hasAttribute(attr); },
      set(v) { this.toggleAttribute(attr, !!v); },
      enumerable: true, configurable: true,
    });
  }
  for (const attr of reflect.urls ?? []) {
    ObjectDefineProperty(cls.prototype, attr, {
      get() {
        const value = this.getAttribute(attr);
        if (value === null) return "";
        try { return new urlModule.URL(value, this.baseURI).href; } catch { return value; }
      },
      set(v) { this.setAttribute(attr, v); },
      enumerable: true, configurable: true,
    });
  }
  for (const tag of tags) elementInterfaces[tag] = cls;
  return cls;
}

defineElement("HTMLHtmlElement", ["html"]);
const HTMLHeadElement = defineElement("HTMLHeadElement", ["head"]);
const HTMLBodyElement = defineElement("HTMLBodyElement", ["body"]);
const HTMLTitleElement = defineElement("HTMLTitleElement", ["title"]);
ObjectDefineProperty(HTMLTitleElement.prototype, "text", {
  get() { return this.textContent; }, set(v) { this.textContent = v; }, enumerable: true, configurable: true,
});
defineElement("HTMLDivElement", ["div"]);
defineElement("HTMLSpanElement", ["span"]);
defineElement("HTMLParagraphElement", ["p"]);
defineElement("HTMLHeadingElement", ["h1", "h2", "h3", "h4", "h5", "h6"]);
defineElement("HTMLUListElement", ["ul"]);
defineElement("HTMLOListElement", ["ol"]);
defineElement("HTMLLIElement", ["li"]);
defineElement("HTMLPreElement", ["pre"]);
defineElement("HTMLBRElement", ["br"]);
defineElement("HTMLTableElement", ["table"]);
defineElement("HTMLTableRowElement", ["tr"]);
defineElement("HTMLTableCellElement", ["td", "th"]);
defineElement("HTMLTableSectionElement", ["thead", "tbody", "tfoot"]);
defineElement("HTMLAnchorElement", ["a"], { strings: ["target", "rel", "download"], urls: ["href"] });
defineElement("HTMLLinkElement", ["link"], { strings: ["rel", "as", "type", "media", "crossorigin"], urls: ["href"] });
defineElement("HTMLStyleElement", ["style"], { strings: ["media"] });
const HTMLMetaElement = defineElement("HTMLMetaElement", ["meta"], { strings: ["name", "http-equiv", "content", "charset"] });
defineElement("HTMLBaseElement", ["base"], { strings: ["target"], urls: ["href"] });
defineElement("HTMLImageElement", ["img"], { strings: ["alt", "crossorigin"], urls: ["src"] });
const HTMLInputElement = defineElement("HTMLInputElement", ["input"], { strings: ["name", "type", "placeholder"], booleans: ["disabled", "checked", "required"] });
ObjectDefineProperty(HTMLInputElement.prototype, "value", {
  get() { return this._value ?? this.getAttribute("value") ?? ""; }, set(v) { this._value = String(v); }, enumerable: true, configurable: true,
});
defineElement("HTMLButtonElement", ["button"], { strings: ["name", "type", "value"], booleans: ["disabled"] });
defineElement("HTMLFormElement", ["form"], { strings: ["method", "name", "target"], urls: ["action"] });
defineElement("HTMLTextAreaElement", ["textarea"], { strings: ["name"] });
defineElement("HTMLSelectElement", ["select"], { strings: ["name"] });
defineElement("HTMLOptionElement", ["option"], { strings: ["value"], booleans: ["selected"] });
defineElement("HTMLLabelElement", ["label"]);
defineElement("HTMLCanvasElement", ["canvas"], { strings: ["width", "height"] });
defineElement("HTMLAudioElement", ["audio"], { urls: ["src"] });
defineElement("HTMLVideoElement", ["video"], { urls: ["src"] });
const HTMLScriptElement = defineElement("HTMLScriptElement", ["script"], {
  strings: ["type", "charset", "crossorigin", "integrity", "referrerpolicy", "event", "for"],
  booleans: ["defer", "nomodule"],
  urls: ["src"],
});
ObjectDefineProperty(HTMLScriptElement.prototype, "text", {
  get() { return childText(this); }, set(v) { this.textContent = v; }, enumerable: true, configurable: true,
});
ObjectDefineProperty(HTMLScriptElement.prototype, "crossOrigin", {
  get() { return this.getAttribute("crossorigin"); }, set(v) { if (v === null) this.removeAttribute("crossorigin"); else this.setAttribute("crossorigin", v); }, enumerable: true, configurable: true,
});
// HTML: `async` reflects the attribute, except that a script element
// created by script is async until the attribute is set or `async = false`
// ("force async").
ObjectDefineProperty(HTMLScriptElement.prototype, "async", {
  get() { return this._forceAsync === true || this.hasAttribute("async"); },
  set(v) { this._forceAsync = false; this.toggleAttribute("async", !!v); },
  enumerable: true, configurable: true,
});
const HTMLIFrameElement = defineElement("HTMLIFrameElement", ["iframe"], {
  strings: ["srcdoc", "name", "allow", "width", "height", "referrerpolicy", "loading"],
  urls: ["src"],
});
const HTMLTemplateElement = defineElement("HTMLTemplateElement", ["template"]);
ObjectDefineProperty(HTMLTemplateElement.prototype, "content", {
  get() { return this._content ??= this._ownerDocument.createDocumentFragment(); }, enumerable: true, configurable: true,
});
const HTMLUnknownElement = defineElement("HTMLUnknownElement", []);

function childText(element) {
  let out = "";
  for (const child of element._children) if (child instanceof Text) out += child.data;
  return out;
}

// Tags HTML knows without a specific interface of their own above.
const PLAIN_HTML_TAGS = new Set(StringPrototypeSplit(
  "abbr address article aside b bdi bdo cite code dd dfn dt em figcaption figure footer header hgroup i kbd main mark nav noscript rp rt ruby s samp search section small strong sub summary sup u var wbr",
  " ",
));

function createStyle(element) {
  const values = new Map();
  const style = {
    setProperty(name, value) { values.set(String(name), String(value)); },
    getPropertyValue(name) { return values.get(String(name)) ?? ""; },
    removeProperty(name) { const v = values.get(String(name)) ?? ""; values.delete(String(name)); return v; },
    get cssText() { return ArrayPrototypeJoin([...values].map(([k, v]) => `${k}: ${v};`), " "); },
    set cssText(text) {
      values.clear();
      for (const part of StringPrototypeSplit(String(text), ";")) {
        const i = part.indexOf(":");
        if (i > 0) values.set(StringPrototypeTrim(StringPrototypeSlice(part, 0, i)), StringPrototypeTrim(StringPrototypeSlice(part, i + 1)));
      }
    },
  };
  const style_ = element.getAttribute("style");
  if (style_) style.cssText = style_;
  // Camel-cased property access (`el.style.display = "none"`).
  return new Proxy(style, {
    get(target, prop) {
      if (typeof prop !== "string" || prop in target) return target[prop];
      return values.get(prop.replace(/[A-Z]/g, (c) => "-" + StringPrototypeToLowerCase(c))) ?? "";
    },
    set(target, prop, value) {
      if (typeof prop !== "string" || prop in target) { target[prop] = value; return true; }
      values.set(prop.replace(/[A-Z]/g, (c) => "-" + StringPrototypeToLowerCase(c)), String(value));
      return true;
    },
  });
}

function createDataset(element) {
  const attrName = (prop) => "data-" + prop.replace(/[A-Z]/g, (c) => "-" + StringPrototypeToLowerCase(c));
  return new Proxy({}, {
    get(_t, prop) { return typeof prop === "string" ? element.getAttribute(attrName(prop)) ?? undefined : undefined; },
    set(_t, prop, value) { element.setAttribute(attrName(String(prop)), value); return true; },
    has(_t, prop) { return typeof prop === "string" && element.hasAttribute(attrName(prop)); },
    deleteProperty(_t, prop) { element.removeAttribute(attrName(String(prop))); return true; },
    ownKeys() {
      return ArrayPrototypeMap(
        ArrayPrototypeFilter(element._attrs, (a) => StringPrototypeStartsWith(a.name, "data-")),
        (a) => StringPrototypeSlice(a.name, 5).replace(/-([a-z])/g, (_, c) => StringPrototypeToUpperCase(c)),
      );
    },
    getOwnPropertyDescriptor(_t, prop) {
      const value = element.getAttribute(attrName(String(prop)));
      return value === null ? undefined : { value, writable: true, enumerable: true, configurable: true };
    },
  });
}

class DocumentFragment extends Node {
  get nodeType() { return 11; }
  get nodeName() { return "#document-fragment"; }
  getElementById(id) { return findFirst(this, (el) => el.id === String(id)); }
  get [SymbolToStringTag]() { return "DocumentFragment"; }
}
mixin(DocumentFragment, parentNodeMixin);

class Document extends Node {
  constructor(key, url, contentType = "text/html") {
    super(key, null);
    this._url = url;
    this._contentType = contentType;
    this._readyState = "loading";
    this._currentScript = null;
    this.defaultView = null;
  }
  get nodeType() { return 9; }
  get nodeName() { return "#document"; }
  get URL() { return this._url; }
  get documentURI() { return this._url; }
  get baseURI() {
    const base = findFirst(this, (el) => el.localName === "base" && el.hasAttribute("href"));
    if (base) { try { return new urlModule.URL(base.getAttribute("href"), this._url).href; } catch { /* fall through */ } }
    return this._url;
  }
  get contentType() { return this._contentType; }
  get compatMode() { return this.doctype ? "CSS1Compat" : "BackCompat"; }
  get characterSet() { return "UTF-8"; }
  get charset() { return "UTF-8"; }
  get inputEncoding() { return "UTF-8"; }
  get readyState() { return this._readyState; }
  get currentScript() { return this._currentScript; }
  get doctype() { for (const n of this._children) if (n instanceof DocumentType) return n; return null; }
  get documentElement() { for (const n of this._children) if (n instanceof Element) return n; return null; }
  get head() {
    const html = this.documentElement;
    if (!html) return null;
    for (const n of html._children) if (n instanceof HTMLHeadElement) return n;
    return null;
  }
  get body() {
    const html = this.documentElement;
    if (!html) return null;
    for (const n of html._children) if (n instanceof HTMLBodyElement || (n instanceof Element && n.localName === "frameset")) return n;
    return null;
  }
  set body(value) {
    const html = this.documentElement;
    const old = this.body;
    if (old) html.replaceChild(value, old);
    else html.appendChild(value);
  }
  get title() {
    const title = findFirst(this, (el) => el.localName === "title");
    return title ? StringPrototypeTrim(StringPrototypeReplace(title.textContent, /[\t\n\f\r ]+/g, " ")) : "";
  }
  set title(value) {
    let title = findFirst(this, (el) => el.localName === "title");
    if (!title) {
      if (!this.head) return;
      title = this.head.appendChild(this.createElement("title"));
    }
    title.textContent = value;
  }
  get location() { return this.defaultView?.location ?? null; }
  get cookie() { return ""; }
  set cookie(_value) {}
  get referrer() { return ""; }
  get hidden() { return false; }
  get visibilityState() { return "visible"; }
  get activeElement() { return this.body; }
  get scripts() { return this.getElementsByTagName("script"); }
  get forms() { return this.getElementsByTagName("form"); }
  get images() { return this.getElementsByTagName("img"); }
  get links() { return collection(descendants(this, (el) => (el.localName === "a" || el.localName === "area") && el.hasAttribute("href"))); }
  get implementation() { return domImplementation(this); }
  hasFocus() { return true; }
  getElementById(id) { return findFirst(this, (el) => el.id === String(id)); }
  getElementsByName(name) { return collection(descendants(this, (el) => el.getAttribute("name") === String(name)), NodeList); }
  createElement(localName) {
    localName = String(localName);
    if (!VALID_NAME.test(localName)) throw new DOMException(`The tag name provided ('${localName}') is not a valid name.`, "InvalidCharacterError");
    return createElementFor(this, StringPrototypeToLowerCase(localName), HTML_NS);
  }
  createElementNS(namespace, qualifiedName) {
    const name = String(qualifiedName);
    const local = StringPrototypeIncludes(name, ":") ? StringPrototypeSplit(name, ":")[1] : name;
    return createElementFor(this, local, namespace === null ? null : String(namespace));
  }
  createTextNode(data) { return new Text(illegal, this, data); }
  createComment(data) { return new Comment(illegal, this, data); }
  createDocumentFragment() { return new DocumentFragment(illegal, this); }
  createEvent(kind) {
    const k = StringPrototypeToLowerCase(String(kind));
    if (k === "event" || k === "events" || k === "htmlevents" || k === "customevent") {
      const event = new eventModule.CustomEvent("", {});
      event.initEvent = function (type, bubbles = false, cancelable = false) {
        ObjectDefineProperty(this, "type", { value: String(type), configurable: true });
        ObjectDefineProperty(this, "bubbles", { value: !!bubbles, configurable: true });
        ObjectDefineProperty(this, "cancelable", { value: !!cancelable, configurable: true });
      };
      return event;
    }
    throw new DOMException(`The provided event type ('${kind}') is invalid.`, "NotSupportedError");
  }
  importNode(node, deep = false) {
    const copy = node.cloneNode(deep);
    adopt(copy, this);
    return copy;
  }
  adoptNode(node) {
    if (node._parent) node._parent.removeChild(node);
    adopt(node, this);
    return node;
  }
  get [SymbolToStringTag]() { return "HTMLDocument"; }
}
mixin(Document, parentNodeMixin);

function domImplementation(document) {
  return {
    createHTMLDocument(title = undefined) {
      const doc = new Document(illegal, "about:blank");
      doc.appendChild(new DocumentType(illegal, doc, "html"));
      const html = doc.appendChild(doc.createElement("html"));
      const head = html.appendChild(doc.createElement("head"));
      if (title !== undefined) head.appendChild(doc.createElement("title")).textContent = title;
      html.appendChild(doc.createElement("body"));
      return doc;
    },
    createDocumentType(name) { return new DocumentType(illegal, document, String(name)); },
    hasFeature() { return true; },
  };
}

function createElementFor(document, localName, namespace) {
  if (namespace === HTML_NS) {
    const cls = elementInterfaces[localName] ??
      (PLAIN_HTML_TAGS.has(localName) || StringPrototypeIncludes(localName, "-") ? HTMLElement : HTMLUnknownElement);
    return new cls(illegal, document, localName, HTML_NS);
  }
  return new Element(illegal, document, localName, namespace);
}

function cloneOne(node, document) {
  if (node instanceof Element) {
    const copy = createElementFor(document, node._localName, node._namespace);
    for (const attr of node._attrs) ArrayPrototypePush(copy._attrs, new Attr(illegal, attr.name, attr.value, copy));
    return copy;
  }
  if (node instanceof Text) return new Text(illegal, document, node.data);
  if (node instanceof Comment) return new Comment(illegal, document, node.data);
  if (node instanceof DocumentFragment) return new DocumentFragment(illegal, document);
  if (node instanceof DocumentType) return new DocumentType(illegal, document, node.name);
  throw new DOMException("This node cannot be cloned.", "NotSupportedError");
}

/** Creates the node for one record of the parser's flat list (see `document/parse.rs`). */
function createParsedNode(document, r) {
  switch (r.kind) {
    case 1: {
      const node = createElementFor(document, r.name, NAMESPACES[r.namespace] ?? HTML_NS);
      for (const [name, value] of r.attrs) {
        if (node._attr(name) === null) ArrayPrototypePush(node._attrs, new Attr(illegal, name, value, node));
      }
      return node;
    }
    case 3: return new Text(illegal, document, r.data);
    case 8: return new Comment(illegal, document, r.data);
    case 10: return new DocumentType(illegal, document, r.name);
    default: return null;
  }
}

/** Builds the parser's flat list under `root` (records[0] stands for `root`). */
function buildNodes(document, records, root) {
  const nodes = [root];
  for (let i = 1; i < records.length; i++) {
    const r = records[i];
    if (r.kind === 11) { nodes[i] = nodes[r.parent].content; continue; }
    const node = createParsedNode(document, r);
    nodes[i] = node;
    if (node !== null) nodes[r.parent].appendChild(node);
  }
  return nodes;
}

/** HTML fragment parsing algorithm, for innerHTML and friends. */
function parseFragment(context, markup) {
  const document = context._ownerDocument ?? context;
  const records = op_swrt_html_parse_fragment(String(markup ?? ""), context.localName ?? "body");
  const fragment = document.createDocumentFragment();
  const nodes = buildNodes(document, records, fragment);
  // Scripts inserted by innerHTML never run (HTML: "already started").
  for (const node of nodes) if (node instanceof HTMLScriptElement) node._alreadyStarted = true;
  return fragment;
}

// HTML fragment serialization algorithm.
const VOID_ELEMENTS = new Set(StringPrototypeSplit("area base basefont bgsound br col embed frame hr img input keygen link meta param source track wbr", " "));
const RAW_TEXT_PARENTS = new Set(StringPrototypeSplit("style script xmp iframe noembed noframes plaintext noscript", " "));

function escapeText(text) {
  return StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(text, /&/g, "&amp;"), /\u00a0/g, "&nbsp;"), /</g, "&lt;"), />/g, "&gt;");
}
function escapeAttribute(text) {
  return StringPrototypeReplace(StringPrototypeReplace(StringPrototypeReplace(text, /&/g, "&amp;"), /\u00a0/g, "&nbsp;"), /"/g, "&quot;");
}

function serializeChildren(node) {
  const parent = node instanceof HTMLTemplateElement ? node.content : node;
  let out = "";
  for (const child of parent._children) out += serializeNode(child, node);
  return out;
}

function serializeNode(node, parent = null) {
  if (node instanceof Element) {
    let out = "<" + node._localName;
    for (const attr of node._attrs) out += ` ${attr.name}="${escapeAttribute(attr.value)}"`;
    out += ">";
    if (node._namespace === HTML_NS && VOID_ELEMENTS.has(node._localName)) return out;
    return out + serializeChildren(node) + "</" + node._localName + ">";
  }
  if (node instanceof Text) {
    return parent instanceof Element && parent._namespace === HTML_NS && RAW_TEXT_PARENTS.has(parent._localName)
      ? node.data
      : escapeText(node.data);
  }
  if (node instanceof Comment) return `<!--${node.data}-->`;
  if (node instanceof DocumentType) return `<!DOCTYPE ${node.name}>`;
  return serializeChildren(node);
}

// Selectors Level 4, the subset pages use: type, universal, #id, .class,
// attribute selectors with all operators (and the `i` flag), the
// structural pseudo-classes, :not/:is/:where (selector lists), :root,
// :scope, :empty, :checked, :disabled, :enabled, :link, and the four
// combinators. Anything else is a SyntaxError, as a browser reports a
// selector it cannot parse.
const selectorCache = new Map();

function selectorError(selectors) {
  return new DOMException(`'${selectors}' is not a valid selector.`, "SyntaxError");
}

function compileSelector(selectors) {
  const text = String(selectors);
  let compiled = selectorCache.get(text);
  if (compiled === undefined) {
    const parser = { text, pos: 0 };
    const list = parseSelectorList(parser);
    skipSpace(parser);
    if (parser.pos !== text.length || list.length === 0) throw selectorError(text);
    // Called once per element of the tree: no closure or array helper per call.
    compiled = (el, scope) => {
      for (let i = 0; i < list.length; i++) {
        if (matchComplex(list[i], list[i].length - 1, el, scope)) return true;
      }
      return false;
    };
    if (selectorCache.size > 500) selectorCache.clear();
    selectorCache.set(text, compiled);
  }
  return compiled;
}

function skipSpace(p) {
  while (p.pos < p.text.length && /[\t\n\f\r ]/.test(p.text[p.pos])) p.pos++;
}

const IDENT = /-?(?:[_a-zA-Z\u0080-\uffff]|\\.)(?:[-_a-zA-Z0-9\u0080-\uffff]|\\.)*/y;
function readIdent(p) {
  IDENT.lastIndex = p.pos;
  const m = IDENT.exec(p.text);
  if (!m) throw selectorError(p.text);
  p.pos += m[0].length;
  return StringPrototypeReplace(m[0], /\\(.)/g, "$1");
}

function parseSelectorList(p) {
  const list = [];
  for (;;) {
    skipSpace(p);
    ArrayPrototypePush(list, parseComplex(p));
    skipSpace(p);
    if (p.text[p.pos] !== ",") return list;
    p.pos++;
  }
}

// A complex selector: [compound, combinator, compound, ...] with the
// combinator stored on the compound to its right.
function parseComplex(p) {
  const parts = [];
  let combinator = null;
  for (;;) {
    const compound = parseCompound(p);
    if (compound === null) {
      if (parts.length === 0 || combinator !== " ") throw selectorError(p.text);
      break;
    }
    ArrayPrototypePush(parts, { combinator, compound });
    const before = p.pos;
    skipSpace(p);
    const c = p.text[p.pos];
    if (c === ">" || c === "+" || c === "~") {
      combinator = c;
      p.pos++;
      skipSpace(p);
    } else if (p.pos > before && c !== undefined && c !== "," && c !== ")") {
      combinator = " ";
    } else {
      break;
    }
  }
  return parts;
}

/** A compound selector's tests (none for a lone `*`), or null if there is none at `p`. */
function parseCompound(p) {
  const tests = [];
  const start = p.pos;
  const c0 = p.text[p.pos];
  if (c0 === "*") {
    p.pos++;
  } else if (c0 !== undefined && /[-_a-zA-Z\u0080-\uffff\\]/.test(c0)) {
    const name = StringPrototypeToLowerCase(readIdent(p));
    // HTML elements' local names are lowercase already; only other
    // namespaces' names need folding.
    ArrayPrototypePush(tests, (el) => el._localName === name || StringPrototypeToLowerCase(el._localName) === name);
  }
  for (;;) {
    const c = p.text[p.pos];
    if (c === "#") {
      p.pos++;
      const id = readIdent(p);
      ArrayPrototypePush(tests, (el) => el._attrValue("id") === id);
    } else if (c === ".") {
      p.pos++;
      const cls = readIdent(p);
      ArrayPrototypePush(tests, (el) => {
        const value = el._attrValue("class");
        if (value === null) return false;
        if (value === cls) return true;
        const tokens = el._classTokens;
        if (tokens !== undefined && tokens.value === value) return ArrayPrototypeIncludes(tokens.list, cls);
        const list = splitTokens(value);
        // Kept until the attribute changes: queries repeat over one tree.
        el._classTokens = { value, list };
        return ArrayPrototypeIncludes(list, cls);
      });
    } else if (c === "[") {
      p.pos++;
      ArrayPrototypePush(tests, parseAttributeSelector(p));
    } else if (c === ":") {
      p.pos++;
      if (p.text[p.pos] === ":") throw selectorError(p.text); // pseudo-elements never match elements
      ArrayPrototypePush(tests, parsePseudoClass(p));
    } else {
      return p.pos === start ? null : tests;
    }
  }
}

function parseAttributeSelector(p) {
  skipSpace(p);
  const name = StringPrototypeToLowerCase(readIdent(p));
  skipSpace(p);
  let op = null;
  let value = null;
  let insensitive = false;
  const m = /^(=|~=|\|=|\^=|\$=|\*=)/.exec(StringPrototypeSlice(p.text, p.pos));
  if (m) {
    op = m[1];
    p.pos += op.length;
    skipSpace(p);
    const q = p.text[p.pos];
    if (q === '"' || q === "'") {
      const end = p.text.indexOf(q, p.pos + 1);
      if (end < 0) throw selectorError(p.text);
      value = StringPrototypeSlice(p.text, p.pos + 1, end);
      p.pos = end + 1;
    } else {
      value = readIdent(p);
    }
    skipSpace(p);
    if (/[iIsS]/.test(p.text[p.pos] ?? "")) {
      insensitive = StringPrototypeToLowerCase(p.text[p.pos]) === "i";
      p.pos++;
      skipSpace(p);
    }
  }
  if (p.text[p.pos] !== "]") throw selectorError(p.text);
  p.pos++;
  const norm = (s) => insensitive ? StringPrototypeToLowerCase(s) : s;
  return (el) => {
    const actual = el.getAttribute(name);
    if (actual === null) return false;
    if (op === null) return true;
    const a = norm(actual);
    const v = norm(value);
    switch (op) {
      case "=": return a === v;
      case "~=": return ArrayPrototypeIncludes(splitTokens(a), v);
      case "|=": return a === v || StringPrototypeStartsWith(a, v + "-");
      case "^=": return v !== "" && StringPrototypeStartsWith(a, v);
      case "$=": return v !== "" && StringPrototypeEndsWith(a, v);
      case "*=": return v !== "" && StringPrototypeIncludes(a, v);
    }
    return false;
  };
}

function elementSiblings(el) {
  return el._parent ? ArrayPrototypeFilter(el._parent._children, (n) => n instanceof Element) : [el];
}

/** An+B microsyntax: returns a predicate over 1-based positions. */
function parseNth(text) {
  const t = StringPrototypeToLowerCase(StringPrototypeTrim(text));
  if (t === "odd") return (i) => i % 2 === 1;
  if (t === "even") return (i) => i % 2 === 0;
  const m = /^([+-]?\d*)n\s*(?:([+-])\s*(\d+))?$|^([+-]?\d+)$/.exec(t);
  if (!m) return null;
  if (m[4] !== undefined) { const b = Number(m[4]); return (i) => i === b; }
  const a = m[1] === "" || m[1] === "+" ? 1 : m[1] === "-" ? -1 : Number(m[1]);
  const b = m[3] === undefined ? 0 : Number(m[2] + m[3]);
  return (i) => a === 0 ? i === b : (i - b) / a >= 0 && (i - b) % a === 0;
}

function parsePseudoClass(p) {
  const name = StringPrototypeToLowerCase(readIdent(p));
  let arg = null;
  if (p.text[p.pos] === "(") {
    p.pos++;
    if (name === "not" || name === "is" || name === "where" || name === "matches") {
      const list = parseSelectorList(p);
      skipSpace(p);
      if (p.text[p.pos] !== ")") throw selectorError(p.text);
      p.pos++;
      const any = (el, scope) => ArrayPrototypeSome(list, (c) => matchComplex(c, c.length - 1, el, scope));
      return name === "not" ? (el, scope) => !any(el, scope) : any;
    }
    const end = p.text.indexOf(")", p.pos);
    if (end < 0) throw selectorError(p.text);
    arg = StringPrototypeSlice(p.text, p.pos, end);
    p.pos = end + 1;
  }
  const position = (el, ofType, fromEnd) => {
    let siblings = elementSiblings(el);
    if (ofType) siblings = ArrayPrototypeFilter(siblings, (s) => s._localName === el._localName);
    const i = ArrayPrototypeIndexOf(siblings, el);
    return fromEnd ? siblings.length - i : i + 1;
  };
  const nth = (ofType, fromEnd) => {
    const test = parseNth(arg ?? "");
    if (test === null) throw selectorError(p.text);
    return (el) => test(position(el, ofType, fromEnd));
  };
  switch (name) {
    case "first-child": return (el) => position(el, false, false) === 1;
    case "last-child": return (el) => position(el, false, true) === 1;
    case "only-child": return (el) => elementSiblings(el).length === 1;
    case "first-of-type": return (el) => position(el, true, false) === 1;
    case "last-of-type": return (el) => position(el, true, true) === 1;
    case "only-of-type": return (el) => position(el, true, false) === 1 && position(el, true, true) === 1;
    case "nth-child": return nth(false, false);
    case "nth-last-child": return nth(false, true);
    case "nth-of-type": return nth(true, false);
    case "nth-last-of-type": return nth(true, true);
    case "root": return (el) => el._parent instanceof Document;
    case "scope": return (el, scope) => scope instanceof Element ? el === scope : el._parent instanceof Document;
    case "empty": return (el) => !ArrayPrototypeSome(el._children, (n) => n instanceof Element || (n instanceof Text && n.data !== ""));
    case "checked": return (el) => el.hasAttribute("checked") || el.hasAttribute("selected");
    case "disabled": return (el) => el.hasAttribute("disabled");
    case "enabled": return (el) => !el.hasAttribute("disabled");
    case "link": case "any-link": return (el) => (el._localName === "a" || el._localName === "area") && el.hasAttribute("href");
    default: throw selectorError(p.text);
  }
}

function matchCompound(compound, el, scope) {
  for (let i = 0; i < compound.length; i++) if (!compound[i](el, scope)) return false;
  return true;
}

function matchComplex(parts, index, el, scope) {
  const { combinator, compound } = parts[index];
  if (!matchCompound(compound, el, scope)) return false;
  if (index === 0) return true;
  switch (combinator) {
    case ">": return el._parent instanceof Element && matchComplex(parts, index - 1, el._parent, scope);
    case " ":
      for (let a = el._parent; a instanceof Element; a = a._parent) if (matchComplex(parts, index - 1, a, scope)) return true;
      return false;
    case "+": { const prev = el.previousElementSibling; return prev !== null && matchComplex(parts, index - 1, prev, scope); }
    case "~":
      for (let s = el.previousElementSibling; s; s = s.previousElementSibling) if (matchComplex(parts, index - 1, s, scope)) return true;
      return false;
  }
  return false;
}

// Event handler IDL attributes of elements and documents (HTML, "global
// event handlers"); `onload`/`onerror` on script and iframe elements are the
// ones pages rely on.
for (const name of ["load", "error", "click", "input", "change", "submit", "focus", "blur", "message", "readystatechange", "abort", "keydown", "keyup"]) {
  defineEventHandler(HTMLElement.prototype, name);
}
for (const name of ["readystatechange", "DOMContentLoaded", "visibilitychange", "click", "error", "load"]) {
  defineEventHandler(Document.prototype, name);
}

/** Creates an HTML document for `url` (no children: the parser or caller fills it). */
function createDocument(url, contentType = "text/html") {
  return new Document(illegal, url, contentType);
}

function domDescriptors() {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  const out = {
    Node: d(Node), CharacterData: d(CharacterData), Text: d(Text), Comment: d(Comment), Element: d(Element),
    HTMLElement: d(HTMLElement), Document: d(Document), HTMLDocument: d(Document), DocumentFragment: d(DocumentFragment),
    DocumentType: d(DocumentType), NodeList: d(NodeList), HTMLCollection: d(HTMLCollection), DOMTokenList: d(DOMTokenList),
    Attr: d(Attr), HTMLUnknownElement: d(HTMLUnknownElement),
  };
  for (const cls of new Set(Object.values(elementInterfaces))) out[cls.name] = d(cls);
  return out;
}

return ObjectFreeze({
  Document, Element, HTMLElement, HTMLScriptElement, HTMLIFrameElement, HTMLMetaElement, Node, Text,
  buildNodes, createDocument, createParsedNode, domDescriptors, hooks, walk, childText,
});
})();
