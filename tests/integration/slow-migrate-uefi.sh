#!/bin/bash
# A running UEFI guest moves live: OVMF's read-only code flash and the VM's
# own writable varstore nvram.fd, the tiny guest booted by systemd-boot from
# the GPT disk of tests/guest/build-disk-image, moved through an sshd of the
# test's own on 127.0.0.1 of a private netns into a second state root, as
# migrate.sh does.  The varstore is flash RAM that QEMU writes through to the
# file; the migration carries the RAM and the target's QEMU writes it over
# its file once it runs.  A flash write while the RAM was sent is not carried
# (QEMU marks no page of it dirty): such a write, made here at the hold after
# QEMU completed (the file changed since the migration began), undoes the
# move: exit 1 with the reason, the guest runs on here, the target keeps
# nothing.  Then the move: a process in the guest counts on the console and
# goes on on the target from exactly the next tick, no second GUEST-READY
# (no reset), the target runs it, and its varstore is byte for byte the
# source's last one, which holds the boot variables the firmware wrote.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
"$QC_SRCDIR/tests/guest/build-disk-image" --arch x86_64 >"$SCRATCH/build.log" 2>&1 ||
	fail "build-disk-image --arch x86_64 failed: $(tail -5 "$SCRATCH/build.log")"
# shellcheck disable=SC1091
. "$QC_GUEST_CACHE/x86_64-efi/env"
cp "$DISK_IMAGE" "$SCRATCH/disk.img"
sshd_start

# The second state root, the ssh options and the target's qemuctl, as in migrate.sh.
ROOT2="$(mktemp -d "/tmp/qc-$TEST_NAME-target.XXXXXX")"
chmod 0711 "$ROOT2"
on_exit 'kill -9 $(procs_using "$ROOT2") 2>/dev/null; rm -rf "$ROOT2"'
url="ssh://root@127.0.0.1:$SSHD_PORT$ROOT2"
sshopts=(--ssh-option "IdentityFile=$SSHD_CLIENT_KEY" --ssh-option "UserKnownHostsFile=$SSHD_KNOWN_HOSTS"
	--ssh-option StrictHostKeyChecking=yes)
printf '#!/bin/sh\nQEMUCTL_MONITOR=%s exec %s "$@"\n' "$QEMUCTL_MONITOR" "$QC" >"$SCRATCH/qemuctl-target"
chmod 0755 "$SCRATCH/qemuctl-target"
# ticks FILE...: the highest count the guest printed in them.
ticks() { cat "$@" | grep -aoE 'TICK [0-9]+' | awk '{print $2}' | sort -n | tail -n1; }
target_gone() { [ -z "$(ls -A "$ROOT2/vms")" ] && [ -z "$(procs_using "$ROOT2")" ]; }

qc create u1 --disk-image "$SCRATCH/disk.img" --memory 256M --cpus 1 >/dev/null
nv="$ROOT/vms/u1/nvram.fd"
assert_match "$(qc dumpxml u1)" "<nvram>$nv</nvram>" "u1 has a varstore of its own"
qc start u1
wait_for_text "$ROOT/vms/u1/console.log" '^GUEST-READY' 240
cmp -s "$nv" /usr/share/OVMF/OVMF_VARS_4M.fd && fail "the firmware wrote no variable into $nv"
ok "the firmware wrote its boot variables into the varstore"
guest_console u1
guest_say 'i=0; while :; do i=$((i+1)); echo "TICK $i"; sleep 1; done &'
wait_for_text "$ROOT/vms/u1/console.log" 'TICK 2[^0-9]' 60
exec 7>&-

# A flash write while QEMU sent the RAM: the move is undone.
cp "$nv" "$SCRATCH/nvram.before"
QEMUCTL_TEST_HOLD=migrate-committed "$QC" --root "$ROOT" migrate u1 "$url" "${sshopts[@]}" \
	--remote-qemuctl "$SCRATCH/qemuctl-target" >"$SCRATCH/out" 2>"$SCRATCH/err" &
pid=$!
wait_until 120 test -e "$ROOT/vms/u1/.hold-migrate-committed"
# as QEMU writes one: through to the file (its last byte, in the spare block)
printf '\x5a' | dd of="$nv" bs=1 seek=$(($(stat -c %s "$nv") - 1)) conv=notrunc 2>/dev/null
rm -f "$ROOT/vms/u1/.hold-migrate-committed"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 1 ] || fail "a varstore written during the move: exit $rc: $(cat "$SCRATCH/err")"
assert_match "$(cat "$SCRATCH/err")" \
	"VM 'u1': its firmware wrote its varstore $nv while the memory was sent, which the migration does not carry; the move was undone and the VM runs on here: move it again" \
	"a varstore written during the move: the move is undone, with the reason"
wait_until 30 target_gone
ok "a varstore written during the move: the target keeps nothing"
assert_match "$(qc info u1)" 'State: +running' "a varstore written during the move: u1 runs on here"
t=$(ticks "$ROOT/vms/u1/console.log")
wait_for_text "$ROOT/vms/u1/console.log" "TICK $((t + 1))[^0-9]" 30
ok "a varstore written during the move: the counter goes on here past TICK $t"
# the file as QEMU here has the flash again
cat "$SCRATCH/nvram.before" >"$nv"

# The move.  The guest's Linux writes no variable: the varstore stays as it is now.
cp "$nv" "$SCRATCH/nvram.src"
exec 8<"$ROOT/vms/u1/console.log"
out=$(qc migrate u1 "$url" --json "${sshopts[@]}" --remote-qemuctl "$SCRATCH/qemuctl-target") ||
	fail "migrate: sshd says: $(tail -n 20 "$SSHD_LOG")"
log "move: $out"
assert_match "$out" '"mode": "running"' "the move was live"
assert_no_file "$ROOT/vms/u1"
assert_match "$("$QC" --root "$ROOT2" info u1)" 'State: +running' "u1 runs on the target"
t=$(ticks <&8)
exec 8<&-
went_on "$t" "$ROOT2/vms/u1/console.log" "the target"
assert_match "$("$QC" --root "$ROOT2" dumpxml u1)" "<nvram>$ROOT2/vms/u1/nvram.fd</nvram>" \
	"the target's definition names its own varstore"
cmp "$ROOT2/vms/u1/nvram.fd" "$SCRATCH/nvram.src" || fail "the target's varstore is not the source's last one"
ok "the target's varstore is byte for byte the source's last one"
