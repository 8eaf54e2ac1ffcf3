"""A local HTTPS server with a self-signed certificate made for the test (``openssl req``): the
probe must refuse it as untrusted, saying so in one line."""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
from pathlib import Path

from tests.servers.base import serve_in_thread


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"values": [1, 2, 3]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    """A fresh key and self-signed certificate for 127.0.0.1 (valid one day)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is not installed (scripts/ensure-system-deps installs it)")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return key, cert


class SelfSignedServer:
    """``with SelfSignedServer(tmp) as s: s.url`` → ``https://127.0.0.1:<port>``."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self) -> SelfSignedServer:
        key, cert = make_self_signed(self.folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = serve_in_thread(self.httpd)
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)
