# Says which Service-Worker-Navigation-Preload header the request carried.
from wptserve.utils import isomorphic_decode


def main(request, response):
    value = request.headers.get(b"service-worker-navigation-preload", b"none")
    return 201, [(b"Content-Type", b"text/plain")], "header " + isomorphic_decode(value)
