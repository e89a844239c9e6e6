// A small document for page realms: enough DOM for testharness.js output,
// `document.createElement` / `head.appendChild`, and a Content-Security-Policy
// `<meta http-equiv>` inserted by script, which then governs the page's
// requests. Not an HTML parser: markup assigned to innerHTML is kept as text.
(function () {
const { core, primordials } = __bootstrap;
const { event: eventModule } = core.loadExtScript("ext:swrt/01_web_platform.js");
const { ArrayPrototypeIndexOf, ArrayPrototypePush, ArrayPrototypeSplice, Symbol, SymbolToStringTag, StringPrototypeToLowerCase, StringPrototypeToUpperCase, TypeError } = primordials;
const { EventTarget, setEventTargetData } = eventModule;

const illegal = Symbol("illegal constructor");
const cspPolicies = [];

class Node extends EventTarget {
  constructor(key, ownerDocument) {
    if (key !== illegal) throw new TypeError("Illegal constructor");
    super();
    setEventTargetData(this);
    this.ownerDocument = ownerDocument;
    this.parentNode = null;
    this.childNodes = [];
  }
  get firstChild() { return this.childNodes[0] ?? null; }
  get lastChild() { return this.childNodes[this.childNodes.length - 1] ?? null; }
  get parentElement() { return this.parentNode instanceof Element ? this.parentNode : null; }
  get children() { return this.childNodes.filter((n) => n instanceof Element); }
  get nextSibling() {
    if (!this.parentNode) return null;
    const siblings = this.parentNode.childNodes;
    return siblings[ArrayPrototypeIndexOf(siblings, this) + 1] ?? null;
  }
  appendChild(node) {
    return this.insertBefore(node, null);
  }
  insertBefore(node, reference) {
    if (node.parentNode) node.parentNode.removeChild(node);
    const index = reference === null ? this.childNodes.length : ArrayPrototypeIndexOf(this.childNodes, reference);
    ArrayPrototypeSplice(this.childNodes, index < 0 ? this.childNodes.length : index, 0, node);
    node.parentNode = this;
    if (this.isConnected) connected(node);
    return node;
  }
  removeChild(node) {
    const index = ArrayPrototypeIndexOf(this.childNodes, node);
    if (index >= 0) ArrayPrototypeSplice(this.childNodes, index, 1);
    node.parentNode = null;
    return node;
  }
  remove() {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
  get isConnected() {
    let node = this;
    while (node.parentNode) node = node.parentNode;
    return node instanceof Document;
  }
  get textContent() {
    return this.childNodes.map((n) => n.textContent).join("");
  }
  set textContent(value) {
    this.childNodes = [];
    if (value !== "" && value !== null) this.appendChild(new Text(illegal, this.ownerDocument, String(value)));
  }
}

class Text extends Node {
  constructor(key, ownerDocument, data) {
    super(key, ownerDocument);
    this.data = data;
    this.nodeType = 3;
  }
  get textContent() { return this.data; }
  set textContent(value) { this.data = String(value); }
}

class Element extends Node {
  constructor(key, ownerDocument, tagName) {
    super(key, ownerDocument);
    this.tagName = StringPrototypeToUpperCase(tagName);
    this.localName = StringPrototypeToLowerCase(tagName);
    this.nodeType = 1;
    this.attributes = {};
    this.style = {};
    this.innerHTMLText = "";
  }
  get nodeName() { return this.tagName; }
  setAttribute(name, value) { this.attributes[StringPrototypeToLowerCase(name)] = String(value); }
  getAttribute(name) { return this.attributes[StringPrototypeToLowerCase(name)] ?? null; }
  hasAttribute(name) { return StringPrototypeToLowerCase(name) in this.attributes; }
  removeAttribute(name) { delete this.attributes[StringPrototypeToLowerCase(name)]; }
  get id() { return this.getAttribute("id") ?? ""; }
  set id(value) { this.setAttribute("id", value); }
  get className() { return this.getAttribute("class") ?? ""; }
  set className(value) { this.setAttribute("class", value); }
  get classList() {
    const el = this;
    return {
      add: (...names) => { el.className = [...new Set([...el.className.split(/\s+/).filter(Boolean), ...names])].join(" "); },
      remove: (...names) => { el.className = el.className.split(/\s+/).filter((c) => c && !names.includes(c)).join(" "); },
      contains: (name) => el.className.split(/\s+/).includes(name),
    };
  }
  get innerHTML() { return this.innerHTMLText || this.textContent; }
  set innerHTML(value) {
    this.childNodes = [];
    this.innerHTMLText = String(value);
  }
  // HTML reflects http-equiv/content on <meta>.
  get httpEquiv() { return this.getAttribute("http-equiv") ?? ""; }
  set httpEquiv(value) { this.setAttribute("http-equiv", value); }
  get content() { return this.getAttribute("content") ?? ""; }
  set content(value) { this.setAttribute("content", value); }
  getElementsByTagName(name) { return queryAll(this, (el) => name === "*" || el.localName === StringPrototypeToLowerCase(name)); }
  querySelector(selector) { return this.querySelectorAll(selector)[0] ?? null; }
  querySelectorAll(selector) { return queryAll(this, matcher(selector)); }
  get [SymbolToStringTag]() { return "HTMLElement"; }
}

class Document extends Node {
  constructor(key, url) {
    super(key, null);
    this.nodeType = 9;
    this.URL = url;
    this.readyState = "loading";
    this.title = "";
    this.cookie = "";
    this.currentScript = null;
    this.hidden = false;
    this.visibilityState = "visible";
    const html = new Element(illegal, this, "html");
    this.appendChild(html);
    this.documentElement = html;
    this.head = html.appendChild(new Element(illegal, this, "head"));
    this.body = html.appendChild(new Element(illegal, this, "body"));
  }
  get documentURI() { return this.URL; }
  createElement(tagName) { return new Element(illegal, this, String(tagName)); }
  createElementNS(_namespace, tagName) { return new Element(illegal, this, String(tagName)); }
  createTextNode(data) { return new Text(illegal, this, String(data)); }
  createDocumentFragment() { return new Element(illegal, this, "#fragment"); }
  getElementById(id) { return queryAll(this, (el) => el.id === id)[0] ?? null; }
  getElementsByTagName(name) { return queryAll(this, (el) => name === "*" || el.localName === StringPrototypeToLowerCase(name)); }
  querySelector(selector) { return this.querySelectorAll(selector)[0] ?? null; }
  querySelectorAll(selector) { return queryAll(this, matcher(selector)); }
  get [SymbolToStringTag]() { return "HTMLDocument"; }
}

function queryAll(root, predicate) {
  const out = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child instanceof Element) {
        if (predicate(child)) ArrayPrototypePush(out, child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

// Simple selectors only: `tag`, `#id`, `.class`, `tag.class`, `meta[http-equiv]`.
function matcher(selector) {
  const m = /^([a-zA-Z0-9*-]*)(?:#([\w-]+))?(?:\.([\w-]+))?(?:\[([\w-]+)(?:="?([^"\]]*)"?)?\])?$/.exec(String(selector).trim());
  if (!m) throw new TypeError(`Unsupported selector '${selector}' in swrt's document`);
  const [, tag, id, cls, attr, value] = m;
  return (el) =>
    (!tag || tag === "*" || el.localName === StringPrototypeToLowerCase(tag)) &&
    (!id || el.id === id) &&
    (!cls || el.className.split(/\s+/).includes(cls)) &&
    (!attr || (el.hasAttribute(attr) && (value === undefined || el.getAttribute(attr) === value)));
}

// A <meta http-equiv="Content-Security-Policy"> takes effect when inserted
// into the document (HTML "pragma directives").
function connected(node) {
  if (node instanceof Element && node.localName === "meta" &&
      StringPrototypeToLowerCase(node.getAttribute("http-equiv") ?? "") === "content-security-policy") {
    const content = node.getAttribute("content");
    if (content) ArrayPrototypePush(cspPolicies, content);
  }
  for (const child of node.childNodes) connected(child);
}

/** The CSP policies in force for this page, in insertion order. */
function contentSecurityPolicies() {
  return [...cspPolicies];
}

function createDocument(url) {
  return new Document(illegal, url);
}

function documentDescriptors() {
  const d = (value) => ({ value, writable: true, enumerable: false, configurable: true });
  return { Node: d(Node), Element: d(Element), HTMLElement: d(Element), Text: d(Text), Document: d(Document), HTMLDocument: d(Document) };
}

return { contentSecurityPolicies, createDocument, documentDescriptors };
})();
