"""A real HTTP server on 127.0.0.1 serving a folder as a download mirror, with Range support and faults.

``faults`` maps a URL path (``/raw/OWNER/...``) to what goes wrong on it: ``"404"``, ``"corrupt"`` (one
byte flipped), ``"truncate"`` (the first half only, announced as the whole), ``"drop-once"`` (the first
request's connection closes half-way; later requests are served, Range included).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class MirrorServer:
    def __init__(self, root: Path, faults: dict[str, str] | None = None) -> None:
        self.root = Path(root)
        self.faults = dict(faults or {})
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self._dropped: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self):
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the test output is the test's
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                mirror.requests.append((path, self.headers.get("Range")))
                file = (mirror.root / path.lstrip("/")).resolve()
                fault = mirror.faults.get(path)
                if fault == "404" or not file.is_file() or mirror.root.resolve() not in file.parents:
                    self.send_error(404)
                    return
                data = file.read_bytes()
                if fault == "corrupt":
                    data = data[:-1] + bytes([data[-1] ^ 0xFF])
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and fault != "truncate":
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                if fault == "truncate":
                    body = body[: len(body) // 2]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault == "drop-once" and path not in mirror._dropped:
                    mirror._dropped.add(path)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        return Handler

    def __enter__(self) -> MirrorServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def serve_mirror(root: Path, faults: dict[str, str] | None = None) -> Iterator[MirrorServer]:
    with MirrorServer(root, faults) as server:
        yield server
