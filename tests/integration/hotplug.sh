#!/bin/bash
# Hot-plug with the tiny guest: attach-disk/attach-net on a
# stopped VM (recorded for the next start) and on a running one (QMP; the
# guest sees vdb / eth1 in /sys/block and /sys/class/net, asked through the
# console), both survive a restart; detach-disk/detach-net live (the guest
# releases the device); bad input with exact messages and the state root
# unchanged.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
vm="$ROOT/vms/h1"
# ask N MARK: the guest lists its block devices and NICs once /sys/block/... settles
ask() {
	guest_say "sleep ${2:-0}; echo $1 BLK=\$(ls /sys/block | tr '\\n' ' ') NET=\$(ls /sys/class/net | tr '\\n' ' ')"
	wait_for_text "$SCRATCH/con$con_n.out" "^$1 BLK=" 30
	grep -a "^$1 BLK=" "$SCRATCH/con$con_n.out" | tail -1
}
# wait_dev PATH MARK: poll in the guest until PATH exists (or 20 s)
wait_dev() {
	guest_say "i=0; while [ ! -e $1 ] && [ \$i -lt 40 ]; do sleep 0.5; i=\$((i+1)); done; echo $2 \$(ls -d $1 2>/dev/null || echo missing)"
	wait_for_text "$SCRATCH/con$con_n.out" "^$2 " 30
	grep -a "^$2 " "$SCRATCH/con$con_n.out" | tail -1
}
wait_gone() {
	guest_say "i=0; while [ -e $1 ] && [ \$i -lt 40 ]; do sleep 0.5; i=\$((i+1)); done; echo $2 \$(ls -d $1 2>/dev/null || echo gone)"
	wait_for_text "$SCRATCH/con$con_n.out" "^$2 " 30
	grep -a "^$2 " "$SCRATCH/con$con_n.out" | tail -1
}

qc create h1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
ok "create h1"

# ---- bad input: nothing changes
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "VM 'h1' has no disk 'nope' \(disks: disk0, seed\)" qc detach-disk h1 nope
expect_fail 1 "VM 'h1': disk 'disk0' is the root disk; only data disks can be detached" qc detach-disk h1 disk0
expect_fail 1 "VM 'h1': disk 'seed' is the seed disk" qc detach-disk h1 seed
expect_fail 1 "VM 'h1' has no NIC 'net7' \(NICs: net0\)" qc detach-net h1 net7
expect_fail 1 "attach-disk '0': too small, at least 1M" qc attach-disk h1 0
expect_fail 1 "$SCRATCH/missing.img" qc attach-disk h1 "$SCRATCH/missing.img"
expect_fail 1 "VM 'h1' uses '$img' already" qc attach-disk h1 "$img"
expect_fail 1 "attach-net 'none': nothing to attach" qc attach-net h1 none
expect_fail 1 "bogus" qc attach-net h1 bogus=1
expect_fail 1 "VM 'ghost' does not exist" qc attach-disk ghost 1G
expect_fail 2 "usage: qemuctl attach-disk NAME SIZE\|FILE" qc attach-disk h1
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "state root unchanged by refused hot-plug commands"

# ---- stopped VM: recorded for the next start
out=$(qc attach-disk h1 8M)
assert_match "$out" "Disk 'disk1' attached to VM 'h1' \(VM stopped: recorded, the VM gets it at its next start\)" "attach-disk on a stopped VM is recorded"
assert_file "$vm/disk1.qcow2"
assert_match "$(qc dumpxml h1)" "disk1\.qcow2" "domain.xml has disk1"

guest_boot h1
line=$(ask COLD1)
assert_match "$line" 'BLK=.*vdb' "guest sees the disk recorded while stopped"

# fwd_port NIC [VM]: the host port info shows for NIC's forward of guest port 22
fwd_port() { qc info "${2:-h1}" | grep -Eo "$1 user .*tcp 127\.0\.0\.1:[0-9]+->22" | sed -E 's/.*:([0-9]+)->22$/\1/'; }
state_ports() { python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["ports"])' "$vm/state.json"; }
# usernet: QEMU's "info usernet", one line per netdev: "hostnet-NIC PORT..." (host ports forwarded)
usernet() {
	qc qmp h1 '{"execute":"human-monitor-command","arguments":{"command-line":"info usernet"}}' |
		python3 -c 'import json,re,sys
for hub in json.load(sys.stdin)["return"].split("Hub")[1:]:
	m = re.search(r"\((hostnet-[^)]*)\)", hub)
	print(m.group(1) if m else "?", *re.findall(r"HOST_FORWARD\]\s+\S+\s+\S+\s+(\d+)", hub))'
}
# assert_qemu_port PORT NIC: QEMU (state.json's qemu_pid) listens on 127.0.0.1:PORT for NIC's netdev
assert_qemu_port() {
	local qpid
	qpid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["qemu_pid"])' "$vm/state.json")
	assert_match "$(ss -Hltnp "sport = :$1")" "127\.0\.0\.1:$1 .*pid=$qpid," "$2: QEMU (pid $qpid) listens on port $1"
	assert_match "$(usernet)" "^hostnet-$2( [0-9]+)* $1( |\$)" "$2: QEMU's usernet forwards port $1"
	(exec 3<>"/dev/tcp/127.0.0.1/$1") || fail "$2: host port $1 refuses a connection"
	ok "$2: host port $1 accepts a connection"
}

# devs: the run's disks and NICs, as stats shows them and as state.json publishes them (the same)
devs() {
	qc --json stats h1 | python3 -c 'import json, sys
def names(v):
	return " ".join([d["name"] for d in v["disks"]] + ["/"] + [n["name"] for n in v["nics"]])
st, pub = names(json.load(sys.stdin)["vms"][0]), names(json.load(open(sys.argv[1]))["devices"])
print(st if st == pub else "stats shows %s, state.json publishes %s" % (st, pub))' "$vm/state.json"
}

# ---- running VM: live attach seen by the guest
out=$(qc attach-disk h1 16M)
assert_match "$out" "Disk 'disk2' attached to VM 'h1' \(live\)" "live attach-disk"
assert_match "$(wait_dev /sys/block/vdc HOT1)" 'HOT1 /sys/block/vdc' "guest sees the hot-plugged disk as vdc"
guest_say 'cat /sys/block/vdc/size'
wait_for_text "$SCRATCH/con$con_n.out" '^32768' 20
ok "hot-plugged disk has 16M (32768 sectors)"
out=$(qc --json attach-net h1 user)
assert_match "$out" '"nic": "net1"' "live attach-net (json)"
assert_match "$out" '"live": true' "attach-net was live"
assert_match "$(wait_dev /sys/class/net/eth1 HOT2)" 'HOT2 /sys/class/net/eth1' "guest sees the hot-plugged NIC as eth1"
assert_match "$(qc dumpxml h1)" "nic-net1|net1" "domain.xml has net1"
assert_match "$(devs)" "^disk0 seed disk1 disk2 / net0 net1\$" "stats and state.json: the hot-plugged disk2 and net1"

# ---- restart: both still there
qc stop h1 --timeout 60
exec 7>&-
guest_boot h1
line=$(ask COLD2)
assert_match "$line" 'BLK=.*vdb vdc' "after restart the guest has vdb and vdc"
assert_match "$line" 'NET=.*eth0 eth1' "after restart the guest has eth0 and eth1"
# the restart chose fresh ports for net0 and net1 (the hot-plugged one now in the definition)
assert_match "$(state_ports)" "^[0-9]+ $(fwd_port net1)\$" "after restart: state.json has net0's and net1's ports"
assert_qemu_port "$(fwd_port net1)" net1

# ---- live detach of devices plugged live: the guest releases them
out=$(qc attach-disk h1 8M)
assert_match "$out" "Disk 'disk3' attached to VM 'h1' \(live\)" "live attach-disk disk3"
assert_match "$(wait_dev /sys/block/vdd HOT3)" 'HOT3 /sys/block/vdd' "guest sees disk3 as vdd"
out=$(qc detach-disk h1 disk3)
assert_match "$out" "Disk 'disk3' detached from VM 'h1' \(live\)" "live detach-disk"
assert_match "$(wait_gone /sys/block/vdd GONE1)" 'GONE1 gone' "guest no longer has vdd"
assert_file "$vm/disk3.qcow2"
expect_fail 1 "VM 'h1' has no disk 'disk3'" qc detach-disk h1 disk3
qc attach-net h1 user >/dev/null
assert_match "$(wait_dev /sys/class/net/eth2 HOT4)" 'HOT4 /sys/class/net/eth2' "guest sees net2 as eth2"
assert_match "$(devs)" "^disk0 seed disk1 disk2 / net0 net1 net2\$" "stats and state.json: disk3 gone after its detach, net2 plugged"
# The hot-plugged user NIC's automatic forward of guest port 22: recorded in
# the run's state after the ports of net0 and net1, shown by info (text and
# JSON), and QEMU's own listener (ss names the owner; a connection is accepted).
p2=$(fwd_port net2)
[ -n "$p2" ] || fail "info shows no host port for net2: $(qc info h1 | grep net2)"
ok "info shows net2's host port $p2"
assert_eq "$(qc --json info h1 | python3 -c 'import json, sys
n = [n for n in json.load(sys.stdin)["nics"] if n["name"] == "net2"][0]
print(n["mode"], n["forwards"][0]["proto"], n["forwards"][0]["host_address"],
      n["forwards"][0]["host_port"], n["forwards"][0]["guest_port"])')" "user tcp 127.0.0.1 $p2 22" \
	"info --json shows net2's port"
assert_match "$(state_ports)" "^[0-9]+ [0-9]+ $p2\$" "state.json ports: net0, net1, then net2's"
assert_qemu_port "$p2" net2
out=$(qc detach-net h1 net2)
assert_match "$out" "NIC 'net2' detached from VM 'h1' \(live\)" "live detach-net"
assert_match "$(wait_gone /sys/class/net/eth2 GONE2)" 'GONE2 gone' "guest no longer has eth2"
assert_match "$(devs)" "/ net0 net1\$" "stats and state.json: net2 gone after its detach"
# detach forgets the port: info, state.json and QEMU
info=$(qc info h1)
! grep -q net2 <<<"$info" || fail "info still lists net2: $info"
assert_match "$(state_ports)" "^[0-9]+ [0-9]+\$" "state.json ports: net2's dropped"
! usernet | grep -q hostnet-net2 || fail "QEMU still forwards for net2: $(usernet)"
! (exec 3<>"/dev/tcp/127.0.0.1/$p2") 2>/dev/null || fail "host port $p2 still accepts after detach"
ok "QEMU closed host port $p2"
# re-attach: a fresh record in net2's place, nothing stale; detach again
qc attach-net h1 user,hostfwd=tcp::0-:80 >/dev/null
p3=$(fwd_port net2)
assert_match "$(qc info h1)" "net2 user [0-9a-f:]+ tcp 127\.0\.0\.1:[0-9]+->80 tcp 127\.0\.0\.1:$p3->22" "re-attached net2 with both forwards"
assert_match "$(state_ports)" "^[0-9]+ [0-9]+ [0-9]+ $p3\$" "state.json ports: net2's two, no stale entry"
assert_qemu_port "$p3" net2
assert_match "$(wait_dev /sys/class/net/eth2 HOT6)" 'HOT6 /sys/class/net/eth2' "guest sees the re-attached net2"
qc detach-net h1 net2 >/dev/null
assert_match "$(state_ports)" "^[0-9]+ [0-9]+\$" "state.json ports: the re-attached net2's dropped"
assert_match "$(wait_gone /sys/class/net/eth2 GONE3)" 'GONE3 gone' "guest no longer has eth2 (again)"
# devices plugged at start sit on q35's root bus: refused live, nothing changed
before=$(tree_digest "$ROOT" --running | sha256sum)
expect_fail 1 "VM 'h1': device 'disk-disk2' was plugged in at start on the machine's root bus, which cannot unplug it; detach it while the VM is stopped" qc detach-disk h1 disk2
assert_eq "$(tree_digest "$ROOT" --running | sha256sum)" "$before" "state root unchanged by the refused live detach"
# a file attached in place, live
qemu-img create -q -f qcow2 "$SCRATCH/user.qcow2" 4M
# as root, QEMU runs as the qemuctl user: the user's file must be writable by it
[ "$(id -u)" -ne 0 ] || chmod 0666 "$SCRATCH/user.qcow2"
out=$(qc attach-disk h1 "$SCRATCH/user.qcow2")
assert_match "$out" "attached to VM 'h1' \(live\)" "live attach of a user FILE"
assert_match "$(wait_dev /sys/block/vdd HOT5)" 'HOT5 /sys/block/vdd' "guest sees the user file as vdd"
qc stop h1 --timeout 60
exec 7>&-

# ---- stopped: detach is recorded, the next start lacks them
out=$(qc detach-disk h1 disk2)
assert_match "$out" "Disk 'disk2' detached from VM 'h1' \(VM stopped: removed from its definition\)" "detach-disk on a stopped VM"
qc detach-net h1 net1 >/dev/null
guest_boot h1
line=$(ask COLD3)
assert_match "$line" 'BLK=sr0 vda vdb vdc NET=' "after restart: root, disk1 and the user file only"
assert_match "$line" 'NET=eth0 lo' "after restart: one NIC"

# ---- ssh uses a hot-plugged NIC when it is the one forwarding guest port 22;
# host ports are checked on the address the forward binds (p1 stays paused:
# QEMU takes the NIC without a guest running)
qc create p1 --kernel "$GUEST_KERNEL" --no-seed --net none --memory 128M --cpus 1 >/dev/null
qc start p1 --paused
expect_fail 1 "VM 'p1' has no address qemuctl knows" qc ssh p1
p0=$(fwd_port net0)
expect_fail 1 "^qemuctl: error: VM 'p1': NIC 'net0': hostfwd tcp:127\.0\.0\.1:$p0-:22: host port $p0 is in use; pick another HOSTPORT \(0 picks a free one\)\$" \
	qc attach-net p1 "user,hostfwd=tcp::$p0-:22"
expect_fail 1 "^qemuctl: error: VM 'p1': NIC 'net0': hostfwd tcp:192\.0\.2\.1:0-:22: 192\.0\.2\.1 is not an address of this host" \
	qc attach-net p1 "user,hostfwd=tcp:192.0.2.1:0-:22"
assert_eq "$(grep -c '<interface' "$ROOT/vms/p1/domain.xml")" 0 "refused attach-net: no NIC recorded"
qc attach-net p1 user >/dev/null
pp=$(fwd_port net0 p1)
[ -n "$pp" ] || fail "info shows no host port for p1's net0: $(qc info p1)"
mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/ssh.args"\n' "$SCRATCH" >"$SCRATCH/bin/ssh"
chmod +x "$SCRATCH/bin/ssh"
# ssh refuses a paused guest; p1 has no seed, so no ready marker to wait for
expect_fail 1 "VM 'p1' is paused: its guest cannot answer ssh; resume it with 'qemuctl resume p1'" qc ssh p1 -- true
qc resume p1
PATH="$SCRATCH/bin:$PATH" qc ssh p1 -- true
assert_match "$(tr '\n' ' ' <"$SCRATCH/ssh.args")" "^-l [a-z_][a-z0-9_-]* -p $pp .* -- 127\.0\.0\.1 true \$" "ssh goes to the hot-plugged NIC's port $pp"
qc destroy p1
# the monitor's own last write (exit) kept the port the hot-plug recorded
assert_eq "$(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["ports"])' "$ROOT/vms/p1/state.json")" "$pp" "state.json after the exit still has the hot-plugged port"
qc delete p1
qc destroy h1
exec 7>&-
qc delete h1
assert_file "$SCRATCH/user.qcow2"
ok "delete keeps the user's attached file"
