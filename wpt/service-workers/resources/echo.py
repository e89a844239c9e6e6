import json


def main(request, response):
    body = request.body.decode("utf-8")
    headers = [(b"Content-Type", b"application/json")]
    return headers, json.dumps({
        "method": request.method,
        "body": body,
        "header": request.headers.get(b"x-test", b"").decode("utf-8"),
    })
