# Started by `swrt wpt`: runs PyPI's wptserve (the real WPT server) on
# loopback for the test tree's Python handlers (*.py) and the pipes the
# Rust server does not implement. Prints "PORT <n>" once listening, then
# serves until stdin closes (the runner holds it open and closes it, or dies).
import json
import sys

from wptserve import server, stash
from wptserve.config import ConfigBuilder
import logging


def main():
    doc_root, config_json = sys.argv[1], sys.argv[2]
    cfg = json.loads(config_json)
    logging.basicConfig(level=logging.WARNING)
    logger = logging.getLogger()
    subdomains = set(cfg["subdomains"])
    # Handlers keep state between requests in the stash (request.server.stash),
    # as under upstream's `wpt serve`.
    with stash.StashServer(address=("127.0.0.1", 0)), ConfigBuilder(
        logger,
        browser_host=cfg["browser_host"],
        alternate_hosts={"alt": cfg["alt_host"]},
        subdomains=subdomains,
        ports={"http": cfg["ports"], "https": cfg["https_ports"]},
        doc_root=doc_root,
    ) as config:
        httpd = server.WebTestHttpd(
            host="127.0.0.1",
            port=0,
            doc_root=doc_root,
            config=config,
            bind_address=True,
        )
        httpd.start()
        print("PORT %d" % httpd.port, flush=True)
        sys.stdin.read()
        httpd.stop()


if __name__ == "__main__":
    main()
