#!/bin/bash
# Snapshots with the tiny guest booting its ext4 root from
# a qcow2 overlay on root.img: offline create/list, bad input (state root
# unchanged), live create, a file written after the snapshot is gone after
# revert --force, live rm (block-stream) and refusal of an intermediate
# layer, offline rm (rebase), qemu-img check of every chain, the backing
# image's checksum unchanged, and creates interrupted by SIGKILL (offline
# and live, before and after the overlays were made) that a retry finishes.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
sum_before=$(sha256sum <"$img")
vm="$ROOT/vms/s1"

check_chain() { # every layer of every qcow2 disk passes qemu-img check
	local f
	for f in $(sed -n "s/.*<source file='\([^']*\.qcow2\)'.*/\1/p" "$vm/domain.xml"); do
		qemu-img check -q -U "$f" || fail "qemu-img check $f"
		qemu-img info -U --backing-chain "$f" >/dev/null || fail "qemu-img info $f"
	done
	ok "chain passes qemu-img check ($1)"
}
# killed_at STEP SNAP: `snapshot create s1 SNAP`, killed by SIGKILL while held at STEP
killed_at() {
	local kpid
	QEMUCTL_TEST_HOLD=$1 "$QC" --root "$ROOT" snapshot create s1 "$2" >/dev/null 2>&1 &
	kpid=$!
	wait_until 30 test -e "$vm/.hold-$1"
	kill -9 "$kpid"
	wait "$kpid" 2>/dev/null || true
	rm -f "$vm/.hold-$1"
}
# kill_then_retry STEP SNAP WHAT MSG: `snapshot create s1 SNAP` killed at STEP
# leaves the VM readable and its chain sound ("after WHAT"); the retry creates SNAP
kill_then_retry() {
	local out
	killed_at "$1" "$2"
	qc info s1 >/dev/null || fail "info after $3"
	check_chain "after $3"
	out=$(qc snapshot create s1 "$2")
	assert_match "$out" "Snapshot '$2' of VM 's1' created" "$4"
}

qc create s1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 --disk 16M >/dev/null
ok "create s1 (root overlay + a 16M data disk)"

# ---- offline
out=$(qc snapshot create s1 base)
assert_match "$out" "Snapshot 'base' of VM 's1' created \(VM stopped\)" "offline create"
assert_match "$(qc snapshot list s1)" 'base +[0-9-]+T[0-9:.]+Z +disk0,disk1 ' "list shows base with both disks"
json=$(qc --json snapshot list s1)
assert_match "$json" '"name": "base"' "list --json"
assert_match "$json" "\"file\": \"$vm/disk0.qcow2\"" "base's layer of disk0 is the first overlay"
assert_match "$(grep "source file" "$vm/domain.xml" | head -1)" "disk0\.L[0-9a-f]+\.qcow2" "domain's active layer is a new overlay"
check_chain "offline create"

# ---- bad input: exact messages, exit codes, state root unchanged
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "VM 's1': snapshot 'base' exists; pick another name" qc snapshot create s1 base
expect_fail 1 "snapshot name '\.\./x'|snapshot.*\.\./x" qc snapshot create s1 ../x
expect_fail 1 "snapshot.*'a/b'" qc snapshot create s1 a/b
expect_fail 2 "snapshot: unknown option '-x'" qc snapshot create s1 -x
expect_fail 1 "snapshot name '.hidden' is invalid" qc snapshot create s1 .hidden
expect_fail 1 "VM 's1' has no snapshot 'nope' \(snapshots: base\)" qc snapshot revert s1 nope
expect_fail 1 "VM 's1' has no snapshot 'nope'" qc snapshot rm s1 nope
expect_fail 1 "no VM|VM 'ghost'" qc snapshot create ghost x
expect_fail 2 "usage: qemuctl snapshot create NAME SNAP" qc snapshot create s1
expect_fail 2 "unknown subcommand 'frob'" qc snapshot frob s1 x
expect_fail 2 "--force is for revert only" qc snapshot rm s1 base --force
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "state root unchanged by refused snapshot commands"

# ---- live: create, write after it, revert --force
guest_boot s1
guest_say 'echo KEEP-ME >/keep1; sync; echo WROTE-KEEP'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-KEEP' 30
t0=$(date +%s%N)
out=$(qc snapshot create s1 live1)
ok "live snapshot create took $((($(date +%s%N) - t0) / 1000000)) ms"
assert_match "$out" "created \(live\)" "live create"
guest_say 'echo LATE >/after; sync; ls /after && echo HAVE-AFTER'
wait_for_text "$SCRATCH/con$con_n.out" '^HAVE-AFTER' 30
ok "guest wrote /after after the snapshot"
qemu-img check -q -U "$(sed -n "s/.*<source file='\([^']*disk0\.L[^']*\)'.*/\1/p" "$vm/domain.xml" | head -1)" || fail "live active layer check"
# (the guest runs: its disk layers and logs may change on their own; the
# definition and the set of files may not)
vm_meta() { (cd "$vm" && ls -1 && sha256sum domain.xml) | sha256sum; }
before=$(vm_meta)
expect_fail 1 "VM 's1' is running; stop it first, or use --force" qc snapshot revert s1 live1
expect_fail 1 "lies under snapshot 'live1' in the running chain" qc snapshot rm s1 base
assert_eq "$(vm_meta)" "$before" "refused live revert and rm change neither the definition nor the files"
t0=$(date +%s%N)
out=$(qc snapshot revert s1 live1 --force)
ok "revert --force took $((($(date +%s%N) - t0) / 1000000)) ms"
assert_match "$out" "reverted to snapshot 'live1' \(the running VM was stopped first" "revert --force stops first"
exec 7>&-
assert_match "$(qc info s1)" 'State: +stopped' "stopped after revert --force"
check_chain "after revert"
guest_boot s1
guest_say 'ls /after 2>/dev/null || echo NO-AFTER; cat /keep1'
wait_for_text "$SCRATCH/con$con_n.out" '^NO-AFTER' 30
wait_for_text "$SCRATCH/con$con_n.out" '^KEEP-ME' 10
ok "after revert: /after is gone, /keep1 (before the snapshot) is there"

# live rm of the newest snapshot: block-stream into the active layer
guest_say 'echo SECOND >/second; sync; echo WROTE-SECOND'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-SECOND' 30
live1_file=$(qc --json snapshot list s1 | sed -n 's/.*"file": "\([^"]*disk0\.L[^"]*\)".*/\1/p' | head -1)
[ -n "$live1_file" ] && [ -f "$live1_file" ] || fail "live1's disk0 layer not found"
out=$(qc snapshot rm s1 live1)
assert_match "$out" "Snapshot 'live1' of VM 's1' removed" "live rm (block-stream)"
assert_no_file "$live1_file"
guest_say 'cat /keep1 /second'
wait_for_text "$SCRATCH/con$con_n.out" '^SECOND' 30
ok "guest still reads data of the merged layer"
qc stop s1 --timeout 60
exec 7>&-
check_chain "after live rm"

# offline rm of base (rebase onto the backing image), the data stays
qc snapshot rm s1 base >/dev/null
assert_eq "$(qc --json snapshot list s1 | tr -d ' \n')" '{"vm":"s1","operation":null,"snapshots":[]}' "no snapshots left"
assert_no_file "$vm/disk0.qcow2"
check_chain "after offline rm"
guest_boot s1
guest_say 'cat /keep1 /second'
wait_for_text "$SCRATCH/con$con_n.out" '^SECOND' 30
wait_for_text "$SCRATCH/con$con_n.out" '^KEEP-ME' 10
ok "data survives removing every snapshot"
# live create killed after QEMU switched to the new overlays: the retry finishes it
kill_then_retry snapshot-switched lk "a kill of a live create" "retry finishes the live create"
active=$(sed -n "s/.*<source file='\([^']*disk0\.L[^']*\)'.*/\1/p" "$vm/domain.xml" | head -1)
# QEMU has its files as fds (/dev/fdset/N): the active layer is the one it holds open for writing
qpid=$(qc --json info s1 | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p' | head -1)
rw=
for f in /proc/"$qpid"/fd/*; do
	[ "$(readlink "$f")" = "$active" ] && grep -q '^flags:.*2$' "/proc/$qpid/fdinfo/${f##*/}" && rw=yes
done
assert_eq "$rw" "yes" "domain's active layer is the one QEMU writes"
guest_say 'echo AFTER-KILL >/ak; sync; cat /ak'
wait_for_text "$SCRATCH/con$con_n.out" '^AFTER-KILL' 30
qc snapshot rm s1 lk >/dev/null
ok "guest writes after the recovered live snapshot; lk removed live"
qc destroy s1
exec 7>&-

# ---- a create killed by SIGKILL mid-way leaves a readable chain; a retry completes
killed_at snapshot-create k1
ok "snapshot create killed with SIGKILL while pending"
qc info s1 >/dev/null || fail "info after the kill"
ok "info reads the VM after the kill"
check_chain "after the kill"
out=$(qc snapshot create s1 k1)
assert_match "$out" "Snapshot 'k1' of VM 's1' created" "retry completes"
assert_match "$(qc snapshot list s1)" '^k1 ' "k1 listed once"
assert_eq "$(qc --json snapshot list s1 | grep -c '"name"')" 1 "exactly one snapshot"
check_chain "after the retry"
# killed after the new overlays were made but before the domain said so: the retry finishes it
kill_then_retry snapshot-switched k2 "a kill past the overlay creation" \
	"retry finishes the interrupted create"
assert_eq "$(qc --json snapshot list s1 | grep -c '"name"')" 2 "k1 and k2, once each"
check_chain "after the second retry"
# no stray layers: every qcow2 in the VM dir is referenced
for f in "$vm"/*.qcow2; do
	grep -qF "$f" "$vm/domain.xml" || fail "stray layer $f"
done
ok "no unreferenced layers in the VM dir"

assert_eq "$(sha256sum <"$img")" "$sum_before" "backing image checksum unchanged"
qc delete s1 --force
assert_eq "$(sha256sum <"$img")" "$sum_before" "backing image unchanged after delete"
