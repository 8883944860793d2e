#!/bin/bash
# The guest's ssh host key: qemuctl makes one per VM, hands it to cloud-init
# through the seed and lists it in the VM's known_hosts; `qemuctl ssh`
# accepts only that key.  The tiny test guests have no sshd, so a fake ssh
# in PATH records the command line (slow-debian-cloudinit.sh connects for
# real).
#   - create: the key pair in the VM's directory (private half 0600), the
#     seed's user-data carries it intact (PyYAML, then ssh-keygen -y), and
#     known_hosts lists it under qemuctl-NAME
#   - a seed rebuilt with a new generation, or rebuilt after it was lost,
#     carries the same key; the key files do not change
#   - `qemuctl ssh`: StrictHostKeyChecking=yes against that known_hosts,
#     the user with -l and the address after "--"
#   - no seed, or a --user-data with its own ssh_keys: the key is learned on
#     first use (accept-new, known_hosts.tofu) with a warning until it is
#   - a crafted user name in the definition runs nothing
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_guest x86_64
command -v ssh-keygen >/dev/null || fail "ssh-keygen (openssh-client) is needed"
command -v isoinfo >/dev/null || fail "isoinfo (genisoimage) is needed"

mkdir -p "$SCRATCH/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/ssh.args"\n' "$SCRATCH" >"$SCRATCH/bin/ssh"
chmod +x "$SCRATCH/bin/ssh"
# fake_ssh VM [ARGS...]: qemuctl ssh with the fake; its argv on one line in $args
fake_ssh() {
	rm -f "$SCRATCH/ssh.args"
	PATH="$SCRATCH/bin:$PATH" qc ssh "$@" 2>"$SCRATCH/ssh.err" || fail "qemuctl ssh $* failed: $(cat "$SCRATCH/ssh.err")"
	args=$(tr '\n' ' ' <"$SCRATCH/ssh.args")
}
# the private key ssh_keys/ed25519_private of a #cloud-config, as a file
yaml_key() { # yaml_key DOC OUT
	python3 -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
k = d.get("ssh_keys") or {}
open(sys.argv[2], "w").write(k.get("ed25519_private", ""))
print(k.get("ed25519_public", ""))' "$1" "$2"
}
pubkey() { cut -d' ' -f1,2 "$1"; } # type and base64, no comment

vm_create() { # vm_create NAME [create options]: the tiny guest, default NIC with an ssh forward
	local n="$1"
	shift
	qc create "$n" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
		--memory 128M "$@" >/dev/null
}

# ---- create: the key pair, the seed, known_hosts -------------------------------
vm_create h1
vm="$ROOT/vms/h1"
[ -f "$vm/ssh_host_ed25519_key" ] && [ ! -L "$vm/ssh_host_ed25519_key" ] || fail "no host key in $vm"
assert_eq "$(stat -c %a "$vm/ssh_host_ed25519_key")" 600 "private host key is 0600"
assert_match "$(cat "$vm/ssh_host_ed25519_key.pub")" '^ssh-ed25519 [A-Za-z0-9+/=]+ h1$' "public host key, comment: the VM"
assert_eq "$(cat "$vm/known_hosts")" "qemuctl-h1 $(pubkey "$vm/ssh_host_ed25519_key.pub")" "known_hosts lists it under qemuctl-h1"
assert_eq "$(stat -c %a "$vm/known_hosts")" 600 "known_hosts is 0600"
isoinfo -R -i "$vm/seed.iso" -x /user-data >"$SCRATCH/ud1"
pub=$(yaml_key "$SCRATCH/ud1" "$SCRATCH/key1")
assert_eq "$pub" "$(cat "$vm/ssh_host_ed25519_key.pub")" "user-data ssh_keys: the public key"
cmp -s "$SCRATCH/key1" "$vm/ssh_host_ed25519_key" || fail "user-data's ed25519_private differs from $vm/ssh_host_ed25519_key"
ok "user-data ssh_keys: the private key, byte for byte"
chmod 600 "$SCRATCH/key1"
assert_eq "$(ssh-keygen -y -f "$SCRATCH/key1" | cut -d" " -f1,2)" "$(pubkey "$vm/ssh_host_ed25519_key.pub")" "the seed's private key is usable and matches the .pub"
assert_match "$(cat "$SCRATCH/ud1")" $'ssh_deletekeys: true' "the image's own host keys go"
sums=$(sha256sum "$vm"/ssh_host_ed25519_key* "$vm/known_hosts")

# ---- seed rebuilds keep the key ------------------------------------------------
# a new generation (the hostname changed), then a lost seed.iso
qc dumpxml h1 | sed "s|<qemuctl:seed enabled='yes' generation='1' \(hash='[0-9a-f]*'\)>|&<qemuctl:hostname>other</qemuctl:hostname>|" >"$SCRATCH/h1.xml"
grep -q '<qemuctl:hostname>other' "$SCRATCH/h1.xml" || fail "could not edit the seed record: $(grep seed "$SCRATCH/h1.xml")"
qc define "$SCRATCH/h1.xml" >/dev/null
qc start h1 --paused
assert_match "$(qc dumpxml h1)" "generation='2'" "start rebuilt the seed with a new generation"
qc destroy h1 >/dev/null
rm "$vm/seed.iso"
qc start h1 --paused
assert_file "$vm/seed.iso"
assert_eq "$(sha256sum "$vm"/ssh_host_ed25519_key* "$vm/known_hosts")" "$sums" "key files and known_hosts unchanged by the rebuilds"
isoinfo -R -i "$vm/seed.iso" -x /user-data >"$SCRATCH/ud2"
assert_match "$(cat "$SCRATCH/ud2")" 'hostname: other' "the rebuilt seed is the new one"
yaml_key "$SCRATCH/ud2" "$SCRATCH/key2" >/dev/null
cmp -s "$SCRATCH/key2" "$vm/ssh_host_ed25519_key" || fail "the rebuilt seed carries another key"
ok "the rebuilt seed carries the same host key"

# ---- qemuctl ssh requires that key ----------------------------------------------
# (a paused guest is refused: resumed, ssh waits for its ready marker)
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][0])' "$vm/network.json")
qc resume h1
fake_ssh h1 -- uname -a
user=$(qc dumpxml h1 | sed -n 's|.*<qemuctl:user>\(.*\)</qemuctl:user>.*|\1|p')
assert_match "$args" "^-l $user -p $port -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$vm/known_hosts -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=qemuctl-h1 -o CheckHostIP=no -o UpdateHostKeys=no -o HashKnownHosts=no -o LogLevel=ERROR -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -i $ROOT/ssh/id_ed25519 -o IdentitiesOnly=yes -- 127\.0\.0\.1 uname -a \$" "qemuctl ssh: known key required, values after --"
assert_eq "$(cat "$SCRATCH/ssh.err")" "" "no warning for a key known in advance"

# ---- a crafted user name in the definition runs nothing -------------------------
qc destroy h1 >/dev/null
qc dumpxml h1 | sed "s|<qemuctl:user>[^<]*</qemuctl:user>|<qemuctl:user>-oProxyCommand=touch $SCRATCH/pwned</qemuctl:user>|" >"$SCRATCH/evil.xml"
[ "$(grep -c 'qemuctl:user>' "$SCRATCH/evil.xml")" = 1 ] && grep -q 'qemuctl:user>-oProxyCommand' "$SCRATCH/evil.xml" ||
	fail "could not put the user in the XML: $(grep 'qemuctl:user' "$SCRATCH/evil.xml")"
# the definition check may refuse it at define; otherwise qemuctl ssh must
if qc define "$SCRATCH/evil.xml" >/dev/null 2>"$SCRATCH/define.err"; then
	# bypass start (the seed build refuses the name too): the VM runs, then the
	# definition changes under it, as a hand edit would
	cp "$vm/domain.xml" "$SCRATCH/evil-saved.xml"
	qc define "$SCRATCH/h1.xml" >/dev/null
	qc start h1 --paused
	cp "$SCRATCH/evil-saved.xml" "$vm/domain.xml"
	rm -f "$SCRATCH/ssh.args"
	expect_fail 1 "user name '-oProxyCommand=touch" env PATH="$SCRATCH/bin:$PATH" "$QC" --root "$ROOT" ssh h1 -- true
	assert_no_file "$SCRATCH/ssh.args"
	# the real ssh too (given 'user@host', it would run the ProxyCommand)
	expect_fail 1 "user name '-oProxyCommand=touch" timeout 30 "$QC" --root "$ROOT" ssh h1 -- true
	qc destroy h1 >/dev/null
else
	assert_match "$(cat "$SCRATCH/define.err")" "user name '-oProxyCommand=touch" "define refuses the crafted user name"
fi
[ -z "$(find "$SCRATCH" -name 'pwned*')" ] || fail "the crafted user name ran a command: $(find "$SCRATCH" -name 'pwned*')"
ok "the crafted user name ran nothing"

# ---- no seed: learned on first use ----------------------------------------------
vm_create n1 --no-seed
[ ! -e "$ROOT/vms/n1/known_hosts" ] && [ ! -e "$ROOT/vms/n1/ssh_host_ed25519_key" ] ||
	fail "a VM without seed has no key of qemuctl's: $(ls "$ROOT/vms/n1")"
ok "no seed: no host key, no known_hosts"
qc start n1
fake_ssh n1 -- true
assert_match "$args" "-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$ROOT/vms/n1/known_hosts\.tofu .*-o HostKeyAlias=qemuctl-n1 " "no seed: accept-new, its own known_hosts.tofu"
assert_match "$(cat "$SCRATCH/ssh.err")" "^qemuctl: warning: VM 'n1': qemuctl did not give this guest its ssh host key" "no seed: a warning on first use"
assert_eq "$(wc -l <"$SCRATCH/ssh.err")" 1 "the warning is one line"
# what ssh writes once it has seen the key
echo "qemuctl-n1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE+SgloPZODB951e5bqxS7enqC0rtqHs2zPDaubqzIbM" >"$ROOT/vms/n1/known_hosts.tofu"
fake_ssh n1 -- true
assert_eq "$(cat "$SCRATCH/ssh.err")" "" "no warning once a key is recorded"
assert_match "$args" "StrictHostKeyChecking=accept-new" "an accepted key stays required (accept-new refuses a changed one)"
qc destroy n1 >/dev/null

# ---- a --user-data that brings its own host keys; one that does not --------------
printf '#cloud-config\nssh_keys:\n  ed25519_private: |\n    x\n' >"$SCRATCH/own-keys.yaml"
vm_create u1 --user-data "$SCRATCH/own-keys.yaml"
isoinfo -R -i "$ROOT/vms/u1/seed.iso" -x /vendor-data >"$SCRATCH/vd-u1"
grep -q 'BEGIN OPENSSH' "$SCRATCH/vd-u1" && fail "vendor-data carries a host key the user-data would replace"
assert_no_file "$ROOT/vms/u1/known_hosts"
qc start u1
fake_ssh u1
assert_match "$args" "StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$ROOT/vms/u1/known_hosts\.tofu " "user-data with ssh_keys: learned on first use"
qc destroy u1 >/dev/null
printf '#cloud-config\nruncmd: [true]\n' >"$SCRATCH/plain.yaml"
vm_create u2 --user-data "$SCRATCH/plain.yaml"
isoinfo -R -i "$ROOT/vms/u2/seed.iso" -x /vendor-data >"$SCRATCH/vd-u2"
yaml_key "$SCRATCH/vd-u2" "$SCRATCH/key-u2" >/dev/null
cmp -s "$SCRATCH/key-u2" "$ROOT/vms/u2/ssh_host_ed25519_key" || fail "vendor-data does not carry u2's host key"
ok "plain --user-data: the host key goes in with vendor-data"
assert_eq "$(cat "$ROOT/vms/u2/known_hosts")" "qemuctl-u2 $(pubkey "$ROOT/vms/u2/ssh_host_ed25519_key.pub")" "plain --user-data: known_hosts"
isoinfo -R -i "$ROOT/vms/u2/seed.iso" -x /user-data >"$SCRATCH/ud-u2"
cmp -s "$SCRATCH/ud-u2" "$SCRATCH/plain.yaml" || fail "the user-data is not verbatim"
ok "the user-data stays verbatim"
