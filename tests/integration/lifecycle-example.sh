#!/bin/bash
# examples/boot-and-stop: the public C API creates, starts, waits for the
# console marker, stops and deletes a VM.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
out=$("$QC_BUILDDIR/examples/boot-and-stop" --root "$ROOT" ex1 "$GUEST_KERNEL" "$GUEST_INITRD" \
	"$GUEST_APPEND" GUEST-READY) || fail "boot-and-stop failed: $out"
echo "$out"
assert_match "$out" "console shows 'GUEST-READY'" "marker seen"
assert_match "$out" "stopped: state stopped, last exit poweroff" "stopped by ACPI poweroff"
assert_no_file "$ROOT/vms/ex1"
