# A cross-origin resource whose CORS answer the query chooses. allow: the
# Access-Control-Allow-Origin value ("origin" echoes the request's Origin;
# absent: no header); credentials=1: Access-Control-Allow-Credentials: true;
# expose, methods, headers, max_age: the other Access-Control-* headers;
# redirect: answer 302 to that URL. Preflights (OPTIONS) are counted under
# token (a UUID). Other requests get JSON saying what the server saw.
import json

from wptserve.utils import isomorphic_decode


def main(request, response):
    def query(name):
        return request.GET.first(name, None)

    headers = []
    allow = query(b"allow")
    if allow == b"origin":
        allow = request.headers.get(b"origin", b"")
    if allow is not None:
        headers.append((b"Access-Control-Allow-Origin", allow))
    if query(b"credentials") == b"1":
        headers.append((b"Access-Control-Allow-Credentials", b"true"))
    token = query(b"token")
    seen = 0
    if token is not None:
        seen = request.server.stash.take(token) or 0
    if request.method == "OPTIONS":
        seen += 1
    if token is not None:
        request.server.stash.put(token, seen)
    if request.method == "OPTIONS":
        for name, key in ((b"Access-Control-Allow-Methods", b"methods"),
                          (b"Access-Control-Allow-Headers", b"headers"),
                          (b"Access-Control-Max-Age", b"max_age")):
            if query(key) is not None:
                headers.append((name, query(key)))
        return 204, headers, b""
    if query(b"redirect") is not None:
        return 302, headers + [(b"Location", query(b"redirect"))], b""
    if query(b"expose") is not None:
        headers.append((b"Access-Control-Expose-Headers", query(b"expose")))
    headers += [
        (b"Content-Type", b"application/json"),
        (b"X-Secret", b"secret"),
        (b"X-Shown", b"shown"),
        (b"Set-Cookie", b"session=1"),
    ]
    return headers, json.dumps({
        "method": request.method,
        "origin": isomorphic_decode(request.headers.get(b"origin", b"-")),
        "custom": isomorphic_decode(request.headers.get(b"x-custom", b"-")),
        "preflights": seen,
    })
