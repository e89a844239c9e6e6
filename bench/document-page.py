#!/usr/bin/env python3
"""Writes the HTML document benchmark's pages into a directory.

  document-page.py DIR

- big.html: 1,000 elements and 10 external scripts that query the DOM; it
  prints `load <ms>`: performance.now() at its load event.
- empty.html: the same shell with no content and no scripts (the baseline).
- frames.html: 10 same-origin iframes, each a small document with a script.
- noframes.html: the same page without the iframes (the baseline).
- workers.html: 10 dedicated workers, each answering one message; it
  prints `load <ms>` once all have answered (compared with noframes.html).
- fetches.html: 10 small files read one after another with fetch() and
  text(); it prints `load <ms>`, the time the 10 reads took.
"""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

REPORT = ('<script>addEventListener("load", () => '
          'console.log("load " + performance.now().toFixed(2)));</script>')


def write(name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)


def page(head, body):
    return f"<!doctype html>\n<html><head><meta charset=utf-8><title>bench</title>{head}</head>\n<body>{body}</body></html>\n"


# 1,000 elements: html, head, meta, title, script (report), body,
# 10 scripts, one ul, and 982 li/b children.
items = []
count = 6 + 10 + 1
i = 0
while count + 2 <= 1000:
    items.append(f'<li class="item" data-i="{i}">Item {i} <b>bold</b></li>')
    count += 2
    i += 1
while count < 1000:
    items.append("<li>last</li>")
    count += 1
scripts = "".join(f'<script src="s{n}.js"></script>' for n in range(10))
for n in range(10):
    write(f"s{n}.js", f'window.seen{n} = document.querySelectorAll("li.item").length;\n')
write("big.html", page(REPORT, "<ul>" + "".join(items) + "</ul>" + scripts))
write("empty.html", page(REPORT, ""))

write("frame.html", page("", '<p>frame</p><script>var loaded = document.querySelector("p").textContent;</script>'))
frames = "".join(f'<iframe src="frame.html?{n}"></iframe>' for n in range(10))
write("frames.html", page(REPORT, frames))
write("noframes.html", page(REPORT, ""))

write("echo-worker.js", "onmessage = (e) => postMessage(e.data);\n")
write("workers.html", page("", """<script>
const replies = [];
for (let n = 0; n < 10; n++) {
  const worker = new Worker("echo-worker.js");
  replies.push(new Promise((resolve) => { worker.onmessage = () => { worker.terminate(); resolve(); }; }));
  worker.postMessage(n);
}
Promise.all(replies).then(() => console.log("load " + performance.now().toFixed(2)));
</script>"""))

write("fetches.html", page("", """<script>
(async () => {
  const start = performance.now();
  for (let n = 0; n < 10; n++) await (await fetch("s" + n + ".js?read")).text();
  console.log("load " + (performance.now() - start).toFixed(2));
})();
</script>"""))
