#!/bin/bash
# Leak check of the CLI: create, start, list, info, dumpxml,
# stop, delete of a kernel-boot VM (the tiny test guest under TCG) with a
# captured user-data and a seed host key, a live snapshot and hot-plugged
# disk (files passed to QEMU over QMP), and refused inputs (a definition
# naming a file outside the VM, a decompression bomb, a wrong checksum); each
# qemuctl process under valgrind --leak-check=full; any error or leak fails.
# Not in TESTS (≈40 s, needs valgrind): run it with `make check-valgrind-cli`.
# Build with gcc, or clang with CFLAGS=-gdwarf-4: valgrind 3.19 cannot read
# clang 14's DWARF 5.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (apt-get install valgrind)"
need_guest x86_64

# vg_exit RC ARGS...: qemuctl ARGS exits RC under valgrind, without errors or leaks.
vg_exit() {
	local want="$1" rc=0
	shift
	# --child-silent-after-fork: a child forked without exec (start's access
	# check as QEMU's user, which ends in _exit) holds the parent's live heap,
	# which valgrind would report at its exit as that child's leaks.
	valgrind -q --child-silent-after-fork=yes --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		"$QC" --root "$ROOT" "$@" >"$SCRATCH/out" 2>"$SCRATCH/vg" || rc=$?
	[ "$rc" -eq "$want" ] || fail "qemuctl $* under valgrind: exit $rc, want $want: $(head -c 3000 "$SCRATCH/vg")"
	! grep -q '^==[0-9]*==' "$SCRATCH/vg" || fail "qemuctl $*: valgrind: $(head -c 3000 "$SCRATCH/vg")"
	ok "valgrind-clean (exit $want): qemuctl $*"
}
vg() { vg_exit 0 "$@"; }
# a refused input exits 1, still without errors or leaks
vg_refused() { vg_exit 1 "$@"; }

printf '#!/bin/sh\necho hello\n' >"$SCRATCH/user-data"
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/key" >/dev/null
vg create v1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --accel tcg --net user,hostfwd=tcp::0-:80 --disk 16M \
	--user-data "$SCRATCH/user-data" --ssh-key "$SCRATCH/key.pub"
vg start v1
# files handed to QEMU over QMP: a live snapshot layer, a hot-plugged disk
vg snapshot create v1 live1
vg attach-disk v1 8M
vg snapshot rm v1 live1
vg list
vg info v1
vg --json info v1
vg dumpxml v1
# a live user NIC's ports recorded and dropped
vg attach-net v1 user,hostfwd=tcp::0-:22
vg --json info v1
vg detach-net v1 net1
vg --json net list
vg stop v1 --timeout 60
vg snapshot create v1 s1
vg snapshot rm v1 s1
vg delete v1
# refused inputs: a definition naming a file outside the VM, a bomb, a checksum
printf '<domain type="qemu"><name>bad</name><memory unit="MiB">64</memory><os><type arch="x86_64">hvm</type></os><metadata><qemuctl:domain xmlns:qemuctl="https://qemuctl.dev/xmlns/domain/1"><qemuctl:seed enabled="yes"><qemuctl:user-data>/etc/passwd</qemuctl:user-data></qemuctl:seed></qemuctl:domain></metadata></domain>\n' >"$SCRATCH/bad.xml"
vg_refused define "$SCRATCH/bad.xml"
head -c 64M /dev/zero | xz -1 >"$SCRATCH/bomb.xz"
vg_refused image import bomb "$SCRATCH/bomb.xz" --max-size 1M
vg_refused image import sum "$SCRATCH/bomb.xz" --sha256 "$(printf '0%.0s' $(seq 64))"
# undefine keeps disks; a VM with only a kernel has none it owns
vg create v2 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --accel tcg --net none --no-seed
vg undefine v2
