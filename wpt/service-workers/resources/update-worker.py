# A service worker script whose answer the query chooses, for update().
# mode=same: the same bytes every time; mode=changing: new bytes on each
# request; mode=fail-after-first: 404 after the first request (counted under
# token). The script reports the Cache-Control header of the request that
# fetched it, and of the request for the script it imports (import=1, with
# importScripts; import=module, a static import of a module worker).
from wptserve.utils import isomorphic_decode


def main(request, response):
    mode = request.GET.first(b"mode", b"same")
    token = request.GET.first(b"token", b"")
    kind = request.GET.first(b"kind", b"main")
    cache_control = isomorphic_decode(request.headers.get(b"cache-control", b"-"))
    # Stash keys are UUIDs; the path keeps main and imported scripts apart.
    path = "/update-worker/" + isomorphic_decode(kind)
    count = (request.server.stash.take(token, path) or 0) + 1
    request.server.stash.put(token, count, path)
    if mode == b"fail-after-first" and count > 1:
        return 404, [(b"Content-Type", b"text/plain")], b"gone"
    headers = [(b"Content-Type", b"application/javascript"), (b"Cache-Control", b"max-age=86400")]
    if kind == b"import":
        return headers, "self.importCacheControl = %r;\n" % cache_control
    version = count if mode == b"changing" else 0
    body = "// version %d\nself.mainCacheControl = %r;\nif (self.importCacheControl === undefined) self.importCacheControl = '-';\n" % (version, cache_control)
    if request.GET.first(b"import", b"0") == b"module":
        body = "import './update-worker.py?kind=import&token=%s';\n" % isomorphic_decode(token) + body
    elif request.GET.first(b"import", b"0") == b"1":
        body += "importScripts('update-worker.py?kind=import&token=%s');\n" % isomorphic_decode(token)
    body += """
self.addEventListener('message', (e) => {
  e.ports[0].postMessage({ main: self.mainCacheControl, imported: self.importCacheControl });
});
"""
    return headers, body
