#!/usr/bin/env bash
# qemuctl image sync debian:RELEASE against a copy of the layout of Debian's
# cloud image tree (<codename>/latest/debian-N-FLAVOUR-ARCH.qcow2 and
# SHA512SUMS) served from 127.0.0.1 by tests/integration/httpd.py.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
T="$SCRATCH/deb"
B12=/bookworm/latest
B13=/trixie/latest
mkdir -p "$T$B12" "$T$B13"
# a small fake cloud image per file, each with its own bytes
img() {
	qemu-img create -q -f qcow2 "$T$1" 8M
	qemu-io -f qcow2 -c "write -P $2 0 3M" "$T$1" >/dev/null
}
img $B12/debian-12-generic-amd64.qcow2 0x11
img $B12/debian-12-generic-arm64.qcow2 0x12
img $B12/debian-12-genericcloud-amd64.qcow2 0x13
img $B12/debian-12-generic-ppc64el.qcow2 0x14 # on the server, not in SHA512SUMS
img $B13/debian-13-generic-amd64.qcow2 0x21
img $B13/debian-13-genericcloud-amd64.qcow2 0x22
printf 'raw bytes' >"$T$B12/debian-12-generic-amd64.raw"
(cd "$T$B12" && sha512sum debian-12-generic-amd64.qcow2 debian-12-generic-arm64.qcow2 \
	debian-12-genericcloud-amd64.qcow2 debian-12-generic-amd64.raw >SHA512SUMS)
# trixie: arm64 is listed but missing; genericcloud-amd64 is listed with a wrong sum
(cd "$T$B13" && {
	sha512sum debian-13-generic-amd64.qcow2
	echo "$(printf 'ab%.0s' {1..64})  debian-13-generic-arm64.qcow2"
	echo "$(printf '00%.0s' {1..64})  debian-13-genericcloud-amd64.qcow2"
} >SHA512SUMS)

serve_dir "$T"
ctl() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "${URL}__ctl/$1"; }
seen() { grep -c -- "$1" "$SCRATCH/requests.jsonl" || true; }
# nothing in the catalog under NAME: no image, no metadata, no partial download
nothing_for() {
	local f left=
	for f in "$ROOT/images/$1".* "$ROOT/images/.$1".*; do
		[ -e "$f" ] && [ "${f##*/}" != ".$1.lock" ] && left="$left ${f##*/}"
	done
	[ -z "$left" ] || fail "left in the catalog for '$1':$left"
	ok "nothing in the catalog for '$1'"
}
AMD12=$B12/debian-12-generic-amd64.qcow2

# debian:12 for the host's arch (x86_64 here), named CODENAME-ARCH, verified by SHA-512
[ "$(uname -m)" = x86_64 ] || fail "this test expects an x86_64 host (the default arch)"
out="$(qc image sync debian:12 --stream "$URL")"
sum="$(sha512sum "$T$AMD12" | cut -c1-12)"
assert_match "$out" "image 'bookworm-amd64' synced: debian 12 \(bookworm\), version sha512:$sum, x86_64" "debian:12 synced"
cmp "$ROOT/images/bookworm-amd64.qcow2" "$T$AMD12" || fail "synced image differs from the tree's"
ok "the synced image is the tree's file"
assert_eq "$(seen "\"path\": \"$AMD12\"")" 1 "one download"
meta="$(cat "$ROOT/images/bookworm-amd64.json")"
assert_match "$meta" "\"sha512\": ?\"$(sha512sum "$T$AMD12" | cut -d' ' -f1)\"" "the catalog keeps the SHA-512"
assert_match "$meta" "\"source\": ?\"${URL}bookworm/latest/debian-12-generic-amd64.qcow2\"" "source URL"

# a re-sync of an unchanged image downloads nothing (SHA512SUMS is read again)
out="$(qc image sync debian:bookworm --arch amd64 --stream "$URL")"
assert_match "$out" "image 'bookworm-amd64' is up to date" "re-sync is a no-op"
assert_eq "$(seen "\"path\": \"$AMD12\"")" 1 "still one download"
assert_eq "$(seen "\"path\": \"$B12/SHA512SUMS\"")" 2 "SHA512SUMS read on each sync"

# arm64 by --arch (any spelling), and the genericcloud flavour; --json
out="$(qc --json image sync debian:12 --arch aarch64 --stream "$URL" 2>/dev/null)"
assert_match "$out" '"downloaded":true' "arm64 json"
assert_match "$out" '"name":"bookworm-arm64","arch":"aarch64"' "arm64 name and arch"
assert_match "$out" '"distro":"debian","release":"bookworm","release_version":"12"' "arm64 release fields"
out="$(qc image sync debian:12-genericcloud --arch x86_64 --stream "$URL")"
assert_match "$out" "image 'bookworm-genericcloud-amd64' synced: debian 12" "genericcloud flavour"
out="$(qc image sync debian:trixie --stream "$URL")"
assert_match "$out" "image 'trixie-amd64' synced: debian 13 \(trixie\)" "debian:trixie (13)"
out="$(qc image list)"
assert_match "$out" "bookworm-arm64 +aarch64 " "list shows arm64"

# a new image under latest/ replaces an unused one
img $AMD12 0x31
(cd "$T$B12" && sha512sum debian-12-generic-amd64.qcow2 debian-12-generic-arm64.qcow2 \
	debian-12-genericcloud-amd64.qcow2 >SHA512SUMS)
out="$(qc image sync debian:12 --stream "$URL")"
assert_match "$out" "image 'bookworm-amd64' synced: debian 12 \(bookworm\), version sha512:$(sha512sum "$T$AMD12" | cut -c1-12)" "newer image replaces"
cmp "$ROOT/images/bookworm-amd64.qcow2" "$T$AMD12" || fail "replaced image differs"
ok "the replaced image is the new file"

# cut mid-transfer: the part stays, and the next sync resumes it (SHA-512 over both halves)
qc image rm bookworm-amd64 >/dev/null
ctl "cut?path=$AMD12&after=1000000&count=1"
QEMUCTL_HTTP_RETRIES=0 expect_fail 1 "image 'bookworm-amd64': download 'http://127.0.0.1:[0-9]+$AMD12': " \
	qc image sync debian:12 --stream "$URL"
assert_eq "$(stat -c %s "$ROOT/images/bookworm-amd64.part")" 1000000 ".part kept"
QEMUCTL_HTTP_RETRIES=0 qc image sync debian:12 --stream "$URL" >/dev/null
assert_eq "$(seen '"range": "bytes=1000000-"')" 1 "resumed with a Range request"
cmp "$ROOT/images/bookworm-amd64.qcow2" "$T$AMD12" || fail "resumed image differs"
ok "resumed image is byte-identical"

# bad checksum: the SHA512SUMS line does not match the file
expect_fail 1 "image 'trixie-genericcloud-amd64': SHA-512 mismatch for ${URL}trixie/latest/debian-13-genericcloud-amd64.qcow2: got [0-9a-f]{128}, the SHA512SUMS says 0000" \
	qc image sync debian:13-genericcloud --stream "$URL"
nothing_for trixie-genericcloud-amd64

# missing file: listed in SHA512SUMS, 404 on the server
expect_fail 1 "image 'trixie-arm64': download '${URL}trixie/latest/debian-13-generic-arm64.qcow2': HTTP 404 \(not found\)" \
	qc image sync debian:13 --arch arm64 --stream "$URL"
nothing_for trixie-arm64

# missing SHA512SUMS entry: the file is on the server, SHA512SUMS does not vouch for it
expect_fail 1 "Debian 12 \(bookworm\) has no generic image for arch ppc64el \(ppc64le\): ${URL}bookworm/latest/SHA512SUMS does not list debian-12-generic-ppc64el.qcow2; it lists the generic image for: amd64, arm64" \
	qc image sync debian:12 --arch ppc64el --stream "$URL"
assert_eq "$(seen "\"path\": \"$B12/debian-12-generic-ppc64el.qcow2\"")" 0 "an unlisted file is never fetched"
nothing_for bookworm-ppc64el

# an arch the tree lacks (no genericcloud for ppc64el; no trixie ppc64el at all)
expect_fail 1 "Debian 12 \(bookworm\) has no genericcloud image for arch ppc64el \(ppc64le\): .* it lists the genericcloud image for: amd64$" \
	qc image sync debian:12-genericcloud --arch ppc64le --stream "$URL"
nothing_for bookworm-genericcloud-ppc64el
expect_fail 1 "Debian 13 \(trixie\) has no generic image for arch ppc64el \(ppc64le\): .* it lists the generic image for: amd64, arm64$" \
	qc image sync debian:13 --arch ppc64el --stream "$URL"
nothing_for trixie-ppc64el

# no SHA512SUMS at all
ctl "status?path=$B13/SHA512SUMS&code=404&count=1"
expect_fail 1 "'${URL}trixie/latest/SHA512SUMS': HTTP 404 \(not found\)" \
	qc image sync debian:13 --name t13 --stream "$URL"
nothing_for t13

# unknown release or flavour: refused before anything is fetched
n="$(wc -l <"$SCRATCH/requests.jsonl")"
expect_fail 1 "unknown Debian release '11'; known releases: 12 \(bookworm\), 13 \(trixie\)" \
	qc image sync debian:11 --stream "$URL"
expect_fail 1 "unknown Debian release 'sid'" qc image sync debian:sid --stream "$URL"
expect_fail 1 "debian:12-nocloud: unknown flavour 'nocloud'; use generic or genericcloud" \
	qc image sync debian:12-nocloud --stream "$URL"
assert_eq "$(wc -l <"$SCRATCH/requests.jsonl")" "$n" "no request for an unknown release"

# without --stream the image comes from cloud.debian.org (no network in this namespace)
NONET=(unshare -n)
[ "$(id -u)" = 0 ] || NONET=(unshare -rn)
QEMUCTL_HTTP_RETRIES=0 expect_fail 1 "'https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS'" \
	"${NONET[@]}" "$QC" --root "$ROOT" image sync debian:12 --arch amd64 --name offline
nothing_for offline
