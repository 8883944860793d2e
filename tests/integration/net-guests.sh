#!/bin/bash
# Networking end to end with the tiny test guest under TCG, in a private
# network namespace the script makes for itself (re-executed under
# `unshare -n`; the host's interfaces are never touched):
#   1. two guests on one named network, addresses from qemuctl's IPAM, ping
#      each other and the gateway on the host's bridge;
#   2. kill -9 of a guest's QEMU leaves no tap behind;
#   3. a guest with user-mode networking answers on its forwarded port, and
#      `qemuctl ssh` builds the right ssh command (a fake ssh in PATH);
#   4. a 9p share's file is read by the guest;
#   5. bad input without a guest: an exhausted /30, a hostfwd port in use,
#      net rm of a network in use - clear errors, nothing half-created.
# Guest shells are driven through `qemuctl console` (works with or without a
# seed); the guest's addresses are the ones qemuctl leased.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
ip link set lo up

G="--kernel $GUEST_KERNEL --initrd $GUEST_INITRD --memory 192M --cpus 1"
taps() { ip -br link | awk '{print $1}' | grep -E '^qc[0-9a-f]{8}n[0-9]+' || true; }

# console VM FD: attach `qemuctl console` to a fifo opened on FD.
console() {
	local vm="$1" fd="$2"
	mkfifo "$SCRATCH/$vm.in"
	qc console "$vm" <"$SCRATCH/$vm.in" >"$SCRATCH/$vm.out" 2>&1 &
	on_exit "kill $! 2>/dev/null"
	eval "exec $fd>\"\$SCRATCH/\$vm.in\""
	sleep 0.3
}
send() { printf '%s\n' "$2" >&"$1"; }
leased_ip() { # leased_ip VM -> the address qemuctl leased (from net list --json)
	qc --json net list | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    for l in n["leases"]:
        if l["vm"] == sys.argv[1]:
            print(l["ip"]); sys.exit(0)
sys.exit(1)' "$1"
}
qemu_pid() { sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p' "$ROOT/vms/$1/state.json"; }

# ---- 5. bad input first (no guest runs) --------------------------------------
qc net create tiny --subnet 10.71.0.0/30 >/dev/null
qc create t1 $G --net network=tiny >/dev/null
assert_match "$(qc --json net list)" '"name":"tiny".*"used":1,"capacity":1,"vms":\["t1"\]' "t1 holds the only address of the /30"
expect_fail 1 "network 'tiny': subnet 10.71.0.0/30 is exhausted: all 1 guest addresses are leased" \
	qc create t2 $G --net network=tiny
assert_no_file "$ROOT/vms/t2"
expect_fail 1 "network 'tiny' is in use by VM t1; delete it first" qc net rm tiny
hold_port
qc net create lan --subnet 10.70.0.0/24 >/dev/null
qc create t3 $G --net network=lan --net "user,hostfwd=tcp::$busy-:80" >/dev/null
expect_fail 1 "VM 't3': NIC 'net1': hostfwd tcp:127.0.0.1:$busy-:80: host port $busy is in use; pick another HOSTPORT" \
	qc start t3
assert_eq "$(taps)" "" "no tap left by the refused start"
assert_match "$(qc info t3)" 'State: +stopped' "t3 did not start"
kill "$busy_pid"
qc delete t3
qc delete t1
qc net rm tiny >/dev/null
ok "t1 deleted, its lease released, tiny removed"

# ---- 1. two guests on one named network -------------------------------------
qc create g1 $G --append "$GUEST_APPEND" --net network=lan,ip=10.70.0.11 >/dev/null
qc create g2 $G --append "$GUEST_APPEND" --net network=lan >/dev/null
ip1=$(leased_ip g1) ip2=$(leased_ip g2)
assert_eq "$ip1" 10.70.0.11 "g1 got the address it asked for"
assert_eq "$ip2" 10.70.0.2 "g2 got the lowest free address"
assert_match "$(qc net list)" 'lan +qc-lan +10\.70\.0\.0/24 +10\.70\.0\.1 +2/253 +g1,g2' "net list: 2 used by g1,g2"
qc start g1
qc start g2
t1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["taps"][0])' "$ROOT/vms/g1/network.json")
assert_match "$(ip -j link show dev "$t1")" '"master":"qc-lan"' "g1's tap $t1 is on qc-lan"
assert_match "$(ip -j -d link show dev "$t1")" '"info_kind":"tun".*"vnet_hdr":true' "tap has IFF_VNET_HDR"
wait_for_text "$ROOT/vms/g1/console.log" '^GUEST-READY' 180
wait_for_text "$ROOT/vms/g2/console.log" '^GUEST-READY' 180
# The seed's network-config (generated from the leases) configured the guests.
wait_for_text "$ROOT/vms/g1/console.log" "^NET static dev=eth0 addr=$ip1/24 gw=10.70.0.1" 5
ok "g1 applied network-config $ip1/24 via 10.70.0.1 from its seed"
wait_for_text "$ROOT/vms/g2/console.log" "^NET static dev=eth0 addr=$ip2/24 gw=10.70.0.1" 5
ok "g2 applied network-config $ip2/24 from its seed"
console g1 7
console g2 8
send 7 "ping -c 3 -W 3 $ip2 >/dev/null && echo PING-G2-\$((40+2))"
wait_for_text "$ROOT/vms/g1/console.log" 'PING-G2-42' 60
ok "g1 pings g2 ($ip2) over qc-lan"
send 8 "ping -c 3 -W 3 $ip1 >/dev/null && echo PING-G1-\$((40+2)); ping -c 2 -W 3 10.70.0.1 >/dev/null && echo PING-GW-\$((40+2))"
wait_for_text "$ROOT/vms/g2/console.log" 'PING-G1-42' 60
ok "g2 pings g1 ($ip1)"
wait_for_text "$ROOT/vms/g2/console.log" 'PING-GW-42' 30
ok "g2 pings the gateway 10.70.0.1 on the host's bridge"

# ---- 2. kill -9 of QEMU: the tap goes with it --------------------------------
pid=$(qemu_pid g1)
[ -n "$pid" ] && kill -9 "$pid"
wait_until 10 sh -c "! ip link show dev $t1 >/dev/null 2>&1"
ok "tap $t1 gone after kill -9 of QEMU $pid"
exec 7>&- 8>&-
qc destroy g2 >/dev/null
assert_eq "$(taps)" "" "no qemuctl tap left after both guests ended"
qc start g1
wait_for_text "$ROOT/vms/g1/console.log" '^GUEST-READY' 180
assert_eq "$(leased_ip g1)" 10.70.0.11 "g1 keeps its address across restarts"
qc destroy g1 >/dev/null
qc delete g1
qc delete g2
assert_match "$(qc --json net list)" '"name":"lan".*"used":0' "delete released both leases"

# ---- 3. user-mode networking: forwarded port, ssh command ---------------------
mkdir -p "$SCRATCH/share"
echo "SHARED-$$-CONTENT" >"$SCRATCH/share/hello.txt"
share_ok=1
if ! qc create u1 $G --append "$GUEST_APPEND" --net user,hostfwd=tcp::0-:8080 \
	--share "$SCRATCH/share:hostfiles" >"$SCRATCH/create.out" 2>&1; then
	log "create with --share failed: $(cat "$SCRATCH/create.out"); retrying without the share"
	share_ok=0
	qc create u1 $G --append "$GUEST_APPEND" --net user,hostfwd=tcp::0-:8080 >/dev/null
fi
qc start u1
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][0])' "$ROOT/vms/u1/network.json")
sshport=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][1])' "$ROOT/vms/u1/network.json")
[ "$port" -gt 0 ] && [ "$sshport" -gt 0 ] && [ "$port" != "$sshport" ] || fail "ports '$port' '$sshport'"
ok "host ports chosen: $port -> 8080, $sshport -> 22"
wait_for_text "$ROOT/vms/u1/console.log" '^GUEST-READY' 180
console u1 7
send 7 "mkdir -p /tmp/www && echo HELLO-FWD-\$\$ >/tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo HTTPD-\$((40+2))"
wait_for_text "$ROOT/vms/u1/console.log" 'HTTPD-42' 30
body=
for _ in $(seq 60); do
	body=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=3).read().decode())' "$port" 2>/dev/null) && break
	sleep 0.5
done
assert_match "$body" '^HELLO-FWD-[0-9]+' "guest httpd answers on 127.0.0.1:$port"

# qemuctl ssh: a fake ssh records its argv
mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/ssh.args"\n' "$SCRATCH" >"$SCRATCH/bin/ssh"
chmod +x "$SCRATCH/bin/ssh"
PATH="$SCRATCH/bin:$PATH" qc ssh u1 -- uname -a
args=$(tr '\n' ' ' <"$SCRATCH/ssh.args")
# the seed gave the guest its host key: only that key is accepted
assert_match "$args" "^-l [a-z_][a-z0-9_-]* -p $sshport -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$ROOT/vms/u1/known_hosts -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=qemuctl-u1 .* -- 127\.0\.0\.1 uname -a $" "ssh argv"
PATH="$SCRATCH/bin:$PATH" qc ssh u1 -i "$SCRATCH/share/hello.txt"
assert_match "$(tr '\n' ' ' <"$SCRATCH/ssh.args")" "-i $SCRATCH/share/hello.txt -o IdentitiesOnly=yes -- 127\.0\.0\.1 $" "ssh -i FILE"

# ---- 4. 9p share --------------------------------------------------------------
if [ "$share_ok" = 1 ]; then
	wait_for_text "$ROOT/vms/u1/console.log" '^SHARE tag=hostfiles' 30
	send 7 "cat /mnt/hostfiles/hello.txt"
	wait_for_text "$ROOT/vms/u1/console.log" "^SHARED-$$-CONTENT" 30
	ok "guest reads the 9p share's file"
fi
exec 7>&-
qc destroy u1 >/dev/null
expect_fail 1 "VM 'u1' is not running; start it with 'qemuctl start u1'" qc ssh u1
qc delete u1
qc net rm lan >/dev/null
assert_eq "$(ip -br link | awk '{print $1}' | grep -c '^qc')" 0 "no qemuctl links left"
[ "$share_ok" = 1 ] || fail "the 9p share part did not run: qemuctl create refused --share"
