#!/bin/bash
# liblzma and zlib are loaded by the first .xz or .gz imported
# (storage/decompress_dl.c), not at start:
#   - qemuctl and libqemuctl.so.0 do not link them;
#   - with a broken liblzma.so.5 or libz.so.1 first in the library path,
#     commands that decompress nothing work (image list);
#   - image import of an .xz (.gz) then fails with exit 1 and a clear error
#     naming the package, leaving images/ as it was;
#   - with the real libraries, both imports work.
# qemu-img links zlib itself: the successful imports run without the
# broken library path.  No QEMU is started.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

assert_not_linked "liblzma or zlib" 'liblzma|libz\.' "$QC" "$QC_BUILDDIR/.libs/libqemuctl.so.0"

qemu-img create -q -f raw "$SCRATCH/disk.raw" 16M
qemu-io -f raw -c "write -P 0x11 0 1M" "$SCRATCH/disk.raw" >/dev/null
xz -k -T1 "$SCRATCH/disk.raw"
gzip -k "$SCRATCH/disk.raw"
qc image list >/dev/null # makes images/
# The state root but images/.x.lock, the empty lock file any import of x
# leaves, failed or not (image-overlay.sh).
digest() { tree_digest "$ROOT" | grep -v '/images/\.x\.lock$'; }

for lib in liblzma zlib; do
	case $lib in
	liblzma) so=liblzma.so.5 pkg=liblzma5 file=disk.raw.xz kind=xz ;;
	zlib) so=libz.so.1 pkg=zlib1g file=disk.raw.gz kind=gzip ;;
	esac
	broken="$SCRATCH/broken-$lib"
	mkdir -p "$broken"
	printf 'not a library\n' >"$broken/$so"
	noz() { LD_LIBRARY_PATH="$broken" "$QC" --root "$ROOT" "$@"; }

	noz image list >/dev/null || fail "image list needs $lib"
	ok "image list works without $lib"
	before="$(digest)"
	expect_fail 1 "image 'x': $SCRATCH/$file: $kind: cannot load $lib: $broken/$so: .*; install the Debian package $pkg \(apt-get install $pkg\)" \
		noz image import x "$SCRATCH/$file"
	assert_eq "$(digest)" "$before" "without $lib: the failed import leaves the state root as it was"
	qc image list | grep -q '^x ' && fail "without $lib: image x is listed"
	ok "without $lib: no image x"
done

for file in disk.raw.xz disk.raw.gz; do
	out="$(qc image import "${file##*.}" "$SCRATCH/$file" --arch amd64)"
	assert_match "$out" "image '${file##*.}' imported: x86_64: 16 MiB virtual" "import $file with the real library"
	qemu-img compare -q "$SCRATCH/disk.raw" "$ROOT/images/${file##*.}.qcow2" ||
		fail "the image imported from $file differs from disk.raw"
	ok "the image imported from $file is disk.raw"
done
