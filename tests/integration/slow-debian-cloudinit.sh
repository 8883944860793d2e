#!/bin/bash
# slow-debian-cloudinit: a real Debian 12 cloud guest (tests/guest/build-debian:
# debootstrap'd cloud-init, openssh-server, sudo, growpart) applies a qemuctl
# seed with its own cloud-init:
#   - create as an overlay with --hostname, --ssh-key (a key made here),
#     --disk-size larger than the image and a #cloud-config --user-data with
#     write_files and runcmd; start
#   - runcmd's marker on the serial console (hostname and the written file)
#   - `qemuctl ssh NAME -- ...` with qemuctl's own key, no setup: hostname,
#     the written file, passwordless sudo, cloud-init finished without errors,
#     the root file system grown to the disk
#   - the guest's sshd presents the host key qemuctl made for the VM and
#     handed over in the seed's vendor-data (ssh-keyscan, fingerprints), and
#     no other key; qemuctl ssh requires it (StrictHostKeyChecking=yes): with
#     another key in the VM's known_hosts it fails with a host key error and
#     the command does not run
#   - a second VM whose --user-data sets its own ssh_keys: qemuctl ssh learns
#     the key on the first connection (a warning), requires it afterwards,
#     and refuses the guest once another key is recorded; it is made from a
#     catalog image with create's defaults (1 GiB of RAM, the root file
#     system grown to a 10 GiB disk)
#   - plain `ssh -i <test key>` to the forwarded port as the image's default
#     user (debian), which is also the seed's default user for root
#   - `qemuctl wait` / info ready when this qemuctl has them
#   - graceful stop (ACPI poweroff through systemd), delete
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
mark="cloud-init-wrote-$$-$RANDOM"
ssh-keygen -q -t ed25519 -N '' -C qc-slow-test -f "$SCRATCH/testkey"
cat >"$SCRATCH/user-data" <<EOF
#cloud-config
write_files:
  - path: /etc/qc-slow-test
    permissions: '0644'
    content: |
      $mark
runcmd:
  - [ sh, -c, 'echo "QC-SLOW-RUNCMD host=\$(hostname) file=\$(cat /etc/qc-slow-test)" >/dev/console' ]
EOF
disk_mib=$((GUEST_ROOT_MIB + 1024))

qc create "$name" --accel "$accel" --memory 1G --disk-image "$GUEST_ROOT" \
	--disk-size "${disk_mib}M" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND" --hostname "$host" --ssh-key "$SCRATCH/testkey.pub" \
	--user-data "$SCRATCH/user-data" >/dev/null
ok "create $name from $GUEST_ROOT (overlay, disk ${disk_mib} MiB, accel $accel)"
vm="$ROOT/vms/$name"
assert_file "$vm/seed.iso"

have_wait=0
if "$QC" --help 2>&1 | grep -Eq '^ +wait '; then
	have_wait=1
fi

t_boot=$SECONDS
qc start "$name"
ok "start $name"
if [ "$have_wait" = 1 ]; then
	qc wait "$name" --timeout "$boot_timeout" >/dev/null ||
		fail "qemuctl wait $name failed"
	ok "qemuctl wait: ready after $((SECONDS - t_boot)) s"
	info=$(qc info "$name")
	log "info: $(printf '%s\n' "$info" | grep -i ready | head -n 1)"
	assert_match "$info" 'ready after [0-9.]+ ?s' "info shows the VM ready"
fi
# cloud-init's runcmd (final stage) prints the marker on the serial console
wait_for_text "$vm/console.log" "QC-SLOW-RUNCMD host=$host file=$mark" "$boot_timeout"
t_ready=$((SECONDS - t_boot))
ok "runcmd ran after write_files and set-hostname: marker on the console after $t_ready s"
wait_for_text "$vm/console.log" 'Cloud-init v\. .* finished at' 120
ok "cloud-init final message on the console"

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
out=$(qrun 'cat /etc/hostname; cat /etc/qc-slow-test; sudo -n id -u; df -m --output=size / | tail -n 1 | tr -d " "')
mapfile -t got <<<"$out"
assert_eq "${got[0]-}" "$host" "qemuctl ssh: /etc/hostname"
assert_eq "${got[1]-}" "$mark" "qemuctl ssh: the write_files file"
assert_eq "${got[2]-}" "0" "qemuctl ssh: passwordless sudo"
# growpart/resizefs: the root file system fills the larger disk
size=${got[3]-0}
[ "$size" -gt $((GUEST_ROOT_MIB + 512)) ] ||
	fail "root file system is $size MiB, not grown to the ${disk_mib} MiB disk (image $GUEST_ROOT_MIB MiB)"
ok "root file system grew: $size MiB on a ${disk_mib} MiB disk (image $GUEST_ROOT_MIB MiB)"
out=$(qrun 'sudo -n cat /run/cloud-init/result.json; sudo -n cloud-init status --long')
assert_match "$(printf '%s' "$out" | tr -d ' \n')" '"errors":\[\]' "cloud-init result.json: no errors"
assert_match "$out" 'status: done' "cloud-init status: done"
assert_match "$out" 'NoCloud' "the datasource is NoCloud"

# the host key: the one qemuctl made for the VM, handed over in vendor-data
# next to the --user-data, and only that one
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
# (no --user as root: the seed's user is debian, merged with the image's own)
for user in debian; do
	out=$(ssh "${sshopts[@]}" "$user@127.0.0.1" cat /etc/qc-slow-test </dev/null) ||
		fail "ssh -i testkey $user@127.0.0.1:$port failed"
	assert_eq "$out" "$mark" "ssh -i <test key> as $user (port $port)"
done

# a graceful stop: systemd powers off on the ACPI button
t0=$SECONDS
qc stop "$name" --timeout 180 >/dev/null
info=$(qc info "$name")
assert_match "$info" 'Last exit: +poweroff: guest-shutdown' "stopped by the guest's own poweroff (systemd on the ACPI button)"
ok "graceful stop in $((SECONDS - t0)) s"
qc delete "$name" >/dev/null
assert_no_file "$vm"

# a user-data with host keys of its own: learned on first use, then required
name2=deb2
vm2="$ROOT/vms/$name2"
ssh-keygen -q -t ed25519 -N '' -C own-host-key -f "$SCRATCH/ownhost"
{
	printf '#cloud-config\nssh_keys:\n  ed25519_private: |\n'
	sed 's/^/    /' "$SCRATCH/ownhost"
	printf '  ed25519_public: %s\n' "$(cat "$SCRATCH/ownhost.pub")"
} >"$SCRATCH/own-keys.yaml"
# (made from a catalog image with the defaults: no --memory, no --disk-size)
qc image import debian12 "$GUEST_ROOT" --arch amd64 >/dev/null
qc create "$name2" --accel "$accel" --image debian12 \
	--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--user-data "$SCRATCH/own-keys.yaml" >/dev/null
assert_no_file "$vm2/known_hosts"
t_boot=$SECONDS
qc start "$name2"
wait_for_text "$vm2/console.log" 'Cloud-init v\. .* finished at' "$boot_timeout"
ok "$name2 booted in $((SECONDS - t_boot)) s"
first() { qc ssh "$name2" -- true </dev/null 2>>"$SCRATCH/first.err"; }
wait_until 120 first
assert_match "$(cat "$SCRATCH/first.err")" "warning: VM '$name2': qemuctl did not give this guest its ssh host key" \
	"first use: a warning"
assert_eq "$(cat "$vm2/known_hosts.tofu")" "qemuctl-$name2 $(cut -d' ' -f1,2 "$SCRATCH/ownhost.pub")" \
	"first use: the key the user-data set, recorded in clear under qemuctl-$name2"
out=$(qc ssh "$name2" -- echo again </dev/null 2>"$SCRATCH/second.err") || fail "second qemuctl ssh $name2 failed: $(cat "$SCRATCH/second.err")"
assert_eq "$out" again "second connection with the recorded key"
assert_eq "$(cat "$SCRATCH/second.err")" "" "no warning once the key is recorded"
# the defaults for a cloud image: 1 GiB of RAM, the root grown to a 10 GiB disk
out=$(qc ssh "$name2" -- 'sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo; df -m --output=size / | tail -n 1 | tr -d " "' </dev/null)
mapfile -t got <<<"$out"
[ "${got[0]-0}" -gt $((900 * 1024)) ] && [ "${got[0]-0}" -le $((1024 * 1024)) ] ||
	fail "MemTotal is ${got[0]-?} kB, not about 1 GiB (the --image default)"
ok "1 GiB of RAM by default: MemTotal ${got[0]} kB"
[ "${got[1]-0}" -gt 9000 ] || fail "root file system is ${got[1]-?} MiB, not grown to the 10 GiB default disk"
ok "root file system grew to the 10 GiB default disk: ${got[1]} MiB"
printf 'qemuctl-%s %s\n' "$name2" "$(cut -d' ' -f1,2 "$SCRATCH/otherkey.pub")" >"$vm2/known_hosts.tofu"
rc=0
qc ssh "$name2" -- true </dev/null >/dev/null 2>"$SCRATCH/changed.err" || rc=$?
[ "$rc" -ne 0 ] && grep -q 'Host key verification failed' "$SCRATCH/changed.err" ||
	fail "qemuctl ssh accepted a changed key after first use (exit $rc): $(cat "$SCRATCH/changed.err")"
ok "a changed key after first use is refused (exit $rc)"
qc destroy "$name2" >/dev/null
qc delete "$name2" >/dev/null
# ---- begin: --user and ssh-config (a third VM) ---------------------------------
#   - create --user NAME: cloud-init makes that user (sudo, qemuctl's key);
#     qemuctl ssh, right after start, waits for the boot and logs in as it
#   - scp -F FILE (from qemuctl ssh-config NAME) both ways, a file name with
#     spaces; ssh -F FILE
name3=deb3
qc create "$name3" --accel "$accel" --memory 1G --disk-image "$GUEST_ROOT" \
	--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--user qcuser >/dev/null
t_boot=$SECONDS
qc start "$name3"
out=$(qc ssh "$name3" --timeout "$boot_timeout" -- 'id -un; sudo -n true && echo sudo-ok' </dev/null 2>"$SCRATCH/deb3.err") ||
	fail "qemuctl ssh $name3 right after start failed: $(cat "$SCRATCH/deb3.err")"
assert_eq "$out" $'qcuser\nsudo-ok' "ssh right after start waited $((SECONDS - t_boot)) s for the boot, then logged in as --user qcuser with sudo"
grep -q kex_exchange "$SCRATCH/deb3.err" && fail "raw ssh errors while booting: $(cat "$SCRATCH/deb3.err")"
qc ssh-config "$name3" >"$SCRATCH/deb3.cfg"
assert_match "$(cat "$SCRATCH/deb3.cfg")" $'^Host deb3\n  HostName 127\.0\.0\.1\n  Port [0-9]+\n  User qcuser\n' "ssh-config: Host block with the user"
echo "deb3-$$" >"$SCRATCH/up file.txt"
scp -F "$SCRATCH/deb3.cfg" -o BatchMode=yes "$SCRATCH/up file.txt" "$name3:up file.txt" </dev/null ||
	fail "scp up to $name3 failed"
assert_eq "$(ssh -F "$SCRATCH/deb3.cfg" -o BatchMode=yes "$name3" cat "'up file.txt'" </dev/null)" "deb3-$$" \
	"scp -F ssh-config: up, a name with a space (read back with ssh -F)"
scp -F "$SCRATCH/deb3.cfg" -o BatchMode=yes "$name3:/etc/hostname" "$name3:up file.txt" "$SCRATCH/" </dev/null ||
	fail "scp down from $name3 failed"
assert_eq "$(cat "$SCRATCH/hostname")" "$name3" "scp -F ssh-config: /etc/hostname down"
assert_eq "$(cat "$SCRATCH/up file.txt")" "deb3-$$" "scp -F ssh-config: the file with a space down"
qc destroy "$name3" >/dev/null
qc delete "$name3" >/dev/null
# ---- end: --user and ssh-config ----------------------------------------------------

qc image rm debian12 >/dev/null
log "timings: boot-to-runcmd ${t_ready} s, total $((SECONDS - t_start)) s (accel $accel)"
