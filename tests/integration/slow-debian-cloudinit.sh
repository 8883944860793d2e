#!/bin/bash
# slow-debian-cloudinit: a real Debian 12 cloud guest (tests/guest/build-debian:
# debootstrap'd cloud-init, openssh-server, sudo, growpart) applies a qemuctl
# seed with its own cloud-init:
#   - deb1, qemuctl's own seed: create as an overlay with --hostname,
#     --ssh-key (a key made here) and --disk-size larger than the image;
#     `start --wait` returns on the per-boot script's "QEMUCTL-READY <iid>"
#     (info: ready after N s)
#   - `qemuctl ssh NAME -- ...` with qemuctl's own key, no setup: hostname,
#     passwordless sudo, cloud-init finished without errors, the root file
#     system grown to the disk
#   - the guest's sshd presents the host key qemuctl made for the VM and
#     handed over in the seed, and no other key; qemuctl ssh requires it
#     (StrictHostKeyChecking=yes): with another key in the VM's known_hosts
#     it fails with a host key error and the command does not run
#   - --user NAME: cloud-init makes that user (sudo, the --ssh-key key);
#     plain `ssh -i <test key>` as it to the forwarded port; `qemuctl
#     ssh-config` read by a real scp both ways (a file name with a space)
#   - graceful stop (ACPI poweroff through systemd); ready again on every
#     later boot of the same instance, where cloud-init runs no per-instance
#     module: stop + `start --wait`, and `start --wait` after `snapshot revert`
#     to a snapshot taken after the first boot
#   - deb2, a #cloud-config --user-data of the user's own with write_files,
#     runcmd and its own ssh_keys: `start --wait` (cloud-init's final message
#     counts), runcmd's marker on the console, the written file; qemuctl ssh
#     learns the key on the first connection (a warning), requires it
#     afterwards, and refuses the guest once another key is recorded; made
#     from a catalog image with create's defaults (1 GiB of RAM, the root
#     file system grown to a 10 GiB disk); after a restart, `qemuctl ssh`
#     right after `start` waits for the boot (no raw ssh errors)
# Not in TESTS: `make check-slow` (tests/slow.mk).  Needs root the first time
# (debootstrap); the image is cached under $QC_GUEST_CACHE/debian-amd64.
# QC_SLOW_ACCEL=tcg|kvm|auto (default tcg: what CI has).
. "$(dirname "$0")/lib.sh"

t_start=$SECONDS
accel=${QC_SLOW_ACCEL:-tcg}
boot_timeout=${QC_SLOW_BOOT_TIMEOUT:-900}

t0=$SECONDS
if [ ! -s "$QC_GUEST_CACHE/debian-amd64/env" ] && [ "$(id -u)" -ne 0 ]; then
	fail "no Debian guest in $QC_GUEST_CACHE/debian-amd64 and building one needs root (debootstrap): run tests/guest/build-debian as root once"
fi
"$QC_SRCDIR/tests/guest/build-debian" --out "$QC_GUEST_CACHE/debian-amd64" ||
	fail "building the Debian guest failed (tests/guest/build-debian)"
# shellcheck disable=SC1090,SC1091
. "$QC_GUEST_CACHE/debian-amd64/env"
log "Debian guest ready in $((SECONDS - t0)) s (kernel $GUEST_KERNEL_VERSION, root $GUEST_ROOT_MIB MiB)"
command -v ssh >/dev/null || fail "ssh (openssh-client) is needed"
command -v ssh-keygen >/dev/null || fail "ssh-keygen (openssh-client) is needed"

name=deb1
host=qc-deb-ci1
ssh-keygen -q -t ed25519 -N '' -C qc-slow-test -f "$SCRATCH/testkey"
disk_mib=$((GUEST_ROOT_MIB + 1024))

qc create "$name" --accel "$accel" --memory 1G --disk-image "$GUEST_ROOT" \
	--disk-size "${disk_mib}M" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND" --hostname "$host" --ssh-key "$SCRATCH/testkey.pub" \
	--user qcuser >/dev/null
ok "create $name from $GUEST_ROOT (overlay, disk ${disk_mib} MiB, accel $accel)"
vm="$ROOT/vms/$name"
assert_file "$vm/seed.iso"
iid="iid-$(sed -n "s/.*<uuid>\(.*\)<\/uuid>.*/\1/p" "$vm/domain.xml")-1"

# start_ready NAME WHAT: start --wait; sets t_ready (seconds) and checks info
start_ready() {
	local t0=$SECONDS out
	out=$(qc start "$1" --wait --timeout "$boot_timeout") || fail "$1: start --wait ($2) failed"
	t_ready=$((SECONDS - t0))
	assert_match "$out" "^VM '$1' is ready \(after [0-9]+\.[0-9] s\)$" "$1: start --wait ($2): ready after $t_ready s"
	assert_match "$(qc info "$1")" 'State: +running \(ready after [0-9.]+ ?s\)' "$1: info shows the VM ready ($2)"
}
start_ready "$name" "first boot"
t_first=$t_ready
grep -aq "QEMUCTL-READY $iid\b" "$vm/console.log" || fail "$name: no 'QEMUCTL-READY $iid' line on the console"
ok "the per-boot script printed QEMUCTL-READY $iid"

# qemuctl ssh with qemuctl's own key (sshd may still be settling)
qssh() { qc ssh "$name" -- "$@" </dev/null 2>>"$SCRATCH/ssh.err"; }
# qrun CMD...: output of CMD in the guest through qemuctl ssh, or fail
qrun() {
	local o rc=0
	o=$(qssh "$@") || rc=$?
	[ "$rc" -eq 0 ] || fail "qemuctl ssh $name -- $* exited $rc: $o $(tail -n 3 "$SCRATCH/ssh.err")"
	printf '%s\n' "$o"
}
wait_until 120 qssh true
# few ssh round trips: each costs seconds of sshd under TCG
out=$(qrun 'cat /etc/hostname; sudo -n id -u; df -m --output=size / | tail -n 1 | tr -d " "; test -x /var/lib/cloud/scripts/per-boot/qemuctl-ready && echo per-boot')
mapfile -t got <<<"$out"
assert_eq "${got[0]-}" "$host" "qemuctl ssh: /etc/hostname"
assert_eq "${got[1]-}" "0" "qemuctl ssh: passwordless sudo"
assert_eq "${got[3]-}" "per-boot" "the ready script is in cloud-init's per-boot directory"
# growpart/resizefs: the root file system fills the larger disk
size=${got[2]-0}
[ "$size" -gt $((GUEST_ROOT_MIB + 512)) ] ||
	fail "root file system is $size MiB, not grown to the ${disk_mib} MiB disk (image $GUEST_ROOT_MIB MiB)"
ok "root file system grew: $size MiB on a ${disk_mib} MiB disk (image $GUEST_ROOT_MIB MiB)"
out=$(qrun 'sudo -n cat /run/cloud-init/result.json; sudo -n cloud-init status --long')
assert_match "$(printf '%s' "$out" | tr -d ' \n')" '"errors":\[\]' "cloud-init result.json: no errors"
assert_match "$out" 'status: done' "cloud-init status: done"
assert_match "$out" 'NoCloud' "the datasource is NoCloud"

# the host key: the one qemuctl made for the VM, and only that one
vm_pub="$vm/ssh_host_ed25519_key.pub"
assert_file "$vm/known_hosts"
info=$(qc info "$name")
port=$(printf '%s\n' "$info" | sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\)->22\b.*/\1/p' | head -n 1)
[ -n "$port" ] || fail "no forwarded ssh port in 'qemuctl info $name': $info"
# (a few tries: under TCG on a busy host one scan can time out)
for try in 1 2 3 4 5; do
	scan=$(ssh-keyscan -T 60 -t ed25519 -p "$port" 127.0.0.1 2>>"$SCRATCH/keyscan.err" | grep -v '^#') && break
	sleep 5
done
[ -n "$scan" ] || fail "ssh-keyscan 127.0.0.1:$port: no key after $try tries: $(tail -n 5 "$SCRATCH/keyscan.err")"
assert_eq "$(printf '%s\n' "$scan" | cut -d' ' -f2,3)" "$(cut -d' ' -f1,2 "$vm_pub")" \
	"the guest's sshd presents the key in $vm_pub (ssh-keyscan)"
assert_eq "$(printf '%s\n' "$scan" | ssh-keygen -lf - | cut -d' ' -f2)" \
	"$(ssh-keygen -lf "$vm_pub" | cut -d' ' -f2)" "host key fingerprints match"
out=$(qrun 'ls /etc/ssh/ | grep "^ssh_host_" | tr "\n" " "')
assert_eq "$out" "ssh_host_ed25519_key ssh_host_ed25519_key.pub " "the image's own host keys are gone"
# another key in known_hosts: qemuctl ssh refuses the guest and runs nothing
cp "$vm/known_hosts" "$SCRATCH/known_hosts.good"
ssh-keygen -q -t ed25519 -N '' -C other -f "$SCRATCH/otherkey"
printf 'qemuctl-%s %s\n' "$name" "$(cut -d' ' -f1,2 "$SCRATCH/otherkey.pub")" >"$vm/known_hosts"
rc=0
qc ssh "$name" -- touch /tmp/qc-slow-must-not-run </dev/null >/dev/null 2>"$SCRATCH/mismatch.err" || rc=$?
cp "$SCRATCH/known_hosts.good" "$vm/known_hosts"
[ "$rc" -ne 0 ] || fail "qemuctl ssh accepted a host key that known_hosts does not list"
grep -q 'Host key verification failed' "$SCRATCH/mismatch.err" ||
	fail "qemuctl ssh with a wrong known_hosts: no host key error: $(cat "$SCRATCH/mismatch.err")"
ok "another key in known_hosts: qemuctl ssh fails (exit $rc): $(grep -m1 -E 'IDENTIFICATION|verification' "$SCRATCH/mismatch.err")"
assert_eq "$(qrun 'test -e /tmp/qc-slow-must-not-run && echo ran || echo absent')" absent \
	"the refused command did not run"

# where the boot time goes (for the report; not asserted)
qssh 'systemd-analyze; systemd-analyze blame | head -n 12' || true

# plain ssh with the test's own key to the forwarded port
# info lists the NIC as "net0 user MAC tcp 127.0.0.1:PORT->22"
info=$(qc info "$name")
port=$(printf '%s\n' "$info" | sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\)->22\b.*/\1/p' | head -n 1)
[ -n "$port" ] || fail "no forwarded ssh port in 'qemuctl info $name': $info"
sshopts=(-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=20
	-i "$SCRATCH/testkey" -p "$port")
out=$(ssh "${sshopts[@]}" "qcuser@127.0.0.1" id -un </dev/null) ||
	fail "ssh -i testkey qcuser@127.0.0.1:$port failed"
assert_eq "$out" "qcuser" "ssh -i <test key> as the --user qcuser (port $port)"

# ssh-config: a Host block that a real scp reads
qc ssh-config "$name" >"$SCRATCH/deb1.cfg"
assert_match "$(cat "$SCRATCH/deb1.cfg")" $'^Host deb1\n  HostName 127\.0\.0\.1\n  Port [0-9]+\n  User qcuser\n' "ssh-config: Host block with the user"
echo "deb1-$$" >"$SCRATCH/up file.txt"
scp -F "$SCRATCH/deb1.cfg" -o BatchMode=yes "$SCRATCH/up file.txt" "$name:up file.txt" </dev/null ||
	fail "scp up to $name failed"
assert_eq "$(ssh -F "$SCRATCH/deb1.cfg" -o BatchMode=yes "$name" cat "'up file.txt'" </dev/null)" "deb1-$$" \
	"scp -F ssh-config: up, a name with a space (read back with ssh -F)"
rm -f "$SCRATCH/up file.txt"
scp -F "$SCRATCH/deb1.cfg" -o BatchMode=yes "$name:/etc/hostname" "$name:up file.txt" "$SCRATCH/" </dev/null ||
	fail "scp down from $name failed"
assert_eq "$(cat "$SCRATCH/hostname")" "$host" "scp -F ssh-config: /etc/hostname down"
assert_eq "$(cat "$SCRATCH/up file.txt")" "deb1-$$" "scp -F ssh-config: the file with a space down"

# a graceful stop: systemd powers off on the ACPI button
t0=$SECONDS
qc stop "$name" --timeout 180 >/dev/null
info=$(qc info "$name")
assert_match "$info" 'Last exit: +poweroff: guest-shutdown' "stopped by the guest's own poweroff (systemd on the ACPI button)"
ok "graceful stop in $((SECONDS - t0)) s"

# later boots of the same instance: cloud-init runs no per-instance module
# (a runcmd would not run again), the per-boot script prints the marker
qc snapshot create "$name" booted >/dev/null
start_ready "$name" "restart"
t_restart=$t_ready
grep -aq "QEMUCTL-READY $iid\b" "$vm/console.log" || fail "$name: no 'QEMUCTL-READY $iid' line on the second boot's console"
assert_eq "$(qrun 'sudo -n cat /var/lib/cloud/data/instance-id')" "$iid" "restart: the same instance"
qc stop "$name" --timeout 180 >/dev/null
qc snapshot revert "$name" booted >/dev/null
start_ready "$name" "after snapshot revert"
t_revert=$t_ready
grep -aq "QEMUCTL-READY $iid\b" "$vm/console.log" || fail "$name: no 'QEMUCTL-READY $iid' line after the revert"
qc destroy "$name" >/dev/null
qc delete "$name" >/dev/null
assert_no_file "$vm"

# a user-data with host keys of its own: learned on first use, then required
name2=deb2
vm2="$ROOT/vms/$name2"
ssh-keygen -q -t ed25519 -N '' -C own-host-key -f "$SCRATCH/ownhost"
mark="cloud-init-wrote-$$-$RANDOM"
{
	cat <<EOF
#cloud-config
write_files:
  - path: /etc/qc-slow-test
    permissions: '0644'
    content: |
      $mark
runcmd:
  - [ sh, -c, 'echo "QC-SLOW-RUNCMD host=\$(hostname) file=\$(cat /etc/qc-slow-test)" >/dev/console' ]
EOF
	printf 'ssh_keys:\n  ed25519_private: |\n'
	sed 's/^/    /' "$SCRATCH/ownhost"
	printf '  ed25519_public: %s\n' "$(cat "$SCRATCH/ownhost.pub")"
} >"$SCRATCH/own-keys.yaml"
# (made from a catalog image with the defaults: no --memory, no --disk-size)
qc image import debian12 "$GUEST_ROOT" --arch amd64 >/dev/null
qc create "$name2" --accel "$accel" --image debian12 \
	--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--user-data "$SCRATCH/own-keys.yaml" >/dev/null
assert_no_file "$vm2/known_hosts"
start_ready "$name2" "first boot, user-data of its own"
t_first2=$t_ready
# cloud-init's runcmd (final stage) prints the marker on the serial console
wait_for_text "$vm2/console.log" "QC-SLOW-RUNCMD host=$name2 file=$mark" 120
ok "runcmd ran after write_files and set-hostname"
wait_for_text "$vm2/console.log" 'Cloud-init v\. .* finished at' 120
ok "cloud-init final message on the console"
first() { qc ssh "$name2" -- true </dev/null 2>>"$SCRATCH/first.err"; }
wait_until 120 first
assert_match "$(cat "$SCRATCH/first.err")" "warning: VM '$name2': qemuctl did not give this guest its ssh host key" \
	"first use: a warning"
assert_eq "$(cat "$vm2/known_hosts.tofu")" "qemuctl-$name2 $(cut -d' ' -f1,2 "$SCRATCH/ownhost.pub")" \
	"first use: the key the user-data set, recorded in clear under qemuctl-$name2"
out=$(qc ssh "$name2" -- cat /etc/qc-slow-test </dev/null 2>"$SCRATCH/second.err") || fail "second qemuctl ssh $name2 failed: $(cat "$SCRATCH/second.err")"
assert_eq "$out" "$mark" "second connection with the recorded key: the write_files file"
assert_eq "$(cat "$SCRATCH/second.err")" "" "no warning once the key is recorded"
# the defaults for a cloud image: 1 GiB of RAM, the root grown to a 10 GiB disk
out=$(qc ssh "$name2" -- 'sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo; df -m --output=size / | tail -n 1 | tr -d " "' </dev/null)
mapfile -t got <<<"$out"
[ "${got[0]-0}" -gt $((900 * 1024)) ] && [ "${got[0]-0}" -le $((1024 * 1024)) ] ||
	fail "MemTotal is ${got[0]-?} kB, not about 1 GiB (the --image default)"
ok "1 GiB of RAM by default: MemTotal ${got[0]} kB"
[ "${got[1]-0}" -gt 9000 ] || fail "root file system is ${got[1]-?} MiB, not grown to the 10 GiB default disk"
ok "root file system grew to the 10 GiB default disk: ${got[1]} MiB"
cp "$vm2/known_hosts.tofu" "$SCRATCH/tofu.good"
printf 'qemuctl-%s %s\n' "$name2" "$(cut -d' ' -f1,2 "$SCRATCH/otherkey.pub")" >"$vm2/known_hosts.tofu"
rc=0
qc ssh "$name2" -- true </dev/null >/dev/null 2>"$SCRATCH/changed.err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'Host key verification failed' "$SCRATCH/changed.err" ||
	fail "qemuctl ssh accepted a changed key after first use (exit $rc): $(cat "$SCRATCH/changed.err")"
ok "a changed key after first use is refused (exit $rc)"
cp "$SCRATCH/tofu.good" "$vm2/known_hosts.tofu"
# a restart: qemuctl ssh right after start waits for the boot (the ready
# marker of a user-data of its own: cloud-init's final message, every boot)
qc stop "$name2" --timeout 180 >/dev/null
t0=$SECONDS
qc start "$name2"
out=$(qc ssh "$name2" --timeout "$boot_timeout" -- 'cat /etc/qc-slow-test' </dev/null 2>"$SCRATCH/restart2.err") ||
	fail "qemuctl ssh $name2 right after start failed: $(cat "$SCRATCH/restart2.err")"
t_restart2=$((SECONDS - t0))
assert_eq "$out" "$mark" "restart, user-data of its own: ssh right after start waited $t_restart2 s for the boot"
grep -q kex_exchange "$SCRATCH/restart2.err" && fail "raw ssh errors while booting: $(cat "$SCRATCH/restart2.err")"
assert_match "$(qc info "$name2")" 'State: +running \(ready after [0-9.]+ ?s\)' "$name2: info shows the VM ready after the restart"
qc destroy "$name2" >/dev/null
qc delete "$name2" >/dev/null
qc image rm debian12 >/dev/null
log "timings (start --wait to ready, accel $accel): $name first boot ${t_first} s, restart ${t_restart} s, after snapshot revert ${t_revert} s; $name2 first boot ${t_first2} s, restart ${t_restart2} s; total $((SECONDS - t_start)) s"
