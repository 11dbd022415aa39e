"""A fake Zenodo on 127.0.0.1 for tests: record JSON and file downloads, with injectable faults.

    with FakeZenodo() as zenodo:
        zenodo.add_file(4536377, "events_anomalydetection_v2.features.h5", data)
        download(..., base_url=zenodo.url)

It serves ``/api/records/<id>`` in the format of the real API
(``{"id": .., "files": [{"key", "size", "checksum": "md5:..", "links": {"self": ..}}]}``), the file at
``links.self`` (``/api/records/<id>/files/<name>/content``) and at the public address
``/records/<id>/files/<name>?download=1``, with HTTP range requests. Faults per file: a wrong md5 or
size in the record, the first requests answered 503, a connection cut after some bytes, a body shorter
than announced in the record.

It also serves plain files at any path (``add_url_file("tensorflow/mnist.npz", data)`` ->
``<url>/tensorflow/mnist.npz``), as a stand-in for hosts outside Zenodo, with the same faults.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ServedFile:
    data: bytes
    md5: str  # what the record claims
    size: int  # what the record claims
    fail_first: int = 0  # answer this many requests with fail_status first
    fail_status: int = 503
    cut_after: int | None = None  # announce the full length but close after this many bytes, every time
    cut_times: int | None = None  # ... only for this many requests (None: always)
    body: bytes | None = None  # serve this instead of data (e.g. a shorter file)
    requests: int = 0


class FakeZenodo:
    """A threaded HTTP server in the test process. ``url`` is its base URL (``http://127.0.0.1:<port>``)."""

    def __init__(self):
        self.records: dict[str, dict[str, ServedFile]] = {}
        self.plain: dict[str, ServedFile] = {}  # path without the leading "/" -> file
        self.log: list[tuple[str, dict]] = []  # (path, selected request headers)
        self.record_failures = 0  # answer this many record requests with 503 first
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- set-up ------------------------------------------------------------------------------------

    def add_file(self, record_id, name: str, data: bytes, *, md5: str | None = None, size: int | None = None,
                 **faults) -> ServedFile:
        """Serve ``data`` as ``name`` in ``record_id``; ``md5``/``size`` override what the record claims."""
        served = ServedFile(
            data=data,
            md5=md5 or hashlib.md5(data).hexdigest(),
            size=len(data) if size is None else size,
            **faults,
        )
        self.records.setdefault(str(record_id), {})[name] = served
        return served

    def add_url_file(self, path: str, data: bytes, **faults) -> ServedFile:
        """Serve ``data`` at ``<url>/<path>`` (no record)."""
        served = ServedFile(data=data, md5=hashlib.md5(data).hexdigest(), size=len(data), **faults)
        self.plain[path.strip("/")] = served
        return served

    def add_path(self, record_id, name: str, path, **kwargs) -> ServedFile:
        with open(path, "rb") as handle:
            return self.add_file(record_id, name, handle.read(), **kwargs)

    def record_json(self, record_id) -> dict:
        files = self.records[str(record_id)]
        return {
            "id": int(record_id),
            "files": [
                {
                    "key": name,
                    "size": served.size,
                    "checksum": f"md5:{served.md5}",
                    "links": {"self": f"{self.url}/api/records/{record_id}/files/{urllib.parse.quote(name)}/content"},
                }
                for name, served in files.items()
            ],
        }

    def file_requests(self, name: str) -> list[dict]:
        """Headers of the requests made for file ``name``, in order."""
        return [headers for path, headers in self.log if path.rstrip("/").split("/")[-2:] in (
            [urllib.parse.quote(name), "content"], ["files", urllib.parse.quote(name)])]

    # -- life cycle --------------------------------------------------------------------------------

    def start(self) -> "FakeZenodo":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeZenodo":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- serving -----------------------------------------------------------------------------------

    def _handler(self):
        zenodo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
                zenodo.log.append((url.path, {k: v for k, v in self.headers.items() if k.lower() == "range"}))
                plain = zenodo.plain.get(urllib.parse.unquote(url.path).strip("/"))
                if plain is not None:
                    return self._serve(plain)
                if parts[:2] == ["api", "records"] and len(parts) == 3:
                    return self._record(parts[2])
                if parts[:2] == ["api", "records"] and len(parts) == 6 and parts[3] == "files" and parts[5] == "content":
                    return self._file(parts[2], parts[4])
                if parts[0] == "records" and len(parts) == 4 and parts[2] == "files":
                    return self._file(parts[1], parts[3])
                self._error(404)

            def _error(self, status, headers=None):
                body = json.dumps({"status": status, "message": "fake zenodo"}).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _record(self, record_id):
                if zenodo.record_failures > 0:
                    zenodo.record_failures -= 1
                    return self._error(503)
                if record_id not in zenodo.records:
                    return self._error(404)
                body = json.dumps(zenodo.record_json(record_id)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, record_id, name):
                served = zenodo.records.get(record_id, {}).get(name)
                if served is None:
                    return self._error(404)
                return self._serve(served)

            def _serve(self, served):
                served.requests += 1
                if served.requests <= served.fail_first:
                    return self._error(served.fail_status, {"Retry-After": "0"})
                body = served.body if served.body is not None else served.data
                start = 0
                ranged = self.headers.get("Range", "")
                if ranged.startswith("bytes=") and ranged.endswith("-"):
                    start = int(ranged[6:-1])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                cut = served.cut_after is not None and (served.cut_times is None or served.requests <= served.cut_times)
                if cut:
                    self.wfile.write(body[start:max(start, served.cut_after)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body[start:])

        return Handler


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
