#!/usr/bin/env bash
# Imports and downloads are bounded and checked as given: --sha256 is of the
# file as given and is checked before anything decompresses it; decompression
# bombs stop at --max-size (or the free space of images/), an .xz needing a
# huge dictionary stops at the decoder's memory limit; a download announcing
# or sending more than --max-size is refused.  Every refusal: exit 1, a clear
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
# Modes: the image read-only (readable by a confined QEMU's user until it
# gets its disks as fds), the metadata the caller's alone.
assert_eq "$(stat -c '%a %u' "$ROOT/images/keep.qcow2")" "400 $(id -u)" "image mode and owner"
assert_eq "$(stat -c '%a %u' "$ROOT/images/keep.json")" "600 $(id -u)" "metadata mode and owner"
assert_eq "$(stat -c '%a' "$ROOT/images")" 700 "images/ mode before any start"

# --- 1. decompression bombs: 256 MiB of zeros, a few hundred KiB compressed
head -c 256M /dev/zero | xz -1 -T1 >"$SCRATCH/bomb.raw.xz"
head -c 256M /dev/zero | gzip -1 >"$SCRATCH/bomb.raw.gz"
log "bomb.raw.xz: $(stat -c %s "$SCRATCH/bomb.raw.xz") bytes, bomb.raw.gz: $(stat -c %s "$SCRATCH/bomb.raw.gz") bytes"
for f in bomb.raw.xz bomb.raw.gz; do
	expect_fail 1 "image 'bomb': $SCRATCH/$f decompresses to more than 16 MiB \(16777216 bytes\), the --max-size limit; nothing was kept" \
		qc image import bomb "$SCRATCH/$f" --max-size 16M
	refused "$f over --max-size"
done
# Within the limit the same file imports (the limit is on the output, not the input).
qc image import bomb "$SCRATCH/bomb.raw.xz" --max-size 256M >/dev/null
qc image rm bomb >/dev/null
ok "the bomb imports under a --max-size that fits it"
before="$(catalog)"

# Free space bounds it whatever --max-size says: a 64 MiB file system.
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	rc=0
	mkdir -m 0700 "$SCRATCH/small"
	unshare -m --propagation private bash -c '
		mount -t tmpfs -o size=64m,mode=0700 qc-trust "$1" || exit 99
		"$2" --root "$1" image import bomb "$3" --max-size 1G' _ "$SCRATCH/small" "$QC" \
		"$SCRATCH/bomb.raw.xz" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	assert_eq "$rc" 1 "bomb on a 64 MiB file system: exit code"
	assert_match "$(cat "$SCRATCH/err")" "decompresses to more than the [0-9]+ MiB \([0-9]+ bytes\) the file system of images/ has free \(keeping 2 MiB spare\); nothing was kept: No space left on device" \
		"bomb stops at the free space"
	assert_match "$(cat "$SCRATCH/err")" "hint: free space" "with the out-of-space hint"
else
	log "no root or unshare -m: free-space bound not exercised here (check_storage covers it)"
fi

# --- 2. an .xz whose dictionary (1.5 GiB) is over the decoder's memory limit.
# Encoding with such a dictionary needs gigabytes: patch a small stream's
# LZMA2 dictionary byte and the block header's CRC32 instead.
python3 - "$SCRATCH/disk.raw" "$SCRATCH/hugedict.raw.xz" <<'EOP'
import lzma, struct, sys, zlib
data = lzma.compress(open(sys.argv[1], "rb").read(), format=lzma.FORMAT_XZ,
                     filters=[{"id": lzma.FILTER_LZMA2, "preset": 0}])
b = bytearray(data)
h = 12                      # the block header follows the 12-byte stream header
size = (b[h] + 1) * 4
p = h + 2
for flag in (0x40, 0x80):   # compressed and uncompressed sizes, when present
    if b[h + 1] & flag:
        while b[p] & 0x80:
            p += 1
        p += 1
assert b[p] == 0x21 and b[p + 1] == 1, "not an LZMA2 filter with one property byte"
b[p + 2] = 37               # (2 | 1) << (37 // 2 + 11) = 1.5 GiB
b[h + size - 4:h + size] = struct.pack("<I", zlib.crc32(bytes(b[h:h + size - 4])))
open(sys.argv[2], "wb").write(b)
EOP
xz -t "$SCRATCH/hugedict.raw.xz" || fail "the patched .xz is not valid"
ok "the patched .xz is valid for xz itself (which has no memory limit by default)"
expect_fail 1 "image 'huge': $SCRATCH/hugedict.raw.xz: xz: decoding needs 1536 MiB of memory, more than the 256 MiB allowed" \
	qc image import huge "$SCRATCH/hugedict.raw.xz"
refused "huge dictionary"

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

# --- 4. downloads: a Content-Length over --max-size, a body without one that grows past it
head -c $((4 << 20)) /dev/urandom >"$SCRATCH/tree/big.raw"
expect_fail 1 "image 'dl': download '${URL}big.raw' is more than 1 MiB \(1048576 bytes\), the --max-size limit; nothing was kept" \
	qc image import dl "${URL}big.raw" --max-size 1M
refused "Content-Length over --max-size"
ctl "nolength?path=/big.raw&repeat=64&count=1"
expect_fail 1 "image 'dl': download '${URL}big.raw' is more than 2 MiB \(2097152 bytes\), the --max-size limit" \
	qc image import dl "${URL}big.raw" --max-size 2M
refused "a body without Content-Length past --max-size"
assert_eq "$(seen '"path": "/big.raw"')" 2 "two requests, no retry of a refused download"
# Without a length but within the limit it works (the server closes to end it).
head -c $((1 << 20)) /dev/zero >"$SCRATCH/tree/small.raw"
ctl "nolength?path=/small.raw&count=1"
qc image import dl "${URL}small.raw" --max-size 2M >/dev/null
ok "a body without Content-Length within --max-size imports"
qc image rm dl >/dev/null
before="$(catalog)"

# --- 5. image sync: the index's size over --max-size is refused before the download
expect_fail 1 "image 'noble-amd64': download '${URL%/}$NEW' is more than 1 MiB \(1048576 bytes\), the --max-size limit" \
	qc image sync ubuntu:24.04 --arch amd64 --stream "$URL" --max-size 1M
assert_eq "$(seen "\"path\": \"$NEW\"")" 0 "the image was not requested"
refused "sync over --max-size"
qc image sync ubuntu:24.04 --arch amd64 --stream "$URL" --max-size 8M >/dev/null
ok "sync within --max-size"

# --- 6. --max-size itself
expect_fail 2 "--max-size must be more than 0" qc image import x "$SCRATCH/disk.raw" --max-size 0
expect_fail 2 "--max-size" qc image import x "$SCRATCH/disk.raw" --max-size lots
expect_fail 2 "--max-size needs a value" qc image sync noble --max-size
