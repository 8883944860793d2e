#!/bin/bash
# examples/boot-and-stop: the public C API creates, starts, waits for the
# console marker, stops and deletes a VM; a library caller never gets the
# monitor as its child unless it asks (qc_ctx_set_monitor_as_child).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
out=$("$QC_BUILDDIR/examples/boot-and-stop" --root "$ROOT" ex1 "$GUEST_KERNEL" "$GUEST_INITRD" \
	"$GUEST_APPEND" GUEST-READY) || fail "boot-and-stop failed: $out"
echo "$out"
assert_match "$out" "console shows 'GUEST-READY'" "marker seen"
assert_match "$out" "stopped: state stopped, last exit poweroff" "stopped by ACPI poweroff"
assert_no_file "$ROOT/vms/ex1"

# Whose child the monitor is (tests/integration/lib-start.c): a library
# caller's by default never (it may wait for any child), with
# qc_ctx_set_monitor_as_child its own, in a session of its own.
qc create lib1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 128M --no-seed --net none >/dev/null
out=$("$QC_BUILDDIR/tests/integration/lib-start" "$ROOT" lib1) || fail "lib-start failed: $out"
assert_eq "$(grep '^default:' <<<"$out")" "default: monitor ppid other
default: children none
default: session own" "default: the monitor is detached, no child of the caller"
assert_eq "$(grep '^as-child:' <<<"$out")" "as-child: monitor ppid self
as-child: children running
as-child: session own
as-child: reaped exit 0" "monitor as child: the caller's child, in its own session, reaped after destroy"
