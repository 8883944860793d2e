#!/bin/bash
# qemuctl migrate --offline to "another host": this machine through an sshd
# of the test's own (host key pinned, key login, 127.0.0.1 of a private
# netns) into a second state root, the VM's backing image in a storage
# directory of its own.  A file written in the guest before the move is
# read back after it boots on the target; the backing image is sent once and
# checked, and taken from the target's catalog when it has the same file;
# refusals and failures (ssh, host key, no remote qemuctl, another protocol
# version, a name taken, a running VM, the target killed midway) leave the
# source as it was and nothing on the target.  SIGINT, SIGTERM and SIGHUP at
# each phase before the commit (the source held there by QEMUCTL_TEST_HOLD)
# cancel the move: exit 128+N, the VM runs on (or stays) here, the target
# keeps nothing, no process is left; one after the commit is deferred and
# the move completes.  On a terminal the move shows its progress and Ctrl-C
# cancels it.
# Shared storage: a data disk outside both state roots (--disk FILE; both
# "hosts" see the same file here) is neither sent nor mirrored but checked
# on the target (there, a regular image file outside its root, of the same
# format and virtual size); written on the source up to the move, read back
# on the target, whole by qemu-img check at the end, held by no process of
# the source after a running move; a file the target does not see refuses
# the move before anything runs there.
# A raw disk of the VM's own (a hand-edited definition's; qemuctl makes its
# disks qcow2) moves too: sent offline, mirrored whole into an empty raw
# file live; what the guest wrote to it is read back on the target.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
sshd_start

ROOT2="$(mktemp -d "/tmp/qc-$TEST_NAME-target.XXXXXX")"
chmod 0711 "$ROOT2"
on_exit 'kill -9 $(procs_using "$ROOT2") 2>/dev/null; rm -rf "$ROOT2"'
qc2() { "$QC" --root "$ROOT2" "$@"; }
url="ssh://root@127.0.0.1:$SSHD_PORT$ROOT2"
sshopts=(--ssh-option "IdentityFile=$SSHD_CLIENT_KEY" --ssh-option "UserKnownHostsFile=$SSHD_KNOWN_HOSTS"
	--ssh-option StrictHostKeyChecking=yes)
# The source VM's files; the record of an operation killed midway (op.json) aside.
src_state() { tree_digest "$ROOT/vms/m1" | grep -v '[ /]op\.json$'; }
# ssh gives the remote command a fresh environment: the target's qemuctl is
# the build tree's, with its monitor named.
printf '#!/bin/sh\nQEMUCTL_MONITOR=%s exec %s "$@"\n' "$QEMUCTL_MONITOR" "$QC" >"$SCRATCH/qemuctl-target"
chmod 0755 "$SCRATCH/qemuctl-target"
mig() { qc migrate "$@" "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-target"; }
# mkvm NAME IMAGE [ARGS]...: the tiny guest booting from an overlay on IMAGE.
mkvm() {
	local name=$1 img=$2
	shift 2
	qc create "$name" --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 "$@" >/dev/null
}
# raw_disk VM DISK: VM's own qcow2 disk DISK made a raw file of the VM, as a
# hand-edited definition names one (qemuctl creates its own disks as qcow2).
raw_disk() {
	local dir="$ROOT/vms/$1"
	qemu-img convert -O raw "$dir/$2.qcow2" "$dir/$2.raw"
	rm "$dir/$2.qcow2"
	qc dumpxml "$1" | sed "/<driver name='qemu' type='qcow2'\/>/{N;s#type='qcow2'/>\(\n *<source file='[^']*/$2\)\.qcow2'#type='raw'/>\1.raw'#}" \
		>"$SCRATCH/$1.xml"
	qc define "$SCRATCH/$1.xml" >/dev/null
	assert_match "$(qc dumpxml "$1")" "<driver name='qemu' type='raw'/>
 *<source file='$dir/$2\.raw'/>" "$1: $2 is a raw disk of the VM"
}
# Shared storage: a directory outside both state roots; QEMU's user writes its disks.
SHARED="$(mktemp -d "/tmp/qc-$TEST_NAME-shared.XXXXXX")"
chmod 0711 "$SHARED"
on_exit 'rm -rf "$SHARED"'
qemu-img create -q -f raw "$SHARED/data1.raw" 1M
qemu-img create -q -f qcow2 "$SHARED/data.qcow2" 128M
chmod 0666 "$SHARED/data1.raw" "$SHARED/data.qcow2"

# The VM's backing image in a storage directory of its own.
mkdir -m 0711 "$SCRATCH/store"
cp "$GUEST_ROOT" "$SCRATCH/store/root.img"
mkvm m1 "$SCRATCH/store/root.img" --disk "$SHARED/data1.raw" --disk 1M
raw_disk m1 disk2
guest_boot m1
guest_say 'echo moved-with-its-disk >/root/mark; echo raw-offline | dd of=/dev/vdc conv=fsync 2>/dev/null; sync; echo MARK-WRITTEN'
wait_for_text "$SCRATCH/con$con_n.out" '^MARK-WRITTEN' 30
exec 7>&-

# A running VM is refused for --offline; a stopped one without it too.
expect_fail 1 "VM 'm1' is running; --offline moves a stopped VM" mig m1 "$url" --offline
qc stop m1 >/dev/null
expect_fail 1 "VM 'm1' is not running; move it stopped with --offline" mig m1 "$url"
expect_fail 1 "not an ssh:// address" mig m1 "http://x/" --offline
src_digest=$(src_state)

# Refusals before anything moved: the source as it was, the target empty.
unmoved() {
	assert_eq "$(src_state)" "$src_digest" "$1: the source is as it was"
	assert_eq "$(ls -A "$ROOT2/vms" 2>/dev/null)" "" "$1: nothing on the target"
}
# ssh failure: nobody listens on the port.
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_fail 1 "ssh to '127.0.0.1' failed: .*(refused|Connection)" \
	mig m1 "ssh://root@127.0.0.1:$closed$ROOT2" --offline
unmoved "ssh failure"
# A host key other than the pinned one.
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/otherkey"
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SCRATCH/otherkey.pub")" >"$SCRATCH/wrong_known_hosts"
expect_fail 1 "ssh to '127.0.0.1': the host key is not known or has changed" \
	qc migrate m1 "$url" --offline --ssh-option "IdentityFile=$SSHD_CLIENT_KEY" \
	--ssh-option "UserKnownHostsFile=$SCRATCH/wrong_known_hosts" \
	--ssh-option StrictHostKeyChecking=yes --remote-qemuctl "$SCRATCH/qemuctl-target"
unmoved "host key"
# No qemuctl on the target.
expect_fail 1 "no '/nonexistent/qemuctl' on '127.0.0.1' .*--remote-qemuctl" \
	qc migrate m1 "$url" --offline "${sshopts[@]}" --remote-qemuctl /nonexistent/qemuctl
unmoved "no remote qemuctl"
# A target of another protocol version.
cat >"$SCRATCH/qemuctl-v99" <<'EOT'
#!/bin/sh
echo '{"qemuctl-migrate":99,"root":"/x"}'
read -r hello
EOT
chmod 0755 "$SCRATCH/qemuctl-v99"
expect_fail 1 "speaks migration protocol 99, this one 2" \
	qc migrate m1 "$url" --offline "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-v99"
unmoved "protocol version"
# A target state root that does not exist: the target's own error.
expect_fail 1 "qemuctl on '127.0.0.1' failed \(exit 1\): .*no such state root" \
	mig m1 "ssh://root@127.0.0.1:$SSHD_PORT/nonexistent/root" --offline
unmoved "no target root"
# The target killed at its commit: the source keeps the VM; the work
# directory it left is swept by the next migration to it.
printf '#!/bin/sh\nQEMUCTL_FAULT_AT=migrate-receive:commit exec %s "$@"\n' "$SCRATCH/qemuctl-target" >"$SCRATCH/qemuctl-fault"
chmod 0755 "$SCRATCH/qemuctl-fault"
expect_fail 1 "the connection to '127.0.0.1' ended without a word" \
	qc migrate m1 "$url" --offline "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-fault"
assert_eq "$(src_state)" "$src_digest" "target killed: the source is as it was"
assert_match "$(ls -A "$ROOT2/vms")" '^\.migrate-m1\.[0-9]+$' \
	"target killed: no VM on the target, only its work directory"
# The source killed after sending its files: the target removes what it got.
QEMUCTL_FAULT_AT=migrate:sent expect_fail 137 "" mig m1 "$url" --offline
assert_eq "$(src_state)" "$src_digest" "source killed: the source is as it was"
target_empty() { [ -z "$(ls -A "$ROOT2/vms")" ]; }
wait_until 10 target_empty
ok "source killed: the target removed what it received"

# A hostile source talking to migrate-receive directly: each bad request of a
# running VM's move gets an error naming it, and nothing stays on the target.
hostile() {
	python3 - "$QC" "$ROOT2" "$@" <<'EOP'
import json, subprocess, sys
qc, root, want, reqs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
p = subprocess.Popen([qc, "--root", root, "migrate-receive"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True)
json.loads(p.stdout.readline())
p.stdin.write('{"qemuctl-migrate":2}\n')
last = None
for r in reqs:
    p.stdin.write(r + "\n")
    p.stdin.flush()
    last = json.loads(p.stdout.readline())
    if "error" in last:
        break
p.stdin.close()
p.wait()
if want not in last.get("error", ""):
    sys.exit(f"{reqs[-1]}: {last}")
EOP
}
begin='{"op":"begin","name":"h1","live":true}'
hostile "'overlay' without a running VM's 'begin'" '{"op":"begin","name":"h1"}' '{"op":"overlay","name":"disk0.qcow2","size":1}' ||
	fail "an overlay for a stopped VM's move"
hostile "a virtual size of 0 bytes" "$begin" '{"op":"overlay","name":"disk0.qcow2","size":0}' || fail "size 0"
hostile "a virtual size of 1125899906842625 bytes" "$begin" '{"op":"overlay","name":"disk0.qcow2","size":1125899906842625}' ||
	fail "size over 1 PiB"
hostile "the VM's own bookkeeping" "$begin" '{"op":"overlay","name":"domain.xml","size":1}' || fail "a bookkeeping name"
hostile "file" "$begin" '{"op":"overlay","name":"../x","size":1}' || fail "a path as a name"
hostile "file 'disk0.qcow2' sent twice" "$begin" '{"op":"overlay","name":"disk0.qcow2","size":1}' \
	'{"op":"overlay","name":"disk0.qcow2","size":1}' || fail "the same overlay twice"
hostile "'listen' out of order" "$begin" '{"op":"listen"}' || fail "listen before the commit"
hostile "'uuid' is no UUID" '{"op":"begin","name":"h1","uuid":"x\u001b[2J"}' || fail "a UUID with a control sequence"
hostile "'uuid' is no UUID" '{"op":"begin","name":"h1","uuid":7}' || fail "a UUID that is a number"
# shared_req PATH FORMAT SIZE: a disk on shared storage the target would not take for --disk FILE
# (another size or format: check_driver_migrate_shared)
shared_req() { printf '{"op":"shared","disk":"disk1","path":"%s","format":"%s","size":%s,"writes":true}' "$@"; }
hostile "shared storage on host '$(hostname)': disk 'disk1': '$ROOT2/images/x.qcow2' lies in the state root" \
	"$begin" "$(shared_req "$ROOT2/images/x.qcow2" qcow2 1)" || fail "a shared disk in the target's root"
hostile "shared storage on host '$(hostname)': disk 'disk1': disk '/dev/null' is not a regular file" \
	"$begin" "$(shared_req /dev/null raw 1)" || fail "a shared disk that is a device"
assert_eq "$(ls -A "$ROOT2/vms")" "" "hostile requests: nothing stays on the target"

# interrupt SIG CODE POINT VM [ARGS]...: a move of VM held at POINT gets SIG
# there and exits CODE with the cancel message; the target has removed its
# work directory and its processes have ended by then.
interrupt() {
	local sig=$1 code=$2 point=$3 vm=$4 pid rc=0
	shift 4
	# a script's background job ignores SIGINT unless told otherwise
	QEMUCTL_TEST_HOLD=$point env --default-signal=INT "$QC" --root "$ROOT" migrate "$vm" "$url" \
		"$@" "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-target" >"$SCRATCH/out" 2>"$SCRATCH/err" &
	pid=$!
	wait_until 60 test -e "$ROOT/vms/$vm/.hold-$point"
	[ -z "${while_held:-}" ] || "$while_held" "$vm"
	kill -s "$sig" "$pid"
	wait "$pid" || rc=$?
	rm -f "$ROOT/vms/$vm/.hold-$point"
	[ "$rc" -eq "$code" ] || fail "SIG$sig at $point: exit $rc, not $code: $(cat "$SCRATCH/err")"
	grep -Eq "migration of VM '$vm' to 127.0.0.1 cancelled by SIG$sig: the VM (runs on|stays) here as before" \
		"$SCRATCH/err" || fail "SIG$sig at $point: $(cat "$SCRATCH/err")"
	assert_eq "$(ls -A "$ROOT2/vms" | grep -E "^(\.migrate-)?$vm(\.|$)")" "" \
		"SIG$sig at $point: the target keeps nothing"
	assert_eq "$(procs_using "$ROOT2")" "" "SIG$sig at $point: no ssh, no remote qemuctl left"
}
interrupt INT 130 migrate-sent m1 --offline
assert_eq "$(src_state)" "$src_digest" "SIGINT: the source is as it was"

# The move.  This host's records of m1's last run stay here.
assert_file "$ROOT/vms/m1/network.json"
out=$(mig m1 "$url" --offline --json)
printf '%s' "$out" | python3 "$QC_SRCDIR/tests/integration/json_schema.py" \
	"$QC_SRCDIR/docs/schema/qemuctl-v2.json" migrate || fail "migrate --json: $out"
assert_match "$out" '"mode": "offline"' "migrate --json"
assert_match "$out" '"images_sent": 1' "the backing image was sent"
assert_no_file "$ROOT/vms/m1"
assert_match "$(qc list)" '^$|^NAME' "the source has no m1"
assert_eq "$(ls -A "$ROOT2/vms")" "m1" "the target has m1 (no work directory left)"
assert_no_file "$ROOT2/vms/m1/network.json"
base=$(ls "$ROOT2/vms/m1" | grep '^base-')
assert_eq "$(sha256sum <"$ROOT2/vms/m1/$base")" "$(sha256sum <"$SCRATCH/store/root.img")" \
	"the backing image arrived whole"
assert_match "$(qc2 dumpxml m1)" "<source file='$ROOT2/vms/m1/$base'/>" "the definition names it"
assert_match "$(qc2 dumpxml m1)" "<source file='$SHARED/data1.raw'/>" \
	"the disk on shared storage keeps its path"
assert_eq "$(ls "$ROOT2/vms/m1" | grep -c data1 || true)" 0 "the disk on shared storage was not copied"
# Its events there begin with where it came from (sshd's view of the address).
assert_match "$(qc2 events m1 | head -n1)" \
	"QEMUCTL_MIGRATED .*\"from\": ?\"$(hostname)\".*\"address\": ?\"127\.0\.0\.1\".*\"mode\": ?\"offline\"" \
	"the target's events: QEMUCTL_MIGRATED from this host"
# A second move of the same name is refused by the target.
mkvm m1 "$SCRATCH/store/root.img"
src_digest=$(src_state)
expect_fail 1 "the target: VM 'm1' already exists in $ROOT2" mig m1 "$url" --offline
assert_eq "$(src_state)" "$src_digest" "name taken: the source is as it was"
qc delete m1 >/dev/null

# It boots on the target and the file written before the move is there.
ROOT="$ROOT2" guest_boot m1
guest_say 'cat /root/mark; echo RAW $(head -n1 /dev/vdc)'
wait_for_text "$SCRATCH/con$con_n.out" '^moved-with-its-disk' 30
ok "the file written before the move is read back on the target"
wait_for_text "$SCRATCH/con$con_n.out" '^RAW raw-offline' 30
ok "the VM's raw disk moved with it"
exec 7>&-
qc2 destroy m1 >/dev/null

# A catalog image the target has already is not sent again.
qemu-img convert -O qcow2 "$SCRATCH/store/root.img" "$SCRATCH/store/root.qcow2"
qc image import tiny "$SCRATCH/store/root.qcow2" >/dev/null
qc2 image import tiny "$SCRATCH/store/root.qcow2" >/dev/null
qc create m2 --image tiny --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 --disk-size 64M >/dev/null
out=$(mig m2 "$url" --offline --json) || fail "migrate m2: sshd says: $(tail -n 20 "$SSHD_LOG")"
assert_match "$out" '"images_reused": 1' "the target's catalog image was used"
assert_match "$(qc2 dumpxml m2)" "<source file='$ROOT2/images/tiny.qcow2'/>" \
	"m2's backing is the target's catalog image"
assert_match "$(qc2 image list)" 'tiny' "the target's catalog"
qc2 start m2 >/dev/null
wait_for_text "$ROOT2/vms/m2/console.log" '^GUEST-READY' 90
ok "m2 boots on the target's catalog image"
qc2 destroy m2 >/dev/null

# The same VM defined on both hosts (as a cluster defines it on every node:
# the same UUID, its disks on shared storage, no file of its own): a move
# replaces the target's definition, offline and live.  Another UUID there,
# the VM running there or a file of its own there is refused before
# anything is sent; a live move failing after the commit puts the target's
# old definition back as it was.  The source, which has no more than the
# definition either, keeps it (stopped): every node has it still.
qemu-img create -q -f raw "$SHARED/s1.raw" 1M
chmod 0666 "$SHARED/s1.raw"
mks1() {
	"$QC" --root "$1" create s1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
		--memory 128M --cpus 1 --no-seed --disk "$SHARED/s1.raw" >/dev/null
}
mks1 "$ROOT"
qc dumpxml s1 >"$SCRATCH/s1.xml"
uuid=$(sed -n 's#.*<uuid>\(.*\)</uuid>.*#\1#p' "$SCRATCH/s1.xml")
sed "s#<memory unit='KiB'>131072<#<memory unit='KiB'>65536<#" "$SCRATCH/s1.xml" >"$SCRATCH/s1-64.xml"
mks1 "$ROOT2"
s1_src=$(tree_digest "$ROOT/vms/s1")
expect_fail 1 "the target: VM 's1' already exists in $ROOT2 as another VM \(UUID [0-9a-f-]{36}, the source's $uuid\)" \
	mig s1 "$url" --offline
qc2 undefine s1 >/dev/null
qc2 define "$SCRATCH/s1-64.xml" >/dev/null
: >"$ROOT2/vms/s1/disk0.qcow2"
expect_fail 1 "the target: VM 's1' in $ROOT2 has files of its own \(disk0.qcow2\), which the move would replace" \
	mig s1 "$url" --offline
rm "$ROOT2/vms/s1/disk0.qcow2"
qc2 start s1 >/dev/null
expect_fail 1 "the target: $ROOT2: VM 's1' is running; the move replaces the same VM's definition only while it is stopped there" \
	mig s1 "$url" --offline
qc2 destroy s1 >/dev/null
assert_eq "$(tree_digest "$ROOT/vms/s1")" "$s1_src" "refused replacements: the source is as it was"
assert_match "$(qc2 dumpxml s1)" "<memory unit='KiB'>65536</memory>" "refused replacements: the target's definition stays"
assert_eq "$(ls -A "$ROOT2/vms" | grep s1)" "s1" "refused replacements: no work directory on the target"
out=$(mig s1 "$url" --offline --json) || fail "offline move onto the same VM: $out"
assert_match "$(qc info s1)" 'State: +stopped' "offline: the source keeps its definition of s1, stopped"
assert_match "$(qc2 dumpxml s1)" "<memory unit='KiB'>131072</memory>" "offline: the target's definition of s1 is the source's now"
assert_match "$(qc2 dumpxml s1)" "<uuid>$uuid</uuid>" "offline: the same VM"
assert_eq "$(ls -A "$ROOT2/vms" | grep s1)" "s1" "offline: the replaced directory is gone"
# Live: the 64M definition there again; the target's QEMU killed mid-move
# (after the commit): its old directory comes back as it was.
qc2 define "$SCRATCH/s1-64.xml" >/dev/null
qc start s1 >/dev/null
s1_dst=$(tree_digest "$ROOT2/vms/s1" | grep -v '[ /]op\.json$')
QEMUCTL_TEST_HOLD=migrate-mirrored "$QC" --root "$ROOT" migrate s1 "$url" "${sshopts[@]}" \
	--remote-qemuctl "$SCRATCH/qemuctl-target" >"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
wait_until 60 test -e "$ROOT/vms/s1/.hold-migrate-mirrored"
kill -9 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["qemu_pid"])' "$ROOT2/vms/s1/state.json")"
rm -f "$ROOT/vms/s1/.hold-migrate-mirrored"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 1 ] || fail "live move onto the same VM, its QEMU killed: exit $rc: $(cat "$SCRATCH/err")"
s1_back() { [ "$(ls -A "$ROOT2/vms" | grep s1)" = s1 ] && [ -z "$(procs_using "$ROOT2/vms/s1")" ]; }
wait_until 30 s1_back
assert_eq "$(tree_digest "$ROOT2/vms/s1" | grep -v '[ /]op\.json$')" "$s1_dst" \
	"a failed live move: the target's old definition is back as it was"
assert_match "$(qc info s1)" 'State: +running' "a failed live move: s1 runs on here"
out=$(mig s1 "$url" --json) || fail "live move onto the same VM: $out"
assert_match "$out" '"mode": "running"' "live onto the same VM"
assert_match "$(qc info s1)" 'Last exit: +migrated: to 127\.0\.0\.1' \
	"live: the source keeps its definition of s1, stopped by the move"
assert_match "$(qc2 info s1)" 'State: +running' "live: s1 runs on the target"
assert_match "$(qc2 dumpxml s1)" "<memory unit='KiB'>131072</memory>" "live: the target's definition of s1 is the source's now"
assert_eq "$(ls -A "$ROOT2/vms" | grep s1)" "s1" "live: the replaced directory is gone"
qc2 destroy s1 >/dev/null
qc undefine s1 >/dev/null

# A running VM moves live (pre-copy): a guest process counting on the console
# goes on counting on the target, without a new boot.
cp "$GUEST_ROOT" "$SCRATCH/store/root3.img"
mkvm m3 "$SCRATCH/store/root3.img" --disk "$SHARED/data.qcow2" --disk 1M
raw_disk m3 disk2
guest_boot m3
guest_say 'echo BOOTID $(cat /proc/sys/kernel/random/boot_id)'
wait_for_text "$SCRATCH/con$con_n.out" '^BOOTID [0-9a-f-]{36}' 30
id1=$(sed -n 's/^BOOTID \([0-9a-f-]*\).*/\1/p' "$SCRATCH/con$con_n.out" | tr -d '\r' | head -n1)
# each tick also into a 64 KiB cluster of its own of the shared disk (vdb)
guest_say 'i=0; while :; do i=$((i+1)); echo "TICK $i"; echo "DISKTICK $i" | dd of=/dev/vdb bs=64k seek=$i conv=fsync 2>/dev/null; sleep 1; done &'
wait_for_text "$ROOT/vms/m3/console.log" 'TICK 3[^0-9]' 30
exec 7>&-
# ticks FILE...: the highest count the guest printed in them.
ticks() { cat "$@" | grep -aoE 'TICK [0-9]+' | awk '{print $2}' | sort -n | tail -n1; }

# The target killed at its commit: the VM runs on here, the counter too.
expect_fail 1 "the connection to '127.0.0.1' ended without a word" \
	qc migrate m3 "$url" "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-fault"
assert_match "$(qc info m3)" 'State: +running' "target killed: the VM runs on here"
t=$(ticks "$ROOT/vms/m3/console.log")
wait_for_text "$ROOT/vms/m3/console.log" "TICK $((t + 2))[^0-9]" 30
ok "target killed: the counter goes on here past TICK $t"

# runs_on WHAT: the VM runs here and its counter goes on.
runs_on() {
	assert_match "$(qc info m3)" 'State: +running' "$1: the VM runs on here"
	t=$(ticks "$ROOT/vms/m3/console.log")
	wait_for_text "$ROOT/vms/m3/console.log" "TICK $((t + 1))[^0-9]" 30
	ok "$1: the counter goes on here past TICK $t"
}
# target_gone: no m3 on the target, no process of the target's root (its
# migrate-receive and qemuctl-monitor name it; the monitor outlives QEMU).
target_gone() { [ -z "$(ls -A "$ROOT2/vms" | grep m3)" ] && ! pgrep -f -- "$ROOT2" >/dev/null; }
interrupt TERM 143 migrate-begun m3
runs_on "SIGTERM before the guest stopped"
# The shared disk not on the target: refused before anything runs there.
mv "$SHARED/data.qcow2" "$SHARED/data.away"
expect_fail 1 "VM 'm3': disk 'disk1' is the file '$SHARED/data.qcow2' outside the VM, which is not copied: '127\.0\.0\.1' must see the same file at that path \(shared storage\): the target: shared storage on host '[^']+': disk 'disk1': --disk '$SHARED/data.qcow2': cannot read: No such file" \
	mig m3 "$url"
mv "$SHARED/data.away" "$SHARED/data.qcow2"
wait_until 10 target_gone
ok "shared disk missing on the target: the target keeps nothing, runs nothing"
runs_on "shared disk missing on the target"
# kill_receiver VM: SIGTERM to the target's migrate-receive of VM's move (held
# with everything sent): it removes its work directory as if the source went.
kill_receiver() {
	local pid
	work_dir() { ls -A "$ROOT2/vms" | grep -q "^\.migrate-$1\."; }
	work_dir "$1" || fail "no work directory of $1 on the target while held"
	pid=$(pgrep -f -- "--root $ROOT2 migrate-receive")
	[ -n "$pid" ] || fail "no migrate-receive on the target"
	kill -s TERM "$pid"
	wait_until 30 eval '! work_dir '"$1"
	ok "SIGTERM to the target's migrate-receive: its work directory is removed"
}
while_held=kill_receiver interrupt HUP 129 migrate-sent m3
runs_on "SIGHUP with everything sent, the target gone"
# On a terminal: the progress line, rewritten in place; Ctrl-C once the
# disks' mirrors are ready (held there), which ssh, in a session of its own,
# does not see: the mirrors are cancelled, the guest runs on.
QEMUCTL_TEST_HOLD=migrate-mirrored QC_PTY_CTRL_C="copying disks" on_pty "$SCRATCH/pty.out" \
	"$QC" --root "$ROOT" migrate m3 "$url" "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-target"
rm -f "$ROOT/vms/m3/.hold-migrate-mirrored"
pty=$(head -n1 "$SCRATCH/pty.out")
assert_eq "$(sed -n 2p "$SCRATCH/pty.out")" 130 "Ctrl-C on a terminal: exit 130"
sz='[0-9.]+ (B|[KMG]iB)'
assert_match "$pty" "<CR>migrate m3: sending base-[0-9a-f]{16}\\.img \\[[#-]{30}\\] +[0-9]+% $sz / $sz  $sz/s" \
	"the progress: the file, a bar, bytes sent of the total, the rate"
assert_match "$pty" '<CR>migrate m3: copying disks' "the progress: the phase"
assert_match "$pty" "cancelled by SIGINT: the VM runs on here as before" "Ctrl-C cancels the move"
assert_eq "$(ls -A "$ROOT2/vms" | grep m3)" "" "Ctrl-C: the target keeps nothing"
runs_on "Ctrl-C"

# held_fault WHAT ACTION [async]: a move held once the disks' mirrors are
# ready, ACTION run then, the hold ended: the move fails, the guest runs on
# here, the target keeps nothing (no directory, no process; async: once
# sshd saw the connection go, which the source cannot wait for), the
# overlay here is sound.
held_fault() {
	local what=$1 action=$2 pid rc=0
	QEMUCTL_TEST_HOLD=migrate-mirrored "$QC" --root "$ROOT" migrate m3 "$url" "${sshopts[@]}" \
		--remote-qemuctl "$SCRATCH/qemuctl-target" >"$SCRATCH/out" 2>"$SCRATCH/err" &
	pid=$!
	wait_until 60 test -e "$ROOT/vms/m3/.hold-migrate-mirrored"
	"$action" "$pid"
	rm -f "$ROOT/vms/m3/.hold-migrate-mirrored"
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ] || fail "$what: exit $rc: $(cat "$SCRATCH/err")"
	log "$what: $(cat "$SCRATCH/err")"
	if [ -n "${3:-}" ]; then wait_until 30 target_gone; else target_gone; fi ||
		fail "$what: the target keeps $(ls -A "$ROOT2/vms") $(pgrep -af -- "$ROOT2")"
	ok "$what: the target keeps nothing (no directory, no QEMU, monitor or qemuctl)"
	runs_on "$what"
	qemu-img check -U -q "$ROOT/vms/m3/disk0.qcow2" || fail "$what: the overlay here is damaged"
	ok "$what: the overlay here is sound"
}
# kill_target_qemu PID: SIGKILL to the target's QEMU of m3.
kill_target_qemu() {
	local q
	q=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["qemu_pid"])' "$ROOT2/vms/m3/state.json")
	[ "$q" -gt 0 ] || fail "no QEMU of m3 on the target"
	kill -9 "$q"
}
held_fault "the target's QEMU killed mid-move" kill_target_qemu
# kill_ssh PID: SIGKILL to the move's ssh.
kill_ssh() {
	local s
	s=$(pgrep -P "$1" -x ssh)
	[ -n "$s" ] || fail "no ssh under the move"
	kill -9 "$s"
}
held_fault "ssh killed mid-move" kill_ssh async

# A move killed (SIGKILL) while QEMU migrates: the guest runs on here, the
# target keeps nothing; the next move ends what it left in QEMU (its
# migration, the disks' copies) and goes through.
QEMUCTL_FAULT_AT=migrate:precopy expect_fail 137 "" mig m3 "$url"
wait_until 30 target_gone
ok "source killed while migrating: the target keeps nothing"
runs_on "source killed while migrating"
cp "$ROOT/vms/m3/console.log" "$SCRATCH/m3-console.log"

# A console attached here keeps what the guest printed up to the move.
guest_console m3
src_con="$SCRATCH/con$con_n.out"
# written to the disk just before the move: read back there from the disk
guest_say 'echo written-while-running >/root/live; echo raw-live | dd of=/dev/vdc conv=fsync 2>/dev/null; sync; echo LIVE-WRITTEN'
wait_for_text "$src_con" '^LIVE-WRITTEN' 30
# SIGINT once the target committed is not a cancel: the move completes.
t0=$(date +%s%N)
QEMUCTL_TEST_HOLD=migrate-committed env --default-signal=INT "$QC" --root "$ROOT" migrate m3 "$url" \
	--json "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-target" >"$SCRATCH/mig.out" 2>"$SCRATCH/mig.err" &
pid=$!
wait_until 60 test -e "$ROOT/vms/m3/.hold-migrate-committed"
kill -s INT "$pid"
rc=0
wait "$pid" || rc=$?
exec 7>&-
[ "$rc" -eq 0 ] || fail "SIGINT after the commit: exit $rc: $(cat "$SCRATCH/mig.err")"
assert_match "$(cat "$SCRATCH/mig.err")" \
	"SIGINT came after the target committed VM 'm3': the move was completed" \
	"SIGINT after the commit: the move completed"
out=$(cat "$SCRATCH/mig.out")
log "running move: $out ($((($(date +%s%N) - t0) / 1000000)) ms)"
printf '%s' "$out" | python3 "$QC_SRCDIR/tests/integration/json_schema.py" \
	"$QC_SRCDIR/docs/schema/qemuctl-v2.json" migrate || fail "migrate --json: $out"
assert_match "$out" '"mode": "running"' "migrate --json of a running VM"
assert_match "$out" '"downtime_ms": [0-9]+' "the downtime is reported"
assert_match "$out" '"qemu_downtime_ms": [0-9]+' "QEMU's downtime is reported"
assert_match "$out" '"ram_bytes": [1-9][0-9]+' "the RAM sent is reported"
log "downtime: $(printf '%s' "$out" | grep -oE '"(qemu_)?downtime_ms": [0-9]+' | tr '\n' ' ')"
t=$(ticks "$SCRATCH/m3-console.log" "$src_con")
assert_no_file "$ROOT/vms/m3"
assert_match "$(qc2 info m3)" 'State: +running' "m3 runs on the target"
wait_for_text "$ROOT2/vms/m3/console.log" "TICK $((t + 2))[^0-9]" 30
first=$(grep -aoE 'TICK [0-9]+' "$ROOT2/vms/m3/console.log" | awk '{print $2}' | head -n1)
[ "$first" -eq $((t + 1)) ] ||
	fail "the counter did not go on from TICK $t on the target: first $first"
ok "the counter went on from TICK $t on the target (TICK $first first)"
if grep -aq '^GUEST-READY' "$ROOT2/vms/m3/console.log"; then fail "the guest booted anew on the target"; fi
ROOT="$ROOT2" guest_console m3
guest_say 'echo BOOTID2 $(cat /proc/sys/kernel/random/boot_id); echo 3 >/proc/sys/vm/drop_caches; echo READ $(cat /root/live); echo RAW $(head -n1 /dev/vdc); echo SHARED $(dd if=/dev/vdb bs=64k skip='"$t"' count=1 2>/dev/null | head -n1)'
wait_for_text "$SCRATCH/con$con_n.out" '^BOOTID2 [0-9a-f-]{36}' 30
wait_for_text "$SCRATCH/con$con_n.out" '^READ written-while-running' 30
ok "the file written just before the move is read back from the disk on the target"
wait_for_text "$SCRATCH/con$con_n.out" '^RAW raw-live' 30
ok "the VM's raw disk was mirrored: what the guest wrote to it is read back on the target"
wait_for_text "$SCRATCH/con$con_n.out" "^SHARED DISKTICK $t" 30
ok "the shared disk's cluster written last on the source (DISKTICK $t) is read back on the target"
# only the target's QEMU has the shared disk open; nothing of the source is left
holders=$({ find /proc/[0-9]*/fd -lname "$SHARED/data.qcow2" 2>/dev/null || true; } | cut -d/ -f3 | sort -u | tr '\n' ' ')
assert_eq "$holders" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["qemu_pid"])' "$ROOT2/vms/m3/state.json") " \
	"the shared disk is held by the target's QEMU only"
id2=$(sed -n 's/^BOOTID2 \([0-9a-f-]*\).*/\1/p' "$SCRATCH/con$con_n.out" | tr -d '\r' | head -n1)
assert_eq "$id2" "$id1" "the same boot runs on the target"
exec 7>&-
assert_match "$(qc2 events m3 | head -n1)" 'QEMUCTL_MIGRATED .*"mode": ?"running"' \
	"the target's events begin with QEMUCTL_MIGRATED"

# Back here, the move killed once the target ran the VM (after "run", before
# the source removed its copy): the VM runs here; the stale copy there is
# stopped and its last exit says where the VM went, not "killed".
# (--copy-storage, which the Pacemaker agent passes when the help lists it:
# accepted, the disks are copied anyway)
assert_match "$(qc migrate --help)" '--copy-storage' "migrate --help lists --copy-storage"
QEMUCTL_FAULT_AT=migrate:committed expect_fail 137 "" qc2 migrate m3 "ssh://root@127.0.0.1:$SSHD_PORT$ROOT" \
	--copy-storage "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-target"
assert_match "$(qc info m3)" 'State: +running' "killed after the commit: the VM runs on the target"
assert_match "$(qc2 info m3)" 'Last exit: +migrated: to 127\.0\.0\.1' \
	"killed after the commit: the stale copy's last exit is the move"
assert_match "$(qc2 events m3 | tail -n1)" 'QEMUCTL_EXIT .*"reason": ?"migrated"' \
	"killed after the commit: its events end with the move"
qc2 delete m3 >/dev/null

# The target killed when told to run the VM, before it answered: whether it
# runs there is not known, so the guest stays paused here (never two running
# copies) and the error says what to do.
printf '#!/bin/sh\nQEMUCTL_FAULT_AT=migrate-receive:run exec %s "$@"\n' "$SCRATCH/qemuctl-target" >"$SCRATCH/qemuctl-fault-run"
chmod 0755 "$SCRATCH/qemuctl-fault-run"
expect_fail 1 "VM 'm3' stays paused here: whether it runs on '127.0.0.1' is not known" \
	qc migrate m3 "$url" "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-fault-run"
# (its QEMU waits paused, or, when its relay died before QEMU had read the
# whole stream, ended failing to load it)
assert_match "$(qc2 info m3)" 'State: +(paused|crashed)' "the target's copy did not run"
qc2 delete --force m3 >/dev/null
qc resume m3 >/dev/null
runs_on "resumed after the unanswered run"
qc destroy m3 >/dev/null
qemu-img check -q "$SHARED/data.qcow2" || fail "the shared disk is damaged after the moves"
ok "the shared disk is sound after the moves (qemu-img check)"
