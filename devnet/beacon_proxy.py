#!/usr/bin/env python3
"""Beacon API front for anvil.

kona-node needs `--l1-beacon` and asks it for `/eth/v1/config/spec` (SECONDS_PER_SLOT) at
start-up; anvil serves `/eth/v1/beacon/...` but not that. This answers the spec itself and passes
every other request through to anvil unchanged.

usage: beacon_proxy.py LISTEN_PORT UPSTREAM_URL SECONDS_PER_SLOT
"""
import json
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, SLOT = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def _send(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/eth/v1/config/spec":
            body = json.dumps({"data": {"SECONDS_PER_SLOT": SLOT}}).encode()
            return self._send(200, body)
        try:
            with urllib.request.urlopen(UPSTREAM + self.path, timeout=10) as upstream:
                return self._send(upstream.status, upstream.read(),
                                  upstream.headers.get("content-type", "application/json"))
        except urllib.error.HTTPError as error:
            return self._send(error.code, error.read())
        except OSError as error:
            return self._send(502, json.dumps({"message": str(error)}).encode())

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
