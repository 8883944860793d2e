#!/bin/bash
# qemuctl screenshot NAME FILE.png with the tiny test guest (--display none):
#   - a VM whose definition has <video><model type='vga'/></video> (dumpxml
#     keeps it, QEMU gets -device VGA): the file is a PNG (signature, IHDR)
#     of VGA text mode's 720x400, replacing an older FILE, no temporary file
#     left, --json follows the schema;
#   - refused with FILE and its directory unchanged: a VM without a display
#     (the message says how to give it one), a stopped VM, FILE a directory or
#     a symbolic link, a missing directory; a <video> model qemuctl does not
#     run (kept as it is, with a warning) gives no display.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

png_size() { # png_size FILE: "WxH" from a valid PNG's IHDR, else exit 1
	python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
if b[:8] != b"\x89PNG\r\n\x1a\n" or b[12:16] != b"IHDR" or b[-8:-4] != b"IEND":
    sys.exit("not a whole PNG")
w, h = struct.unpack(">II", b[16:24])
print("%dx%d" % (w, h))' "$1"
}
G=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --memory 96M --no-seed --net none)
qc create v1 "${G[@]}" >/dev/null
qc dumpxml v1 | sed "s|</devices>|<video><model type='vga'/></video></devices>|" >"$SCRATCH/v1.xml"
qc define "$SCRATCH/v1.xml" >/dev/null
assert_match "$(qc dumpxml v1 | tr -d '\n ')" "<video><modeltype='vga'/></video>" "dumpxml keeps the <video>"
qc create n1 "${G[@]}" >/dev/null

# a libvirt model qemuctl does not run is kept as it is (dumpxml), with a warning: no display
qc dumpxml n1 | sed "s|</devices>|<video><model type='cirrus'/></video></devices>|" >"$SCRATCH/cirrus.xml"
warn=$(qc define "$SCRATCH/cirrus.xml" 2>&1 >/dev/null)
assert_match "$warn" "<video> is not supported; kept as is" "an unsupported <video> model is kept, with a warning"
assert_match "$(qc dumpxml n1 | tr -d '\n ')" '<video><modeltype=.cirrus./></video>' "dumpxml keeps it"

out="$SCRATCH/shots"
mkdir -p "$out"
echo "an older screenshot" >"$out/old.png"
mkdir "$out/adir"
ln -s "$out/old.png" "$out/link.png"
listing() { (cd "$out" && find . -printf '%y %p %s\n' | sort && sha256sum old.png); }
before=$(listing)
expect_fail 1 "VM 'v1' is not running" qc screenshot v1 "$out/old.png"
qc start v1
qc start n1
expect_fail 1 "VM 'n1' has no display: qemuctl's VMs have none unless their definition asks for one; add <video><model type='vga'/></video>" \
	qc screenshot n1 "$out/old.png"
expect_fail 1 "screenshot '$out/adir' exists and is not a regular file" qc screenshot v1 "$out/adir"
expect_fail 1 "screenshot '$out/link.png' exists and is not a regular file \(a symbolic link\)" qc screenshot v1 "$out/link.png"
expect_fail 1 "screenshot '$out/nodir/x.png': directory '$out/nodir': No such file or directory" \
	qc screenshot v1 "$out/nodir/x.png"
expect_fail 2 "missing FILE" qc screenshot v1
assert_eq "$(listing)" "$before" "refusals left the output directory as it was"

qpid=$(qc --json info v1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["qemu_pid"])')
tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- '-device VGA ' || fail "QEMU has no -device VGA"
ok "QEMU runs with -device VGA (and -display none)"
out1=$(qc screenshot v1 "$out/old.png")
assert_eq "$out1" "VM 'v1': 720x400 screenshot written to $out/old.png" "screenshot over an older file"
assert_eq "$(png_size "$out/old.png")" 720x400 "a whole PNG of VGA text mode's 720x400"
qc --json screenshot v1 "$out/new.png" >"$SCRATCH/shot.json"
python3 "$QC_SRCDIR/tests/integration/json_schema.py" "$QC_SRCDIR/docs/schema/qemuctl-v2.json" \
	screenshot <"$SCRATCH/shot.json" || fail "screenshot --json does not follow the schema"
assert_eq "$(cat "$SCRATCH/shot.json")" "{\"vm\":\"v1\",\"file\":\"$out/new.png\",\"width\":720,\"height\":400}" "screenshot --json"
assert_eq "$(png_size "$out/new.png")" 720x400 "the --json one is a PNG too"
assert_eq "$(find "$out" -name '*.tmp*' | wc -l)" 0 "no temporary file left"
(cd "$SCRATCH" && qc screenshot v1 rel.png >/dev/null)
assert_eq "$(png_size "$SCRATCH/rel.png")" 720x400 "a relative FILE is in the current directory"
qc destroy v1 >/dev/null
qc destroy n1 >/dev/null
qc delete v1
qc delete n1
