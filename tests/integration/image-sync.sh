#!/usr/bin/env bash
# qemuctl image sync against a simplestreams tree served from 127.0.0.1 by
# tests/integration/httpd.py (Range, injected cuts and errors, request log).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
NEW=/server/releases/noble/release-20240423/ubuntu-noble-server-cloudimg-amd64.img

serve_stream
python3 "$QC_SRCDIR/tests/integration/mkstream.py" --out "$SCRATCH/badtree" \
	--old "$SCRATCH/old.qcow2" --new "$SCRATCH/new.qcow2" --bad-sha
# orders for the server (python, so the test needs no curl binary)
ctl() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "${URL}__ctl/$1"; }
seen() { grep -c -- "$1" "$SCRATCH/requests.jsonl" || true; }

# newest version for the arch; the second sync is a no-op
out="$(qc image sync ubuntu:24.04 --arch amd64 --stream "$URL" 2>"$SCRATCH/sync.err")"
assert_eq "$(cat "$SCRATCH/sync.err")" "" "no progress output when stderr is not a terminal"
assert_match "$out" "image 'noble-amd64' synced: ubuntu 24.04 \(noble\), version 20240423, x86_64" "first sync"
assert_eq "$(seen "\"path\": \"$NEW\"")" 1 "one download"
out="$(qc image sync ubuntu:noble --arch x86_64 --stream "$URL")"
assert_match "$out" "image 'noble-amd64' is up to date" "second sync"
assert_eq "$(seen "\"path\": \"$NEW\"")" 1 "still one download"
assert_eq "$(stat -c %a "$ROOT/images/noble-amd64.qcow2")" 400 "image mode"
out="$(qc --json image sync noble --arch arm64 --stream "$URL" 2>"$SCRATCH/sync.err")"
assert_match "$(tail -n1 "$SCRATCH/sync.err")" '^\{"progress":\{"what":"download noble","done":[0-9]+,"total":[0-9]+,"rate":[0-9]+\}\}$' "--json progress lines on stderr"
assert_match "$out" '"downloaded":true' "arm64 json"
assert_match "$out" '"version":"20240601"' "arm64 has its own newest version"
out="$(qc image list)"
assert_match "$out" "noble-amd64 +x86_64 " "list shows amd64"
assert_match "$out" "noble-arm64 +aarch64 " "list shows arm64"
qc image rm noble-amd64 >/dev/null

# cut mid-transfer with no retries: .part kept, not listed; the next sync resumes with Range
ctl "cut?path=$NEW&after=1000000&count=1"
QEMUCTL_HTTP_RETRIES=0 expect_fail 1 "image 'noble-amd64': download 'http://127.0.0.1:[0-9]+$NEW': " \
	qc image sync noble --arch amd64 --stream "$URL"
assert_eq "$(stat -c %s "$ROOT/images/noble-amd64.part")" 1000000 ".part kept"
[ "$(qc image list | grep -c noble-amd64)" = 0 ] || fail "partial image listed"
ok "list does not show the partial image"
QEMUCTL_HTTP_RETRIES=0 qc image sync noble --arch amd64 --stream "$URL" >/dev/null
assert_eq "$(seen '"range": "bytes=1000000-"')" 1 "server saw a Range request"
assert_no_file "$ROOT/images/noble-amd64.part"
cmp "$ROOT/images/noble-amd64.qcow2" "$SCRATCH/new.qcow2" || fail "resumed image differs from the source"
ok "resumed image is byte-identical to the source"
qc image rm noble-amd64 >/dev/null

# image rm of a name that only has a partial download removes the .part
ctl "cut?path=$NEW&after=500000&count=1"
QEMUCTL_HTTP_RETRIES=0 expect_fail 1 "transfer closed" qc image sync noble --arch amd64 --name partial --stream "$URL"
assert_file "$ROOT/images/partial.part"
qc image rm partial >/dev/null
assert_no_file "$ROOT/images/partial.part"
expect_fail 1 "image 'partial' not found" qc image rm partial

# HTTP errors
ctl "status?path=$NEW&code=404&count=9"
expect_fail 1 "HTTP 404 \(not found\)" qc image sync noble --arch amd64 --stream "$URL"
assert_eq "$(seen '"status": 404')" 1 "404 is not retried"
ctl reset
ctl "status?path=/streams/v1/index.json&code=500&count=9"
QEMUCTL_HTTP_RETRIES=2 expect_fail 1 "index.json': HTTP 500 \(internal server error\)" \
	qc image sync noble --arch amd64 --stream "$URL"
assert_eq "$(seen '"status": 500')" 3 "500 retried twice"
ctl reset

# bad input
expect_fail 1 "release 'oracular' is not in the stream; known releases: noble, jammy" \
	qc image sync ubuntu:oracular --stream "$URL"
expect_fail 1 "release 'noble' has no disk1.img for arch ppc64el \(ppc64le\); arches offered: amd64, arm64" \
	qc image sync ubuntu:noble --arch ppc64le --stream "$URL"
expect_fail 1 "unknown arch 'vax'" qc image sync noble --arch vax --stream "$URL"
expect_fail 2 "missing REF" qc image sync
expect_fail 1 "'ftp://x/': unsupported URL scheme" qc image sync noble --stream ftp://x/

# wrong SHA-256 (file:// stream): error, nothing in the catalog
expect_fail 1 "SHA-256 mismatch for file://.*the index says 0000000000" \
	qc image sync noble --arch amd64 --stream "file://$SCRATCH/badtree/"
[ -z "$(ls "$ROOT/images" | grep -v '^\.' | grep noble-amd64)" ] || fail "leftovers: $(ls "$ROOT/images")"
ok "nothing left after a bad checksum"

# a server sending more than the index announced is cut off, and nothing stays
python3 - "$SCRATCH/tree" <<'PY'
import json, sys
p = sys.argv[1] + "/streams/v1/com.ubuntu.cloud:released:download.json"
d = json.load(open(p))
d["products"]["com.ubuntu.cloud:server:24.04:amd64"]["versions"]["20240423"]["items"]["disk1.img"]["size"] = 100000
json.dump(d, open(p, "w"))
PY
expect_fail 1 "image 'noble-amd64': download 'http://127.0.0.1:[0-9]+$NEW': more than the 100000 bytes announced" \
	qc image sync noble --arch amd64 --stream "$URL"
assert_no_file "$ROOT/images/noble-amd64.part"
python3 "$QC_SRCDIR/tests/integration/mkstream.py" --out "$SCRATCH/tree" \
	--old "$SCRATCH/old.qcow2" --new "$SCRATCH/new.qcow2" 2>/dev/null ||
	fail "could not regenerate the stream"

# malformed index
cp "$SCRATCH/tree/streams/v1/index.json" "$SCRATCH/index.good"
printf '{"index": {' >"$SCRATCH/tree/streams/v1/index.json"
expect_fail 1 "streams/v1/index.json: stream index: " qc image sync noble --stream "$URL"
cp "$SCRATCH/index.good" "$SCRATCH/tree/streams/v1/index.json"

# file:// works; --name
out="$(qc image sync ubuntu:22.04 --arch amd64 --name jammy --stream "file://$SCRATCH/tree")"
assert_match "$out" "image 'jammy' synced: ubuntu 22.04 \(jammy\), version 20230101" "file:// stream"

# a terminal gets a progress bar (script(1) from bsdutils provides the pty)
command -v script >/dev/null || fail "script(1) (bsdutils) is needed for the progress bar check"
script -qec "$QC --root $ROOT image sync ubuntu:24.04 --arch amd64 --name ttyimg --stream $URL" \
	/dev/null >"$SCRATCH/tty.out" </dev/null || fail "sync on a pty failed: $(cat "$SCRATCH/tty.out")"
assert_match "$(tr '\r' '\n' <"$SCRATCH/tty.out" | grep 'download ttyimg' | tail -n1)" \
	'download ttyimg \[#{30}\] 100% [0-9.]+ MiB / [0-9.]+ MiB +[0-9.]+ [KMG]iB/s' "progress bar on a terminal"
qc image rm ttyimg >/dev/null

# a newer version in the stream replaces an image no VM uses, never one in use
python3 - "$SCRATCH/tree" <<'PY'
import json, sys
p = sys.argv[1] + "/streams/v1/com.ubuntu.cloud:released:download.json"
d = json.load(open(p))
noble = d["products"]["com.ubuntu.cloud:server:24.04:amd64"]["versions"]["20240423"]
d["products"]["com.ubuntu.cloud:server:22.04:amd64"]["versions"]["20230201"] = noble
json.dump(d, open(p, "w"))
PY
qc create onjammy --image jammy --arch x86_64 >/dev/null
expect_fail 1 "image 'jammy' holds version 20230101, the stream now has 20230201, but VMs use it \(onjammy\)" \
	qc image sync ubuntu:22.04 --arch amd64 --name jammy --stream "$URL"
assert_match "$(qc --json image list)" '"name":"jammy"[^}]*"version":"20230101"' "the used image is kept"
qc delete onjammy >/dev/null
out="$(qc image sync ubuntu:22.04 --arch amd64 --name jammy --stream "$URL")"
assert_match "$out" "image 'jammy' synced: ubuntu 22.04 \(jammy\), version 20230201" "an unused image is replaced"

# import from a URL (http:// is fine when the user names it), with and without errors
sha_new="$(sha256sum "$SCRATCH/new.qcow2" | cut -d' ' -f1)"
out="$(qc image import web "$URL${NEW#/}" --sha256 "$sha_new" --arch arm64)"
assert_match "$out" "image 'web' imported: aarch64: 8 MiB virtual" "import from a URL"
expect_fail 1 "image 'nf': download 'http://127.0.0.1:[0-9]+/nope.img': HTTP 404 \(not found\)" \
	qc image import nf "${URL}nope.img"
[ -z "$(ls -a "$ROOT/images" | grep '^\.nf\.tmp')" ] || fail "temp files left: $(ls -a "$ROOT/images")"
ok "a failed URL import leaves no temp files"

# two concurrent syncs of one image: one download
ctl "cut?path=$NEW&after=2000000&count=1"
before="$(seen "\"path\": \"$NEW\"")"
qc image sync noble --arch amd64 --stream "$URL" >"$SCRATCH/a.out" 2>&1 &
A=$!
qc image sync noble --arch amd64 --stream "$URL" >"$SCRATCH/b.out" 2>&1 &
B=$!
wait $A || fail "sync A: $(cat "$SCRATCH/a.out")"
wait $B || fail "sync B: $(cat "$SCRATCH/b.out")"
assert_eq "$(cat "$SCRATCH/a.out" "$SCRATCH/b.out" | grep -c "synced")" 1 "one of two syncs downloaded"
assert_eq "$(($(seen "\"path\": \"$NEW\"") - before))" 2 "one download (cut + resume)"
