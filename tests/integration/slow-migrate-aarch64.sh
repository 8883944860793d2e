#!/bin/bash
# A running aarch64 guest (virt, GICv3, PL011, PL061, TCG) moves live there
# and back: through an sshd of the test's own on 127.0.0.1 of a private netns
# into a second state root, as migrate.sh does for x86_64.  A process in the
# guest counts on the console; after each move the count goes on on the
# other side from exactly the next tick, with the same boot id and no second
# GUEST-READY; a file written before the first move is read back from the
# disk after it; the side left has no VM directory and no process of it; the
# new side's info says running, arch aarch64.  `stop` at the end powers the
# guest off through the PL061 GPIO key.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns aarch64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest aarch64
sshd_start

# The second state root, the ssh options and the target's qemuctl, as in
# migrate.sh (ssh gives the remote command a fresh environment: the build
# tree's qemuctl with its monitor named).
ROOT2="$(mktemp -d "/tmp/qc-$TEST_NAME-target.XXXXXX")"
chmod 0711 "$ROOT2"
on_exit 'kill -9 $(procs_using "$ROOT2") 2>/dev/null; rm -rf "$ROOT2"'
sshopts=(--ssh-option "IdentityFile=$SSHD_CLIENT_KEY" --ssh-option "UserKnownHostsFile=$SSHD_KNOWN_HOSTS"
	--ssh-option StrictHostKeyChecking=yes)
printf '#!/bin/sh\nQEMUCTL_MONITOR=%s exec %s "$@"\n' "$QEMUCTL_MONITOR" "$QC" >"$SCRATCH/qemuctl-target"
chmod 0755 "$SCRATCH/qemuctl-target"
# ticks <LOG: the highest count the guest printed in LOG.
ticks() { grep -aoE 'TICK [0-9]+' | awk '{print $2}' | sort -n | tail -n1; }

cp "$GUEST_ROOT" "$SCRATCH/root.img"
qc create m1 --arch aarch64 --disk-image "$SCRATCH/root.img" --kernel "$GUEST_KERNEL" \
	--initrd "$GUEST_INITRD" --append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
qc start m1
wait_for_text "$ROOT/vms/m1/console.log" '^GUEST-READY' 180
guest_console m1
guest_say 'echo moved-with-its-disk >/root/mark; sync; echo BOOTID $(cat /proc/sys/kernel/random/boot_id)'
wait_for_text "$SCRATCH/con$con_n.out" '^BOOTID [0-9a-f-]{36}' 60
id1=$(sed -n 's/^BOOTID \([0-9a-f-]*\).*/\1/p' "$SCRATCH/con$con_n.out" | tr -d '\r' | head -n1)
guest_say 'i=0; while :; do i=$((i+1)); echo "TICK $i"; sleep 1; done &'
wait_for_text "$ROOT/vms/m1/console.log" 'TICK 3[^0-9]' 60

# move FROM TO: m1 moves live from state root FROM to TO; then the checks
# above, and a console attached on TO (fd 7).  The count reached on FROM is
# read from its console.log through fd 8, opened before the move: the file
# goes with FROM's VM directory, and its monitor writes the guest's last
# output into it before it exits, which the move waits for.
move() {
	local from=$1 to=$2 out t id
	exec 7>&- 8<"$from/vms/m1/console.log"
	out=$("$QC" --root "$from" migrate m1 "ssh://root@127.0.0.1:$SSHD_PORT$to" --json "${sshopts[@]}" \
		--remote-qemuctl "$SCRATCH/qemuctl-target") || fail "migrate to $to: sshd says: $(tail -n 20 "$SSHD_LOG")"
	log "move to $to: $out"
	assert_match "$out" '"mode": "running"' "the move was live"
	assert_no_file "$from/vms/m1"
	assert_eq "$(procs_using "$from/vms/m1")" "" "no process of m1 left where it was"
	assert_match "$("$QC" --root "$to" info m1)" 'State: +running' "m1 runs on $to"
	assert_match "$("$QC" --root "$to" info m1)" 'Arch: +aarch64 \(machine virt\)' "m1 is aarch64 on $to"
	t=$(ticks <&8)
	exec 8<&-
	went_on "$t" "$to/vms/m1/console.log" "$to"
	ROOT="$to" guest_console m1
	guest_say 'echo 3 >/proc/sys/vm/drop_caches; echo BOOTID2 $(cat /proc/sys/kernel/random/boot_id) $(cat /root/mark)'
	wait_for_text "$SCRATCH/con$con_n.out" '^BOOTID2 [0-9a-f-]{36} moved-with-its-disk' 60
	ok "the file written before the first move is read back from the disk on $to"
	id=$(sed -n 's/^BOOTID2 \([0-9a-f-]*\).*/\1/p' "$SCRATCH/con$con_n.out" | tr -d '\r' | head -n1)
	assert_eq "$id" "$id1" "the same boot runs on $to"
}
move "$ROOT" "$ROOT2"
move "$ROOT2" "$ROOT"
exec 7>&-

qc stop m1 --timeout 60
assert_match "$(qc info m1)" 'Last exit: +poweroff: guest-shutdown' "stop powered the guest off (PL061 GPIO key)"
