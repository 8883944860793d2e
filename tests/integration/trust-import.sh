#!/usr/bin/env bash
# Imports are checked as given: --sha256 is of the file as given and is
# checked before anything decompresses it.  Every refusal: exit 1, a clear
# message, nothing left in images/, the catalog unchanged.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
NEW=/server/releases/noble/release-20240423/ubuntu-noble-server-cloudimg-amd64.img

serve_stream
ctl() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "${URL}__ctl/$1"; }
seen() { grep -c -- "$1" "$SCRATCH/requests.jsonl" || true; }
# The catalog apart from the per-name lock files (made on first use, by design).
catalog() { { [ ! -d "$ROOT/images" ] || tree_digest "$ROOT/images" | grep -vE '\.lock$' || true; } | sha256sum | cut -c1-16; }
leftovers() { find "$ROOT/images" \( -name '.*tmp*' -o -name '*.part' -o -name '*.download' \) -print 2>/dev/null || true; }
# refused NAME: the refusal left nothing behind.
refused() {
	[ -z "$(leftovers)" ] || fail "$1: left $(leftovers)"
	assert_eq "$(catalog)" "$before" "$1: catalog unchanged"
}

# A small real image, so the catalog is not empty.
qemu-img create -q -f raw "$SCRATCH/disk.raw" 4M
qc image import keep "$SCRATCH/disk.raw" >/dev/null
before="$(catalog)"

# --- 3. --sha256 is of the file as given and is checked before decompressing.
xz -1 -k -c "$SCRATCH/disk.raw" >"$SCRATCH/good.raw.xz"
good_sum="$(sha256sum "$SCRATCH/good.raw.xz" | cut -d' ' -f1)"
raw_sum="$(sha256sum "$SCRATCH/disk.raw" | cut -d' ' -f1)"
# A corrupt body: the decompressor fails on it (shown with its own checksum) ...
cp "$SCRATCH/good.raw.xz" "$SCRATCH/corrupt.raw.xz"
printf 'garbage!' | dd of="$SCRATCH/corrupt.raw.xz" bs=1 seek=100 conv=notrunc status=none
bad_sum="$(sha256sum "$SCRATCH/corrupt.raw.xz" | cut -d' ' -f1)"
expect_fail 1 "image 'c': $SCRATCH/corrupt.raw.xz: xz: compressed data is corrupt" \
	qc image import c "$SCRATCH/corrupt.raw.xz" --sha256 "$bad_sum"
refused "corrupt .xz"
# ... but with a wrong --sha256 the error is the checksum: nothing was decompressed.
expect_fail 1 "image 'c': SHA-256 mismatch for '$SCRATCH/corrupt.raw.xz': got $bad_sum, expected $good_sum; nothing was decompressed or imported" \
	qc image import c "$SCRATCH/corrupt.raw.xz" --sha256 "$good_sum"
refused "wrong --sha256"
# The sum of the decompressed data is not the sum of the file as given.
expect_fail 1 "SHA-256 mismatch for '$SCRATCH/good.raw.xz': got $good_sum, expected $raw_sum" \
	qc image import c "$SCRATCH/good.raw.xz" --sha256 "$raw_sum"
refused "--sha256 of the decompressed data"
out="$(qc --json image import c "$SCRATCH/good.raw.xz" --sha256 "${good_sum^^}")"
assert_match "$out" "\"sha256\":\"$good_sum\"" "the sum of the .xz as given imports and is recorded"
qc image rm c >/dev/null

