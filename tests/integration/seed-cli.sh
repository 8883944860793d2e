#!/bin/bash
# `qemuctl seed build`: what it writes (read back with isoinfo and xorriso),
# qemuctl's own key, determinism, and bad input: exit codes, messages, and
# no output file left behind.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

S=$SCRATCH
printf '#cloud-config\nwrite_files:\n  - path: /etc/x\n    content: "a: b # c"\n' >"$S/ud"
printf 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' >"$S/nc"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK user@host\n' >"$S/k.pub"

# --- a seed with every file ----------------------------------------------------
qc seed build "$S/a.iso" --hostname web-1 --user-data "$S/ud" --network-config "$S/nc" \
	--instance-id iid-cli-1
assert_eq "$(isoinfo -d -i "$S/a.iso" | sed -n 's/^Volume id: //p')" cidata "volume id"
isoinfo -d -i "$S/a.iso" | grep -q '^Joliet with UCS level 3 found' || fail "no Joliet"
isoinfo -d -i "$S/a.iso" | grep -q '^Rock Ridge signatures version 1 found' || fail "no Rock Ridge"
ok "isoinfo -d: Joliet and Rock Ridge"
assert_eq "$(isoinfo -R -i "$S/a.iso" -x /user-data | sha256sum)" "$(sha256sum <"$S/ud")" \
	"user-data verbatim"
assert_eq "$(isoinfo -J -i "$S/a.iso" -x /network-config | sha256sum)" "$(sha256sum <"$S/nc")" \
	"network-config through Joliet"
assert_eq "$(isoinfo -R -i "$S/a.iso" -x /meta-data)" \
	"$(printf 'instance-id: iid-cli-1\nlocal-hostname: web-1')" "meta-data"
assert_eq "$(xorriso -indev "$S/a.iso" -find / -type f -- 2>/dev/null | sort | tr '\n' ' ')" \
	"'/meta-data' '/network-config' '/user-data' " "xorriso -find"
isoinfo -R -l -i "$S/a.iso" | grep -E ' user-data *$' | grep -q '^-rw-r--r-- *1 *0 *0 ' ||
	fail "Rock Ridge mode/uid/gid of user-data: $(isoinfo -R -l -i "$S/a.iso")"
ok "Rock Ridge: -rw-r--r-- root root"

# --- same input, same bytes; generated user-data carries qemuctl's key --------
qc seed build "$S/b.iso" --hostname web-1 --user-data "$S/ud" --network-config "$S/nc" \
	--instance-id iid-cli-1
cmp -s "$S/a.iso" "$S/b.iso" || fail "two builds differ"
ok "deterministic"
qc seed build "$S/c.iso" --hostname h --ssh-key "$S/k.pub"
assert_file "$ROOT/ssh/id_ed25519"
assert_file "$ROOT/ssh/id_ed25519.pub"
ud=$(isoinfo -R -i "$S/c.iso" -x /user-data)
assert_match "$ud" '"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK user@host"' "user key"
own=$(cut -d' ' -f1-2 "$ROOT/ssh/id_ed25519.pub")
grep -qF -- "\"$own qemuctl\"" <<<"$ud" || fail "qemuctl's own key missing: $ud"
ok "qemuctl's own key"
python3 -c 'import sys, yaml; d = yaml.safe_load(sys.stdin); assert d["hostname"] == "h"' <<<"$ud" ||
	fail "generated user-data is not the expected YAML: $ud"
ok "generated user-data parses as YAML"

# --- bad input: clear errors, exit 1 (2 for usage), nothing written -----------------
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' | sed '1s/^/#!\/bin\/sh\n/' >"$S/big"
printf '#cloud-config\n\0\1\2garbage' >"$S/bin"
printf 'hello\n' >"$S/hello"
mkfifo "$S/fifo"
expect_fail 1 "too large" qc seed build "$S/x.iso" --user-data "$S/big"
expect_fail 1 "binary data \(a NUL byte at offset 14\)" qc seed build "$S/x.iso" --user-data "$S/bin"
expect_fail 1 "starts with 'hello', which cloud-init does not recognise" \
	qc seed build "$S/x.iso" --user-data "$S/hello"
expect_fail 1 "ssh key: open '$S/missing.pub': No such file or directory" \
	qc seed build "$S/x.iso" --ssh-key "$S/missing.pub"
expect_fail 1 "ssh key: '$S/fifo' is not a regular file" qc seed build "$S/x.iso" --ssh-key "$S/fifo"
expect_fail 1 "ssh key '$S/hello': line 1 is not an ssh public key" \
	qc seed build "$S/x.iso" --ssh-key "$S/hello"
expect_fail 1 "seed: --hostname: " qc seed build "$S/x.iso" --hostname 'bad_host'
expect_fail 1 "seed: --hostname: " qc seed build "$S/x.iso" --hostname 'a"b: c'
expect_fail 1 "expected 'key: value' at the top level, found 'hello'" \
	qc seed build "$S/x.iso" --network-config "$S/hello"
expect_fail 1 "exclude each other" qc seed build "$S/x.iso" --meta-data "$S/nc" --instance-id i
expect_fail 2 "missing OUT.iso" qc seed build
expect_fail 2 "unknown option '--bogus'" qc seed build "$S/x.iso" --bogus
expect_fail 2 "--hostname needs a value" qc seed build "$S/x.iso" --hostname
assert_no_file "$S/x.iso"
[ -z "$(find "$S" -name '*.tmp*' -o -name '.*x.iso*')" ] || fail "temp files left: $(ls -a "$S")"
ok "no temp files left"
