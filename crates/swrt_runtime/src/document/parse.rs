//! Parses HTML into a flat list of nodes in tree order, the shape the page
//! realm's DOM builder consumes.

use html5ever::tendril::TendrilSink;
use html5ever::{local_name, ns, parse_document, parse_fragment, ParseOpts, QualName};
use markup5ever_rcdom::{Handle, NodeData, RcDom};
use serde::Serialize;

/// The kind of a parsed node, numbered as the DOM's `nodeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "u8")]
pub(crate) enum NodeKind {
    Element = 1,
    Text = 3,
    Comment = 8,
    Document = 9,
    Doctype = 10,
    /// A `<template>` element's contents (its parent is the template).
    TemplateContents = 11,
}

impl From<NodeKind> for u8 {
    fn from(kind: NodeKind) -> u8 {
        kind as u8
    }
}

/// One node. `parent` indexes the list (-1 for the root); a node always
/// comes after its parent and after its previous siblings.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ParsedNode {
    pub kind: NodeKind,
    pub parent: i64,
    /// Local name of an element, name of a doctype.
    pub name: String,
    /// `html`, `svg` or `mathml` for elements; empty otherwise.
    pub namespace: &'static str,
    /// Attributes in source order (qualified names as written).
    pub attrs: Vec<(String, String)>,
    /// Text or comment data.
    pub data: String,
}

fn options() -> ParseOpts {
    let mut opts = ParseOpts::default();
    // Pages run scripts, so <noscript> is parsed as raw text, as a browser
    // with scripting enabled does.
    opts.tree_builder.scripting_enabled = true;
    opts
}

/// Parses a whole document. The first node is the Document.
pub(crate) fn parse_html_document(html: &str) -> Vec<ParsedNode> {
    let dom = parse_document(RcDom::default(), options()).one(html);
    let mut out = Vec::new();
    flatten(&dom.document, -1, &mut out);
    out
}

/// Parses `html` as the children of an element named `context` (HTML
/// fragment parsing algorithm, as `innerHTML` does). The first node is a
/// stand-in root whose children are the fragment's nodes.
pub(crate) fn parse_html_fragment(html: &str, context: &str) -> Vec<ParsedNode> {
    let context = QualName::new(None, ns!(html), context.to_ascii_lowercase().into());
    let dom = parse_fragment(RcDom::default(), options(), context, Vec::new(), true).one(html);
    let mut out = vec![ParsedNode {
        kind: NodeKind::Document,
        parent: -1,
        name: String::new(),
        namespace: "",
        attrs: Vec::new(),
        data: String::new(),
    }];
    // The fragment parser puts the nodes under an <html> element that
    // stands for the context element.
    let root = dom.document.children.borrow().first().cloned();
    if let Some(root) = root {
        for child in root.children.borrow().iter() {
            flatten(child, 0, &mut out);
        }
    }
    out
}

fn namespace_of(name: &QualName) -> &'static str {
    if name.ns == ns!(svg) {
        "svg"
    } else if name.ns == ns!(mathml) {
        "mathml"
    } else {
        "html"
    }
}

/// Appends `root` and its descendants in tree order. Iterative: a hostile
/// page may nest elements far deeper than a thread's stack would allow.
fn flatten(root: &Handle, root_parent: i64, out: &mut Vec<ParsedNode>) {
    let mut stack: Vec<(Handle, i64)> = vec![(root.clone(), root_parent)];
    while let Some((node, parent)) = stack.pop() {
        let index = out.len() as i64;
        let mut entry = ParsedNode {
            kind: NodeKind::Document,
            parent,
            name: String::new(),
            namespace: "",
            attrs: Vec::new(),
            data: String::new(),
        };
        let mut template = None;
        match &node.data {
            NodeData::Document => {}
            NodeData::Doctype { name, .. } => {
                entry.kind = NodeKind::Doctype;
                entry.name = name.to_string();
            }
            NodeData::Text { contents } => {
                entry.kind = NodeKind::Text;
                entry.data = contents.borrow().to_string();
            }
            NodeData::Comment { contents } => {
                entry.kind = NodeKind::Comment;
                entry.data = contents.to_string();
            }
            NodeData::Element {
                name,
                attrs,
                template_contents,
                ..
            } => {
                entry.kind = NodeKind::Element;
                entry.name = name.local.to_string();
                entry.namespace = namespace_of(name);
                entry.attrs = attrs
                    .borrow()
                    .iter()
                    .map(|a| {
                        let qualified = match &a.name.prefix {
                            Some(prefix) => format!("{prefix}:{}", a.name.local),
                            None => a.name.local.to_string(),
                        };
                        (qualified, a.value.to_string())
                    })
                    .collect();
                if name.local == local_name!("template") {
                    template = template_contents.borrow().clone();
                }
            }
            // Processing instructions only exist in XML documents.
            NodeData::ProcessingInstruction { .. } => continue,
        }
        out.push(entry);
        // Children are pushed in reverse so they come out in order, after
        // the template contents (which come first, as a fragment node).
        for child in node.children.borrow().iter().rev() {
            stack.push((child.clone(), index));
        }
        if let Some(contents) = template {
            let fragment = out.len() as i64;
            out.push(ParsedNode {
                kind: NodeKind::TemplateContents,
                parent: index,
                name: String::new(),
                namespace: "",
                attrs: Vec::new(),
                data: String::new(),
            });
            for child in contents.children.borrow().iter().rev() {
                stack.push((child.clone(), fragment));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(nodes: &[ParsedNode]) -> Vec<String> {
        nodes
            .iter()
            .map(|n| match n.kind {
                NodeKind::Element => n.name.clone(),
                NodeKind::Text => format!("#text {}", n.data),
                NodeKind::Comment => format!("#comment {}", n.data),
                NodeKind::Doctype => format!("!doctype {}", n.name),
                NodeKind::Document => "#document".into(),
                NodeKind::TemplateContents => "#content".into(),
            })
            .collect()
    }

    #[test]
    fn recovers_a_document_without_html_head_or_body() {
        let nodes = parse_html_document("<!doctype html><title>T</title><p>one<p>two");
        assert_eq!(
            names(&nodes),
            [
                "#document",
                "!doctype html",
                "html",
                "head",
                "title",
                "#text T",
                "body",
                "p",
                "#text one",
                "p",
                "#text two"
            ]
        );
        // Parents point backwards: each p is a child of body.
        let body = nodes.iter().position(|n| n.name == "body").unwrap() as i64;
        assert!(nodes
            .iter()
            .filter(|n| n.name == "p")
            .all(|n| n.parent == body));
    }

    #[test]
    fn script_text_is_raw_and_attributes_keep_their_order() {
        let nodes = parse_html_document(
            "<script defer src=a.js type=text/javascript>if (a < b) {}</script>",
        );
        let script = nodes.iter().find(|n| n.name == "script").unwrap();
        assert_eq!(
            script.attrs,
            [
                ("defer".to_string(), String::new()),
                ("src".to_string(), "a.js".to_string()),
                ("type".to_string(), "text/javascript".to_string())
            ]
        );
        assert!(nodes.iter().any(|n| n.data == "if (a < b) {}"));
    }

    #[test]
    fn svg_is_in_its_namespace_and_template_contents_are_kept() {
        let nodes = parse_html_document("<svg><circle/></svg><template><b>x</b></template>");
        let circle = nodes.iter().find(|n| n.name == "circle").unwrap();
        assert_eq!(circle.namespace, "svg");
        let contents = nodes
            .iter()
            .position(|n| n.kind == NodeKind::TemplateContents)
            .unwrap() as i64;
        assert_eq!(
            nodes.iter().find(|n| n.name == "b").unwrap().parent,
            contents
        );
    }

    #[test]
    fn deep_nesting_does_not_exhaust_the_stack() {
        let depth = 10_000;
        let html = "<div>".repeat(depth);
        let nodes = parse_html_document(&html);
        assert_eq!(nodes.iter().filter(|n| n.name == "div").count(), depth);
        // Each div is the child of the one before it.
        let first = nodes.iter().position(|n| n.name == "div").unwrap();
        assert!(nodes[first + 1..]
            .iter()
            .enumerate()
            .all(|(i, n)| n.parent == (first + i) as i64));
    }

    #[test]
    fn fragments_parse_in_their_context() {
        let nodes = parse_html_fragment("<td>cell</td>", "tr");
        assert_eq!(names(&nodes), ["#document", "td", "#text cell"]);
        let nodes = parse_html_fragment("a <b>bold</b>", "div");
        assert_eq!(names(&nodes), ["#document", "#text a ", "b", "#text bold"]);
    }
}
