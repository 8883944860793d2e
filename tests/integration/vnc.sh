#!/bin/bash
# --display vnc and qemuctl vnc with the tiny test guest:
#   - create --display vnc / vnc=127.0.0.1: dumpxml has the <graphics>
#     (and a <video>), and loads back to the same XML; a libvirt
#     <graphics type='vnc' listen='127.0.0.1'/> is understood; a
#     non-loopback address and an unknown --display are refused, nothing
#     written;
#   - the unix socket (the monitor hands each client to QEMU): in the run
#     directory, 0600, it answers the RFB handshake ("RFB 003.008\n"), needs
#     no password, and ServerInit names the VM; gone after stop;
#   - the TCP form: a loopback port 5900-5999, only VNC authentication
#     offered, a wrong password refused and the one in the 0600 password
#     file accepted (a small RFB client: DES with the bit-reversed key);
#   - qemuctl vnc prints each (and --json, following the schema); a VM without VNC and a stopped
#     one are refused; --listen forwards a loopback TCP port to the socket
#     (the handshake through it), refuses a non-loopback address and the
#     TCP form;
#   - a screenshot works with a VNC display.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

cat >"$SCRATCH/rfb.py" <<'EOP'
# rfb.py unix:PATH|tcp:HOST:PORT [PASSWORD]: the RFB 3.8 handshake up to
# ServerInit; prints "auth=N WxH NAME", or "refused: REASON" and exits 3.
import socket, struct, sys

def conn(where):
    kind, _, rest = where.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(rest)
    else:
        host, _, port = rest.rpartition(":")
        s = socket.create_connection((host, int(port)), timeout=20)
    return s

def recv(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("EOF after %r" % b)
        b += c
    return b

def des_response(password, challenge):
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    key = bytes(int("{:08b}".format(c)[::-1], 2) for c in password.encode()[:8].ljust(8, b"\0"))
    e = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return e.update(challenge) + e.finalize()

s = conn(sys.argv[1])
version = recv(s, 12)
if version != b"RFB 003.008\n":
    sys.exit("version %r" % version)
s.sendall(version)
n = recv(s, 1)[0]
types = list(recv(s, n))
if len(sys.argv) > 2:
    if types != [2]:
        sys.exit("security types %r, expected only VNC authentication (2)" % types)
    s.sendall(b"\x02")
    s.sendall(des_response(sys.argv[2], recv(s, 16)))
else:
    if types != [1]:
        sys.exit("security types %r, expected only None (1)" % types)
    s.sendall(b"\x01")
result = struct.unpack(">I", recv(s, 4))[0]
if result != 0:
    reason = recv(s, struct.unpack(">I", recv(s, 4))[0]).decode()
    print("refused: " + reason)
    sys.exit(3)
s.sendall(b"\x01")  # ClientInit: shared
w, h = struct.unpack(">HH", recv(s, 4))
recv(s, 16)
name = recv(s, struct.unpack(">I", recv(s, 4))[0]).decode()
print("auth=%d %dx%d %s" % (types[0], w, h, name))
EOP
rfb() { python3 "$SCRATCH/rfb.py" "$@"; }

G=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --memory 96M --no-seed --net none)
before=$(find "$ROOT" -printf '%p %s\n' | sort)
expect_fail 1 "--display 'vnc=0.0.0.0': VNC listen address '0.0.0.0' is not a loopback address" \
	qc create bad --display vnc=0.0.0.0 "${G[@]}"
expect_fail 1 "--display 'spice': use none, vnc \(a unix socket\) or vnc=127.0.0.1" \
	qc create bad --display spice "${G[@]}"
expect_fail 1 "--display 'vnc=socket': use none, vnc" qc create bad --display vnc=socket "${G[@]}"
assert_eq "$(find "$ROOT" -printf '%p %s\n' | sort)" "$before" "refused creates wrote nothing"

qc create s1 --display vnc "${G[@]}" >/dev/null
qc create t1 --display vnc=127.0.0.1 "${G[@]}" >/dev/null
qc create n1 "${G[@]}" >/dev/null
x=$(qc dumpxml s1 | tr -d '\n ')
assert_match "$x" "<graphicstype='vnc'><listentype='socket'/></graphics>" "dumpxml: the socket form"
assert_match "$x" "<video><modeltype='vga'/></video>" "--display vnc adds a video device"
x=$(qc dumpxml t1 | tr -d '\n ')
assert_match "$x" "<graphicstype='vnc'autoport='yes'><listentype='address'address='127.0.0.1'/></graphics>" \
	"dumpxml: the TCP form"
qc dumpxml n1 | grep -q graphics && fail "n1 has a <graphics>"
ok "--display none (the default): no <graphics>"
for vm in s1 t1; do
	qc dumpxml $vm >"$SCRATCH/$vm.xml"
	qc define "$SCRATCH/$vm.xml" >/dev/null
	assert_eq "$(qc dumpxml $vm)" "$(cat "$SCRATCH/$vm.xml")" "$vm: the XML loads back to the same"
done

# libvirt's forms: listen='ADDR' alone; a non-loopback address is refused with its line
qc dumpxml n1 | sed "s|</devices>|<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.2'/></devices>|" >"$SCRATCH/lv.xml"
qc define "$SCRATCH/lv.xml" >/dev/null 2>&1
assert_match "$(qc dumpxml n1 | tr -d '\n ')" "<listentype='address'address='127.0.0.2'/>" \
	"listen='127.0.0.2' is understood"
qc dumpxml n1 >"$SCRATCH/n1.before"
sed "s|address='127.0.0.2'|address='192.0.2.1'|" "$SCRATCH/n1.before" >"$SCRATCH/pub.xml"
expect_fail 1 "pub.xml:[0-9]+: VNC listen address '192.0.2.1' is not a loopback address" \
	qc define "$SCRATCH/pub.xml"
sed "s|type='address' address='127.0.0.2'|type='network' network='default'|" "$SCRATCH/n1.before" >"$SCRATCH/net.xml"
expect_fail 1 "net.xml:[0-9]+: <graphics type='vnc'>: <listen type='network'>: use socket or address" \
	qc define "$SCRATCH/net.xml"
assert_eq "$(qc dumpxml n1)" "$(cat "$SCRATCH/n1.before")" "refused defines left n1 as it was"
qc define "$SCRATCH/lv.xml" >/dev/null 2>&1
qc dumpxml n1 | sed "/<graphics/,/<\/graphics>/d" >"$SCRATCH/n1.xml"
qc define "$SCRATCH/n1.xml" >/dev/null
qc dumpxml n1 | grep -q graphics && fail "n1 still has a <graphics>"
ok "n1 back to no display"

expect_fail 1 "VM 's1' is not running" qc vnc s1
qc start s1
qc start t1
qc start n1
expect_fail 1 "VM 'n1' has no VNC display in this run: create it with --display vnc" qc vnc n1

schema() { # schema DOC FILE: FILE follows document DOC of the schema
	python3 "$QC_SRCDIR/tests/integration/json_schema.py" "$QC_SRCDIR/docs/schema/qemuctl-v2.json" \
		"$1" <"$2" || fail "$2 does not follow the schema's '$1'"
	ok "$2 follows the schema's '$1'"
}

# the unix socket
qc --json vnc s1 >"$SCRATCH/s1.json"
schema vnc "$SCRATCH/s1.json"
sock=$(python3 -c 'import json, sys
j = json.load(sys.stdin)
assert j["vm"] == "s1" and j["host"] is None and j["port"] is None and j["password_file"] is None, j
print(j["socket"])' <"$SCRATCH/s1.json")
assert_match "$sock" "^/.+/[0-9a-f]+/vnc.sock$" "the socket is in the run directory"
assert_eq "$(stat -c '%F %a %U' "$sock")" "socket 600 $(id -un)" "a socket, 0600, the caller's"
assert_eq "$(stat -c '%a' "$(dirname "$sock")")" 700 "in a 0700 directory"
assert_match "$(qc vnc s1)" "^Socket: +$sock$" "vnc prints the socket"
out=$(rfb "unix:$sock") || fail "RFB over the socket: $out"
assert_match "$out" "^auth=1 [0-9]+x[0-9]+ .*s1" "the socket answers RFB 003.008, no password, ServerInit names s1"
out=$(rfb "unix:$sock") || fail "a second client: $out"
ok "a second client is handed over too"
qc screenshot s1 "$SCRATCH/s1.png" >/dev/null
python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.exit(b[:8] != b"\x89PNG\r\n\x1a\n")' "$SCRATCH/s1.png" ||
	fail "screenshot of s1 is not a PNG"
ok "a screenshot works with a VNC display"

# the TCP form
json=$(qc --json vnc t1)
echo "$json" >"$SCRATCH/t1.json"
schema vnc "$SCRATCH/t1.json"
read -r host port pwfile < <(python3 -c 'import json, sys
j = json.loads(sys.argv[1])
assert j["socket"] is None, j
print(j["host"], j["port"], j["password_file"])' "$json")
assert_eq "$host" 127.0.0.1 "TCP: on 127.0.0.1"
[ "$port" -ge 5900 ] && [ "$port" -le 5999 ] || fail "port $port"
ok "TCP: port $port"
assert_eq "$(stat -c '%a %U' "$pwfile")" "600 $(id -un)" "the password file is 0600, the caller's"
pw=$(cat "$pwfile")
assert_match "$pw" '^[A-Za-z0-9]{8}$' "an 8-character password"
out=$(qc vnc t1)
assert_match "$out" "^Address: +127.0.0.1:$port " "vnc prints the address"
assert_match "$out" "^Password: +in $pwfile$" "and the password file"
# wrong in its last character (x, or y when the password ends in x)
wrong="${pw:0:7}x"
[ "$wrong" != "$pw" ] || wrong="${pw:0:7}y"
out=$(rfb "tcp:127.0.0.1:$port" "$wrong") && fail "a wrong password was accepted: $out"
assert_match "$out" "^refused: " "a wrong password is refused"
out=$(rfb "tcp:127.0.0.1:$port" "$pw") || fail "the right password: $out"
assert_match "$out" "^auth=2 [0-9]+x[0-9]+ .*t1" "the password from the file is accepted"

# --listen
expect_fail 2 "--listen '0.0.0.0:5999': 0.0.0.0 is not a loopback address" qc vnc s1 --listen 0.0.0.0:5999
expect_fail 2 "--listen port" qc vnc s1 --listen 70000
expect_fail 1 "VM 't1' serves VNC on 127.0.0.1:$port already" qc vnc t1 --listen 0
"$QC" --root "$ROOT" vnc s1 --listen 127.0.0.1:0 >"$SCRATCH/fwd.out" 2>"$SCRATCH/fwd.err" &
fwd=$!
for i in $(seq 100); do
	grep -q Forwarding "$SCRATCH/fwd.out" && break
	sleep 0.1
done
fport=$(sed -n "s/^Forwarding 127.0.0.1:\([0-9]*\) to the VNC display of VM 's1' (Ctrl-C stops)$/\1/p" "$SCRATCH/fwd.out")
[ -n "$fport" ] || fail "vnc --listen printed: $(cat "$SCRATCH/fwd.out" "$SCRATCH/fwd.err")"
out=$(rfb "tcp:127.0.0.1:$fport") || fail "RFB through --listen: $out"
assert_match "$out" "^auth=1 [0-9]+x[0-9]+ .*s1" "vnc --listen forwards a TCP port to the socket"
out=$(rfb "tcp:127.0.0.1:$fport") || fail "a second connection through --listen: $out"
ok "and each connection"
kill "$fwd"
wait "$fwd" 2>/dev/null || true
"$QC" --root "$ROOT" --json vnc s1 --listen 0 >"$SCRATCH/fwd.json" &
fwd=$!
for i in $(seq 100); do
	[ -s "$SCRATCH/fwd.json" ] && break
	sleep 0.1
done
schema vnc-listen "$SCRATCH/fwd.json"
kill "$fwd"
wait "$fwd" 2>/dev/null || true

qc stop s1 --force >/dev/null
[ -e "$sock" ] && fail "the socket outlived the VM"
ok "stop removes the socket"
qc stop t1 --force >/dev/null
[ -e "$pwfile" ] && fail "the password file outlived the VM"
ok "stop removes the password file"
qc stop n1 --force >/dev/null
