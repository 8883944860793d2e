#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a simplestreams tree (streams/v1/index.json + products) for tests.

Layout, like cloud-images.ubuntu.com/releases:
  com.ubuntu.cloud:server:24.04:amd64   versions 20240101 (--old), 20240423 (--new),
                                        20240501 (no disk1.img: must be skipped)
  com.ubuntu.cloud:server:24.04:arm64   version 20240601 (--new): newer, other arch
  com.ubuntu.cloud:server:22.04:amd64   version 20230101 (--old)
Options: --bad-sha (the 20240423 sha256 is wrong), --big FILE (adds
release "bench" for amd64 with that one file).
"""
import argparse
import hashlib
import json
import os
import shutil


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def item(out, src, rel, serial, arch, bad=False, link=False):
    path = "server/releases/%s/release-%s/ubuntu-%s-server-cloudimg-%s.img" % (
        rel, serial, rel, arch)
    dst = os.path.join(out, path)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if link:
        try:  # a hard link: no copy, and the server's path check still holds
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
    else:
        shutil.copyfile(src, dst)
    digest = sha256(src)
    if bad:
        digest = "0" * 64
    return {"ftype": "disk1.img", "path": path, "sha256": digest,
            "size": os.path.getsize(src)}


def product(rel, ver, arch, versions):
    return {"arch": arch, "os": "ubuntu", "release": rel,
            "release_codename": rel.capitalize() + " Test",
            "release_title": ver + " LTS", "version": ver,
            "aliases": "%s,%s" % (ver, rel), "supported": True,
            "versions": versions}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--bad-sha", action="store_true")
    ap.add_argument("--big")
    a = ap.parse_args()
    out = a.out
    os.makedirs(os.path.join(out, "streams/v1"), exist_ok=True)
    prods = {
        "com.ubuntu.cloud:server:24.04:amd64": product("noble", "24.04", "amd64", {
            "20240101": {"items": {"disk1.img": item(out, a.old, "noble", "20240101", "amd64")}},
            "20240423": {"items": {"disk1.img": item(out, a.new, "noble", "20240423", "amd64",
                                                      bad=a.bad_sha)},
                         "label": "release"},
            "20240501": {"items": {"manifest": {"ftype": "manifest", "path": "x.manifest",
                                                "sha256": "1" * 64, "size": 1}}},
        }),
        "com.ubuntu.cloud:server:24.04:arm64": product("noble", "24.04", "arm64", {
            "20240601": {"items": {"disk1.img": item(out, a.new, "noble", "20240601", "arm64")}},
        }),
        "com.ubuntu.cloud:server:22.04:amd64": product("jammy", "22.04", "amd64", {
            "20230101": {"items": {"disk1.img": item(out, a.old, "jammy", "20230101", "amd64")}},
        }),
    }
    if a.big:
        prods["com.ubuntu.cloud:server:99.04:amd64"] = product("bench", "99.04", "amd64", {
            "20990101": {"items": {"disk1.img": item(out, a.big, "bench", "20990101", "amd64",
                                                      link=True)}},
        })
    cid = "com.ubuntu.cloud:released:download"
    ppath = "streams/v1/%s.json" % cid
    with open(os.path.join(out, ppath), "w") as f:
        json.dump({"content_id": cid, "datatype": "image-downloads", "format": "products:1.0",
                   "products": prods}, f, indent=1)
    index = {"format": "index:1.0", "index": {
        "com.ubuntu.cloud:released:aws": {"datatype": "image-ids", "format": "products:1.0",
                                          "path": "streams/v1/aws.json", "products": []},
        cid: {"datatype": "image-downloads", "format": "products:1.0", "path": ppath,
              "products": sorted(prods)},
    }}
    with open(os.path.join(out, "streams/v1/index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
