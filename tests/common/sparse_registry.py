#!/usr/bin/env python3
"""An authenticated sparse Cargo registry on loopback, for the private-registry tests (tests/common/sparse_registry.rs).

Usage: sparse_registry.py --token TOKEN --log FILE CRATE_FILE...

Serves, under http://127.0.0.1:<port>/:
- index/config.json: {"dl": ..., "api": ..., "auth-required": true} (RFC 3139: Cargo asks for it without a token
  first, gets 401, and asks again with one);
- index/<prefix>/<name>: one index line per `.crate` given, written here from the crate's own `Cargo.toml` (name,
  version) and the sha256 of the `.crate` file, which is what Cargo checks the download against;
- dl/<name>/<version>: the `.crate` file.

Every request without `Authorization: <token>` gets 401 (and a wrong one 403), as crates.io-compatible private
registries answer. The crates must have no dependencies (the index lines say none). Prints the port on its first
line once it listens. Writes one line per request to the log file (method, path, status; never a header's value),
so a test can see that Cargo asked and what it was answered.
"""

import argparse
import hashlib
import http.server
import json
import sys
import tarfile
import tomllib


def index_path(name):
    """The sparse index's path of a crate, as Cargo computes it (lowercased, by length)."""
    name = name.lower()
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[0:2]}/{name[2:4]}/{name}"


def read_crate(path):
    """(name, version, index line, bytes) of a `.crate` made by `cargo package`."""
    data = open(path, "rb").read()
    with tarfile.open(path, "r:gz") as tar:
        manifest = next(m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Cargo.toml"))
        package = tomllib.loads(tar.extractfile(manifest).read().decode())["package"]
    name, version = package["name"], package["version"]
    line = {
        "name": name,
        "vers": version,
        "deps": [],
        "cksum": hashlib.sha256(data).hexdigest(),
        "features": {},
        "yanked": False,
    }
    return name, version, json.dumps(line, separators=(",", ":")), data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("crates", nargs="*")
    args = parser.parse_args()

    index = {}
    downloads = {}
    for path in args.crates:
        name, version, line, data = read_crate(path)
        index.setdefault(index_path(name), []).append(line)
        downloads[f"{name}/{version}"] = data
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, status, body, kind="application/octet-stream"):
            log.write(f"{self.command} {self.path} {status}\n")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            given = self.headers.get("Authorization")
            if given is None:
                return self.answer(401, b'{"errors":[{"detail":"this registry needs a token"}]}', "application/json")
            if given != args.token:
                return self.answer(403, b'{"errors":[{"detail":"the token is not valid"}]}', "application/json")
            base = f"http://127.0.0.1:{self.server.server_port}"
            path = self.path.split("?", 1)[0]
            if path == "/index/config.json":
                config = {"dl": f"{base}/dl/{{crate}}/{{version}}", "api": base, "auth-required": True}
                return self.answer(200, json.dumps(config).encode(), "application/json")
            if path.startswith("/index/") and path[len("/index/"):] in index:
                lines = index[path[len("/index/"):]]
                return self.answer(200, ("\n".join(lines) + "\n").encode(), "text/plain")
            if path.startswith("/dl/") and path[len("/dl/"):] in downloads:
                return self.answer(200, downloads[path[len("/dl/"):]])
            return self.answer(404, b"not found", "text/plain")

        do_HEAD = do_GET

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
