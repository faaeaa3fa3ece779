"""An in-process stand-in for a Confluent schema registry: the two endpoints the codec uses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Registry:
    def __init__(self) -> None:
        self.schemas: dict[int, str] = {}
        self.subjects: dict[str, list[int]] = {}
        self.requests = 0


def _handler(registry: _Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            registry.requests += 1
            subject = self.path.split("/")[2]
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ids = [i for i, s in registry.schemas.items() if s == body["schema"]]
            schema_id = ids[0] if ids else len(registry.schemas) + 1
            registry.schemas[schema_id] = body["schema"]
            registry.subjects.setdefault(subject, []).append(schema_id)
            self._reply(200, {"id": schema_id})

        def do_GET(self) -> None:
            registry.requests += 1
            schema_id = int(self.path.rsplit("/", 1)[1])
            if schema_id not in registry.schemas:
                self._reply(404, {"error_code": 40403, "message": "Schema not found"})
                return
            self._reply(200, {"schema": registry.schemas[schema_id]})

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def mock_registry() -> Iterator[tuple[str, _Registry]]:
    registry = _Registry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", registry
    finally:
        server.shutdown()
        server.server_close()
