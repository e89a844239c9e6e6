# A cross-origin resource for CORS preflight tests. Query: token (counts the
# preflights under it), methods / headers (what a preflight allows), max_age
# (Access-Control-Max-Age), count=1 (answer the number of preflights seen).
from wptserve.utils import isomorphic_encode


def main(request, response):
    token = request.GET.first(b"token")
    origin = request.headers.get(b"origin", b"*")
    headers = [(b"Access-Control-Allow-Origin", origin)]
    if request.GET.first(b"count", None) is not None:
        seen = request.server.stash.take(token) or 0
        request.server.stash.put(token, seen)
        return headers + [(b"Content-Type", b"text/plain")], isomorphic_encode(str(seen))
    if request.method == "OPTIONS":
        seen = request.server.stash.take(token) or 0
        request.server.stash.put(token, seen + 1)
        headers.append((b"Access-Control-Allow-Methods", request.GET.first(b"methods", b"")))
        headers.append((b"Access-Control-Allow-Headers", request.GET.first(b"headers", b"")))
        max_age = request.GET.first(b"max_age", None)
        if max_age is not None:
            headers.append((b"Access-Control-Max-Age", max_age))
        return 204, headers, b""
    return headers + [(b"Content-Type", b"text/plain")], b"cors ok"
