#!/bin/bash
# Hot-plug of a tap NIC in a private network namespace
# (re-executed under `unshare -n`; the host's interfaces are never touched):
# attach-net network=NAME on a running guest opens the tap in qemuctl and
# passes it with getfd; the guest gets eth1, takes the leased address and
# pings the network's gateway on the host's bridge; detach-net releases it
# and the tap disappears with QEMU's copy of the fd; the address is released.
# A run without NICs leaves no network.json; a NIC plugged in later is
# recorded in a new one.  An automatic host port of a hot-plugged user NIC
# is held until QEMU binds it, and chosen afresh when taken meanwhile.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
ip link set lo up

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
vm="$ROOT/vms/n1"
qc net create lan --subnet 10.77.0.0/24 >/dev/null
qc create n1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 --net user >/dev/null
qc start n1
wait_for_text "$vm/console.log" '^GUEST-READY' 90
mkfifo "$SCRATCH/in"
qc console n1 <"$SCRATCH/in" >"$SCRATCH/con.out" 2>&1 &
exec 7>"$SCRATCH/in"
sleep 0.5

out=$(qc attach-net n1 network=lan)
assert_match "$out" "NIC 'net1' attached to VM 'n1' \(live\)" "live attach-net network=lan"
ipaddr=$(qc --json info n1 | grep -o '10\.77\.0\.[0-9]*/24' | head -1)
[ -n "$ipaddr" ] || fail "no leased address for net1 in info"
ok "net1 leased $ipaddr"
tap=$(ip -br link | awk '/^qc[0-9a-f]+n[0-9]+ /{print $1}')
[ -n "$tap" ] || fail "no tap for net1 on the host: $(ip -br link)"
ok "tap $tap exists on the host"
printf '%s\n' "i=0; while [ ! -e /sys/class/net/eth1 ] && [ \$i -lt 40 ]; do sleep 0.5; i=\$((i+1)); done; ip addr add $ipaddr dev eth1; ip link set eth1 up; ping -c 2 -W 2 10.77.0.1 >/dev/null && echo PING-OK || echo PING-FAIL" >&7
wait_for_text "$SCRATCH/con.out" '^PING-(OK|FAIL)' 40
grep -q '^PING-OK' "$SCRATCH/con.out" || fail "guest could not ping the gateway over the hot-plugged NIC: $(tail -5 "$SCRATCH/con.out")"
ok "guest pings the gateway 10.77.0.1 through the hot-plugged NIC"

out=$(qc detach-net n1 net1)
assert_match "$out" "NIC 'net1' detached from VM 'n1' \(live\)" "live detach-net"
wait_until 10 sh -c "! ip link show '$tap' >/dev/null 2>&1"
ok "tap $tap is gone after detach"
expect_fail 1 "VM 'n1' has no NIC 'net1' \(NICs: net0\)" qc detach-net n1 net1
assert_match "$(qc net list)" 'lan +qc-lan +10\.77\.0\.0/24 +10\.77\.0\.1 +0/253' "the detached NIC's address went back to the network"

# A NIC detached from the middle of the list: the next attach's tap must not
# take the name of a tap still plugged (names by list position would).
qc attach-net n1 network=lan >/dev/null
qc attach-net n1 network=lan >/dev/null
qc detach-net n1 net1 >/dev/null
out=$(qc attach-net n1 network=lan) || fail "attach-net after a detach from the middle failed: $out"
ok "attach-net after detaching the first of two hot-plugged NICs"
taps=$(ip -br link | awk '/^qc[0-9a-f]+n[0-9]+ /{print $1}' | sort)
assert_eq "$(printf '%s\n' "$taps" | wc -l) $(printf '%s\n' "$taps" | sort -u | wc -l)" "2 2" \
	"two hot-plugged NICs, two taps of distinct names: $(echo $taps)"
for t in $taps; do
	assert_match "$(cat "$vm/state.json")" "\"tap\": \"$t\"" "the run's devices in state.json name tap $t"
done
qc destroy n1
exec 7>&-
qc delete n1

# A run without NICs records no ports or taps: it leaves no network.json
# (a stale one from an older run goes), and a NIC plugged into it later is
# recorded there (the tap name is what info and ssh fall back on).
vm2="$ROOT/vms/n2"
qc create n2 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 128M --net none --no-seed >/dev/null
printf '{"ports": [2222], "taps": ["qcstale"]}\n' >"$vm2/network.json"
qc start n2
assert_no_file "$vm2/network.json"
qc attach-net n2 network=lan >/dev/null
tap=$(ip -br link | awk '/^qc[0-9a-f]+n[0-9]+ /{print $1}')
[ -n "$tap" ] || fail "no tap for n2's net0 on the host: $(ip -br link)"
assert_match "$(tr -d ' \n' <"$vm2/network.json")" "\"taps\":\[\"$tap\"\]" \
	"a NIC plugged into a run without NICs is recorded in network.json"
qc destroy n2
qc delete n2

# An automatic host port of a hot-plugged user NIC is held by qemuctl until
# QEMU has bound it (held at attach-net:netdev); taken anyway (a bind with
# SO_REUSEADDR), attach-net goes on with a fresh one.  This namespace's
# ephemeral range is two ports, so the test knows both candidates.
qc create n3 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 128M --net none --no-seed >/dev/null
qc start n3 --paused
sysctl -qw net.ipv4.ip_local_port_range="40000 40001"
hold="$ROOT/vms/n3/.hold-attach-net:netdev"
QEMUCTL_TEST_HOLD=attach-net:netdev "$QC" --root "$ROOT" attach-net n3 "user,hostfwd=tcp::0-:22" \
	>"$SCRATCH/attach.out" 2>&1 &
attach_pid=$!
wait_until 30 test -e "$hold"
held=""
for p in 40000 40001; do
	python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$p" \
		2>/dev/null || held="$held $p"
done
held=${held# }
case "$held" in
40000) other=40001 ;;
40001) other=40000 ;;
*) fail "qemuctl should hold exactly one automatic port until QEMU binds it, holds: '$held'" ;;
esac
ok "qemuctl holds the automatic port $held until QEMU binds it"
python3 -c 'import os, socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2] + ".tmp", "w").close(); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(600)' "$held" "$SCRATCH/thief.up" &
thief_pid=$!
on_exit "kill $thief_pid 2>/dev/null"
wait_until 10 test -e "$SCRATCH/thief.up"
rm "$hold"
wait_until 30 test -e "$hold" # the second attempt
rm "$hold"
wait "$attach_pid" || fail "attach-net failed although only an automatic port was taken: $(cat "$SCRATCH/attach.out")"
assert_match "$(cat "$SCRATCH/attach.out")" "VM 'n3': NIC 'net0': host port $held was taken before QEMU bound it \(by pid $thief_pid python3\); trying again with fresh automatic ports" \
	"attach-net says it took a fresh port"
assert_match "$(qc info n3)" "net0 user [0-9a-f:]+ tcp 127\.0\.0\.1:$other->22" "info shows the port QEMU got"
assert_eq "$(ss -Hlnpt "sport = :$other" | grep -c qemu-system)" 1 "QEMU listens on $other"
kill "$thief_pid"
qc destroy n3
qc delete n3
qc net rm lan >/dev/null
