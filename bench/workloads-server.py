"""A loopback HTTP/1.1 file server for bench/workloads.sh: keep-alive,
one thread per connection, and a count of the connections open at once.
GET /__peak answers the most connections open at once since the last
/__peak, and how many were opened in all, then starts counting again (its
own connection is not counted)."""
import http.server
import signal
import sys
import threading

root = sys.argv[1]
lock = threading.Lock()
open_now = 0
peak = 0
opened = 0


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=root, **kwargs)

    def setup(self):
        global open_now, peak, opened
        super().setup()
        with lock:
            open_now += 1
            opened += 1
            peak = max(peak, open_now)

    def finish(self):
        global open_now
        super().finish()
        with lock:
            open_now -= 1

    def do_GET(self):
        global peak, opened
        if self.path != "/__peak":
            return super().do_GET()
        with lock:
            # This request's own connection is not among those opened; it
            # cannot raise the peak of a tool's run.
            body = f"{peak} {opened - 1}".encode()
            peak, opened = open_now - 1, 0
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)


def stop(*_):
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
server.serve_forever()
