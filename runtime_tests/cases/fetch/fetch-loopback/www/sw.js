self.addEventListener("activate", (e) => {
  e.waitUntil((async () => {
    const r = await fetch("data.json");
    console.log(r.status, r.headers.get("content-type"), JSON.stringify(await r.json()));
    const redirect = "{{AUX}}/redirect/302?to=" + encodeURIComponent(new URL("/sub/t.txt", self.location).href);
    // Back to its own origin through another one: the request's origin is
    // now "null", and the worker's server does not allow it.
    try { await fetch(redirect); } catch (err) { console.log("redirected back", err.name); }
    const r2 = await fetch("{{AUX}}/redirect/302?to=" + encodeURIComponent("{{AUX}}/bytes/5"));
    console.log(r2.status, r2.redirected, r2.type, r2.url, (await r2.arrayBuffer()).byteLength);
    const m = await fetch(redirect, { redirect: "manual" });
    console.log("manual", m.type, m.status);
    try { await fetch(redirect, { redirect: "error" }); } catch (err) { console.log("error mode", err.name); }
    // The origin serves files as they are: WPT's ?pipe= and .headers are
    // conventions of `swrt wpt` only.
    const piped = await fetch("data.json?pipe=status(404)|header(X-Piped,1)");
    const sidecar = await fetch("sub/t.txt");
    console.log("as they are", piped.status, piped.headers.get("x-piped"), sidecar.headers.get("x-sidecar"));
    const r404 = await fetch("missing");
    console.log(r404.status, r404.ok);
    const ac = new AbortController();
    const p = fetch("big.bin", { signal: ac.signal });
    ac.abort();
    try { await p; } catch (err) { console.log("aborted", err.name); }
    const b = await (await fetch("big.bin")).arrayBuffer();
    console.log("big", b.byteLength);
    const post = await fetch("data.json", { method: "POST", body: "x" });
    console.log("post", post.status);
    try { await fetch("http://127.0.0.1:1/"); } catch (err) { console.log("refused", err.name); }
    const fd = await new Response("a=1&b=2", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData();
    console.log(fd.get("b"), (await new Response("hi").blob()).size);
  })());
});
