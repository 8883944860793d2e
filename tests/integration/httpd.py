#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small HTTP/1.1 file server for the image sync tests and bench.

python3 -m http.server can neither answer Range requests nor report what
it saw, so this one:
  * serves --dir, with "Range: bytes=N-" / "bytes=N-M" (206, 416);
  * logs every request as one JSON line to --log (method, path, range, status);
  * writes the port it listens on (127.0.0.1, --port 0 = any) to --port-file;
  * takes orders on /__ctl/...:
      /__ctl/cut?path=/a/b&after=N&count=K    the next K GETs of path send
                                              N body bytes, then drop the connection
      /__ctl/status?path=/a/b&code=500&count=K the next K GETs of path answer code
      /__ctl/stall?path=/a/b&after=N&seconds=S&count=K  the next K GETs send N
                                              body bytes, then stall S seconds, then drop
      /__ctl/nolength?path=/a/b&repeat=R&count=K  the next K GETs of path send
                                              the file R times over, with no
                                              Content-Length, then close
      /__ctl/reset                            forget all orders
Bodies go out with os.sendfile, so the benchmark measures qemuctl, not us.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ORDERS = {"cut": {}, "status": {}, "stall": {}, "nolength": {}}


def take_order(kind, path):
    with LOCK:
        o = ORDERS[kind].get(path)
        if not o or o["count"] <= 0:
            return None
        o["count"] -= 1
        return dict(o)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qc-test-httpd/1"

    def log_message(self, fmt, *args):  # quiet; we keep our own log
        pass

    def record(self, status, rng):
        if not self.server.logfile:
            return
        line = json.dumps({"method": self.command, "path": self.path,
                           "range": rng, "status": status})
        with LOCK:
            with open(self.server.logfile, "a") as f:
                f.write(line + "\n")

    def send_plain(self, code, text, rng=None):
        body = text.encode()
        self.record(code, rng)  # before answering: the client may look at once
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, url):
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        what = url.path[len("/__ctl/"):]
        with LOCK:
            if what == "cut":
                ORDERS["cut"][q["path"]] = {"after": int(q["after"]),
                                            "count": int(q.get("count", 1))}
            elif what == "status":
                ORDERS["status"][q["path"]] = {"code": int(q["code"]),
                                               "count": int(q.get("count", 1))}
            elif what == "stall":
                ORDERS["stall"][q["path"]] = {"after": int(q["after"]),
                                              "seconds": float(q["seconds"]),
                                              "count": int(q.get("count", 1))}
            elif what == "nolength":
                ORDERS["nolength"][q["path"]] = {"repeat": int(q.get("repeat", 1)),
                                                 "count": int(q.get("count", 1))}
            elif what == "reset":
                for o in ORDERS.values():
                    o.clear()
            else:
                return self.send_plain(400, "unknown control\n")
        return self.send_plain(200, "ok\n")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/__ctl/"):
            return self.control(url)
        rng = self.headers.get("Range")
        st = take_order("status", url.path)
        if st:
            return self.send_plain(st["code"], "injected error\n", rng)
        rel = urllib.parse.unquote(url.path).lstrip("/")
        full = os.path.realpath(os.path.join(self.server.root, rel))
        if not (full == self.server.root or full.startswith(self.server.root + os.sep)) \
                or not os.path.isfile(full):
            return self.send_plain(404, "not found\n", rng)
        size = os.path.getsize(full)
        nolen = take_order("nolength", url.path)
        if nolen:
            return self.send_unsized(full, size, nolen["repeat"], rng)
        start, end = 0, size - 1
        code = 200
        if rng:
            try:
                unit, spec = rng.split("=", 1)
                a, b = spec.split("-", 1)
                if unit.strip() != "bytes" or "," in spec:
                    raise ValueError
                start = int(a)
                end = int(b) if b else size - 1
            except ValueError:
                return self.send_plain(400, "bad range\n", rng)
            if start >= size or end < start:
                self.record(416, rng)
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            end = min(end, size - 1)
            code = 206
        length = end - start + 1
        self.record(code, rng)
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        cut = take_order("cut", url.path)
        stall = None if cut else take_order("stall", url.path)
        if stall:
            cut = stall
        send = length if not cut else min(length, cut["after"])
        self.wfile.flush()
        with open(full, "rb") as f:
            off, left = start, send
            sock = self.connection
            while left > 0:
                n = os.sendfile(sock.fileno(), f.fileno(), off, min(left, 1 << 24))
                if n == 0:
                    break
                off += n
                left -= n
        if stall:
            time.sleep(stall["seconds"])  # the client's low-speed timeout fires
        if cut:
            # Drop the connection mid-body: the client sees a short transfer.
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

    def send_unsized(self, full, size, repeat, rng):
        """The whole file, repeat times, with no length: the end is the close."""
        self.record(200, rng)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        self.wfile.flush()
        try:
            with open(full, "rb") as f:
                for _ in range(repeat):
                    off = 0
                    while off < size:
                        n = os.sendfile(self.connection.fileno(), f.fileno(), off,
                                        min(size - off, 1 << 24))
                        if n == 0:
                            break
                        off += n
        except OSError:
            pass  # the client hung up: what it was meant to do


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that hang up (curl after a cut) are expected


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.root = os.path.realpath(a.dir)
    srv.logfile = a.log
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
