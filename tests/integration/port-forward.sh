#!/bin/bash
# qemuctl port add|rm|list on the tiny test guest, in a private network
# namespace (re-executed under `unshare -n`):
#   1. refusals without a running guest: a stopped VM without --persist, ports
#      out of range, bad specs, a VM without a user-mode NIC, a NIC that is not
#      user-mode; exit codes and the state root unchanged; --persist on a
#      stopped VM writes the definition only;
#   2. a running guest: a live forward answers (busybox httpd in the guest),
#      is listed, shows in info and survives a guest reboot; a UDP one is
#      bound by QEMU; the persisted one of step 1 answers; a duplicate, a busy
#      host port (naming its holder) and a privileged port while QEMU runs
#      unprivileged are refused with nothing changed; port rm closes them
#      (connection refused, QEMU's socket gone);
#      detach-net of a NIC forgets its live forwards;
#   3. --persist on the running guest: answers now, is in domain.xml, keeps
#      the second NIC's automatic ssh port where info and ssh find it, and is
#      there after a restart, while a live-only forward is not.
# A host port taken between qemuctl's choice and QEMU's bind (held at
# start:spawn): an automatic TCP port is held by qemuctl meanwhile (a plain
# bind fails); taken by a bind with SO_REUSEADDR, the start goes on with a
# fresh one, which QEMU, info and port list show (step 2's start); a fixed
# one fails the start, naming the port and its holder, nothing left running
# (step 3's restart).
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
ip link set lo up

G=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --memory 192M --cpus 1)
free_port() { # free_port [udp]: a port nothing listens on now
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1:] == ["udp"] else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$@"
}
http_get() { # http_get PORT: the body, or exit 1 with the error on stderr
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode().strip())' "$1"
}
refused() { # refused PORT: a TCP connect is refused
	python3 -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$1"
}
await() { # await FILE: wait (30 s at most) until FILE exists, looking every 20 ms
	local n=0
	until [ -e "$1" ]; do
		[ $((n += 1)) -lt 1500 ] || fail "timed out after 30 s waiting for $1"
		sleep 0.02
	done
}
steal_port() { # steal_port PORT NAME: bind 127.0.0.1:PORT with SO_REUSEADDR and listen until
	# the test ends (sets NAME_pid); NAME_plain: what a bind without SO_REUSEADDR got first
	python3 -c 'import errno, socket, sys, time
try:
    socket.socket().bind(("127.0.0.1", int(sys.argv[1]))); plain = "OK"
except OSError as e:
    plain = errno.errorcode[e.errno]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2] + ".tmp", "w").write(plain); __import__("os").rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(600)' "$1" "$SCRATCH/$2.up" &
	eval "$2_pid=$!"
	on_exit "kill $! 2>/dev/null"
	await "$SCRATCH/$2.up"
	eval "$2_plain=\$(cat \"\$SCRATCH/$2.up\")"
}
run_port() { # run_port VM I: the I-th host port network.json records for VM's run
	tr -d ' \n' <"$ROOT/vms/$1/network.json" | sed 's/.*"ports":\[\([0-9,]*\)\].*/\1/' | cut -d, -f$(($2 + 1))
}
held_start() { # held_start VM: `start VM` in the background, held at start:spawn (sets start_pid)
	rm -f "$ROOT/vms/$1/.hold-start:spawn"
	QEMUCTL_TEST_HOLD=start:spawn "$QC" --root "$ROOT" start "$1" >"$SCRATCH/start.out" 2>&1 &
	start_pid=$!
	on_exit "kill $start_pid 2>/dev/null"
	await "$ROOT/vms/$1/.hold-start:spawn"
}
qemu_sockets() { # qemu_sockets tcp|udp PORT: QEMU's listening sockets on PORT
	ss -Hlnp "--$1" "sport = :$2" | grep -c 'qemu-system' || true
}
fwds() { # fwds VM: "nic proto addr:host->guest persistent live" per forward, sorted
	qc --json port list "$1" | python3 -c 'import json, sys
for f in json.load(sys.stdin)["forwards"]:
    print(f["nic"], f["proto"], "%s:%d->%d" % (f["host_addr"], f["host_port"], f["guest_port"]),
          "persistent" if f["persistent"] else "run", "live" if f["live"] else "-")' | sort
}
nic_port() { # nic_port VM NIC GUESTPORT: the host port info shows for it
	qc info "$1" | sed -n "s/.* $2 user .* tcp 127\.0\.0\.1:\([0-9]*\)->$3.*/\1/p" | head -1
}

# ---- 1. refusals and --persist without a running guest ------------------------
qc create f1 "${G[@]}" --net user --net user >/dev/null
ip link add qcbr-none type bridge
qc create t1 "${G[@]}" --net bridge=qcbr-none --no-seed >/dev/null
before=$(tree_digest "$ROOT")
expect_fail 1 "VM 'f1' is not running: a live forward needs a running VM; start it, or add --persist" \
	qc port add f1 18080:80
expect_fail 1 "port spec '0:80': host port 0 is outside 1-65535" qc port add f1 0:80 --persist
expect_fail 1 "port spec '70000:80': host port 70000 is outside 1-65535" qc port add f1 70000:80 --persist
expect_fail 1 "port spec '8080:0': guest port 0 is outside 1-65535" qc port add f1 8080:0 --persist
expect_fail 1 "port spec '8080:80/sctp': protocol 'sctp' is not tcp or udp" qc port add f1 8080:80/sctp --persist
expect_fail 1 "port spec 'localhost:8080:80': 'localhost' is not an IPv4 address" \
	qc port add f1 localhost:8080:80 --persist
expect_fail 1 "port spec '8080:80': expected \[ADDR:\]HOSTPORT\[/udp\] \(the host port only\)" qc port rm f1 8080:80
expect_fail 1 "VM 't1' has no user-mode NIC: port forwards need one" qc port add t1 8080:80 --persist
expect_fail 1 "VM 't1': NIC 'net0' is not user-mode \(bridge=qcbr-none\)" qc port add t1 8080:80 --persist --nic net0
expect_fail 1 "VM 'f1' has no NIC 'net7'" qc port add f1 8080:80 --persist --nic net7
expect_fail 1 "VM 'nosuch'" qc port list nosuch
expect_fail 1 "VM 'f1' has no forward of host port 127.0.0.1:8080/tcp \(see 'qemuctl port list f1'\)" qc port rm f1 8080
expect_fail 2 "port add: missing SPEC" qc port add f1
expect_fail 2 "port: unknown subcommand 'open'" qc port open f1
expect_fail 2 "unknown option '--bogus'" qc port add f1 8080:80 --bogus
assert_eq "$(tree_digest "$ROOT")" "$before" "refusals left the state root unchanged"

PP=$(free_port)
out=$(qc port add f1 "$PP:81" --persist)
assert_eq "$out" "VM 'f1': forward $PP:81 added to the definition" "port add --persist on a stopped VM"
grep -q "<qemuctl:hostfwd proto='tcp' host-port='$PP' guest-port='81'/>" "$ROOT/vms/f1/domain.xml" ||
	fail "domain.xml lacks the persisted forward: $(grep hostfwd "$ROOT/vms/f1/domain.xml")"
ok "domain.xml has the persisted forward $PP->81"
assert_match "$(fwds f1)" "net0 tcp 127\.0\.0\.1:$PP->81 persistent -" "listed as persistent, not live"
expect_fail 1 "VM 'f1': host port 127.0.0.1:$PP/tcp is forwarded already \(NIC net0, to guest port 81\)" \
	qc port add f1 "$PP:82" --persist

# ---- 2. live forwards on a running guest --------------------------------------
# net0's automatic ssh port is taken between qemuctl's choice and QEMU's bind
held_start f1
AP=$(run_port f1 0)
steal_port "$AP" thief
assert_eq "$thief_plain" EADDRINUSE "qemuctl holds the automatic port $AP until QEMU binds it"
rm "$ROOT/vms/f1/.hold-start:spawn"
await "$ROOT/vms/f1/.hold-start:spawn" # the second attempt
AP2=$(run_port f1 0)
[ "$AP2" != "$AP" ] || fail "the retry kept the taken port $AP"
assert_eq "$(run_port f1 1)" "$PP" "the fixed port is kept"
rm "$ROOT/vms/f1/.hold-start:spawn"
wait "$start_pid" || fail "start failed although only an automatic port was taken: $(cat "$SCRATCH/start.out")"
assert_match "$(cat "$SCRATCH/start.out")" "VM 'f1': NIC 'net0': host port $AP was taken before QEMU bound it \(by pid $thief_pid python3\); starting again with fresh automatic ports" \
	"start says it took a fresh port"
assert_eq "$(nic_port f1 net0 22)" "$AP2" "info shows the port QEMU got"
assert_match "$(fwds f1)" "net0 tcp 127\.0\.0\.1:$AP2->22 persistent live" "port list shows it"
assert_eq "$(qemu_sockets tcp "$AP2")" 1 "QEMU listens on $AP2"
assert_eq "$(qemu_sockets tcp "$AP")" 0 "and not on the taken $AP"
assert_no_file "$ROOT/vms/f1/console.log.1" # the failed attempt's empty log is not rotated in
wait_for_text "$ROOT/vms/f1/console.log" '^GUEST-READY' 180
guest_console f1
guest_say "mkdir -p /tmp/w80 /tmp/w81 && echo WEB80-\$((40+2)) >/tmp/w80/index.html && echo WEB81-\$((40+3)) >/tmp/w81/index.html && httpd -p 80 -h /tmp/w80 && httpd -p 81 -h /tmp/w81 && echo HTTPD-UP"
wait_for_text "$SCRATCH/con$con_n.out" '^HTTPD-UP' 60
assert_eq "$(http_get "$PP")" "WEB81-43" "the forward persisted while stopped answers after start"

ssh1=$(nic_port f1 net1 22)
[ -n "$ssh1" ] && [ "$ssh1" -gt 0 ] || fail "no ssh port for net1 in info: $(qc info f1)"
HP=$(free_port)
out=$(qc port add f1 "$HP:80")
assert_eq "$out" "VM 'f1': forward $HP:80 added" "live port add"
assert_eq "$(http_get "$HP")" "WEB80-42" "the guest's httpd answers on the live forward 127.0.0.1:$HP"
assert_match "$(fwds f1)" "net0 tcp 127\.0\.0\.1:$HP->80 run live" "port list shows the live forward"
assert_match "$(qc info f1)" "net0 user .* tcp 127\.0\.0\.1:$HP->80" "info shows the live forward on net0"

UP=$(free_port udp)
qc port add f1 "0.0.0.0:$UP:53/udp" >/dev/null
assert_eq "$(qemu_sockets udp "$UP")" 1 "QEMU holds the UDP forward's socket on port $UP"
assert_match "$(fwds f1)" "net0 udp 0\.0\.0\.0:$UP->53 run live" "port list shows the UDP forward"

# refusals on the running guest change nothing
hold_port
BP=$busy
before=$(tree_digest "$ROOT" --running)
list_before=$(fwds f1)
expect_fail 1 "host port $BP is in use \(by pid $busy_pid python3\); pick another HOSTPORT" qc port add f1 "$BP:80"
expect_fail 1 "VM 'f1': host port 127\.0\.0\.1:$HP/tcp is forwarded already \(NIC net0, to guest port 80\)" \
	qc port add f1 "$HP:22"
expect_fail 1 "VM 'f1': host port 0\.0\.0\.0:$UP/udp is forwarded already" qc port add f1 "$UP:53/udp"
expect_fail 1 "VM 'f1': host port 80 is privileged \(below 1024, net.ipv4.ip_unprivileged_port_start\) and QEMU runs as uid [0-9]+; forward from a port >= 1024" \
	qc port add f1 80:80
expect_fail 1 "VM 'f1' has no forward of host port 127\.0\.0\.1:$UP/udp" qc port rm f1 "$UP/udp"
assert_eq "$(tree_digest "$ROOT" --running)" "$before" "refusals on the running VM left the state root unchanged"
assert_eq "$(fwds f1)" "$list_before" "and its forwards"
assert_eq "$(http_get "$HP")" "WEB80-42" "the live forward still answers"

# a guest reboot keeps QEMU, its forwards and their records (the console stays attached)
booted() { [ "$(grep -c '^GUEST-READY' "$ROOT/vms/f1/console.log")" -ge "$1" ]; }
booted 1 && ! booted 2 || fail "expected one boot in the console log"
qc reboot f1
wait_until 180 booted 2
ok "the guest rebooted"
guest_say "mkdir -p /tmp/w80 && echo WEB80-\$((40+4)) >/tmp/w80/index.html && httpd -p 80 -h /tmp/w80 && echo HTTPD-AGAIN"
wait_for_text "$SCRATCH/con$con_n.out" '^HTTPD-AGAIN' 60
assert_eq "$(http_get "$HP")" "WEB80-44" "the live forward answers after a guest reboot"

# port rm: closed in QEMU and gone from the lists
out=$(qc port rm f1 "$HP")
assert_eq "$out" "VM 'f1': forward $HP removed" "port rm of the live forward"
refused "$HP" || fail "127.0.0.1:$HP still accepts connections after port rm"
ok "127.0.0.1:$HP refuses connections after port rm"
qc port rm f1 "0.0.0.0:$UP/udp" >/dev/null
assert_eq "$(qemu_sockets udp "$UP")" 0 "QEMU closed the UDP forward's socket"
! fwds f1 | grep -Eq ":($HP|$UP)->" || fail "removed forwards still listed: $(fwds f1)"
ok "removed forwards are no longer listed"
! qc info f1 | grep -q ":$HP->80" || fail "info still shows the removed forward"
ok "info no longer shows the removed forward"

# a NIC detached takes its live forwards with it, also from the records
qc attach-net f1 user >/dev/null
D=$(free_port)
qc port add f1 "$D:80" --nic net2 >/dev/null
assert_match "$(fwds f1)" "net2 tcp 127\.0\.0\.1:$D->80 run live" "a live forward on the hot-plugged net2"
qc detach-net f1 net2 >/dev/null
! fwds f1 | grep -q ":$D->" || fail "net2's live forward is still listed after detach-net: $(fwds f1)"
ok "detach-net forgets the NIC's live forwards"
refused "$D" || fail "127.0.0.1:$D still accepts connections after detach-net"
ok "and QEMU closed it"

# ---- 3. --persist on the running guest ----------------------------------------
P2=$(free_port)
out=$(qc --json port add f1 "$P2:80" --persist)
assert_eq "$out" "{\"vm\":\"f1\",\"action\":\"add\",\"spec\":\"$P2:80\",\"live\":true,\"persistent\":true}" "port add --persist --json"
assert_eq "$(http_get "$P2")" "WEB80-44" "the persisted forward answers at once"
grep -q "host-port='$P2' guest-port='80'" "$ROOT/vms/f1/domain.xml" || fail "domain.xml lacks $P2"
ok "domain.xml has the forward added with --persist"
assert_eq "$(nic_port f1 net1 22)" "$ssh1" "net1's automatic ssh port stays where info finds it"
mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/ssh.args"\n' "$SCRATCH" >"$SCRATCH/bin/ssh"
chmod +x "$SCRATCH/bin/ssh"
ssh0=$(nic_port f1 net0 22)
PATH="$SCRATCH/bin:$PATH" qc ssh f1 -- true
assert_match "$(tr '\n' ' ' <"$SCRATCH/ssh.args")" "-p $ssh0 " "ssh still finds net0's ssh port ($ssh0)"
L3=$(free_port)
qc port add f1 "$L3:80" >/dev/null
# the persisted forward of step 1 leaves the definition and QEMU
qc port rm f1 "$PP" >/dev/null
refused "$PP" || fail "127.0.0.1:$PP still accepts connections"
! grep -q "host-port='$PP'" "$ROOT/vms/f1/domain.xml" || fail "domain.xml still has $PP"
ok "port rm of a persisted forward closes it and takes it out of domain.xml"
assert_eq "$(nic_port f1 net1 22)" "$ssh1" "net1's ssh port is still found after the rm"

exec 7>&-
qc stop f1 --force >/dev/null
# the fixed forward's port taken before QEMU binds it: the start fails, naming it
held_start f1
steal_port "$P2" thief2
rm "$ROOT/vms/f1/.hold-start:spawn"
rc=0
wait "$start_pid" || rc=$?
assert_eq "$rc" 1 "a start whose fixed port was taken fails"
assert_match "$(cat "$SCRATCH/start.out")" "VM 'f1': NIC 'net0': hostfwd tcp:$P2-:80: host port $P2 was taken \(by pid $thief2_pid python3\) while QEMU started; free it or pick another HOSTPORT" \
	"and says which port and who has it"
assert_match "$(qc list)" '^f1 .* stopped' "nothing left running"
kill "$thief2_pid"
qc start f1
assert_eq "$(qemu_sockets tcp "$P2")" 1 "after a restart QEMU listens on the persisted forward $P2"
assert_eq "$(qemu_sockets tcp "$L3")" 0 "and not on the live-only forward $L3"
assert_match "$(fwds f1)" "net0 tcp 127\.0\.0\.1:$P2->80 persistent live" "the persisted forward is listed live"
! fwds f1 | grep -q ":$L3->" || fail "the live-only forward of the last run is still listed"
ok "the live-only forward of the last run is not listed"
qc destroy f1 >/dev/null
expect_fail 1 "VM 'f1' has no forward of host port 127\.0\.0\.1:$L3/tcp" qc port rm f1 "$L3"
expect_fail 1 "VM 'f1' is not running" qc port add f1 "$L3:80"
qc delete f1
qc delete t1
