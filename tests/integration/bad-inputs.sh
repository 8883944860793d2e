#!/bin/bash
# The bad-input catalogue: a table of bad inputs across the
# whole CLI.  Every row names the exit code it must give (1: refused, 2:
# usage), an ERE its stderr must match (one that names the object and the
# cause, not just "error"), and the command.  After every row the state root
# must be byte-for-byte what it was (tree_digest: paths, types, modes, sizes,
# SHA-256 of every file), and the output directory for seeds and images must
# still be empty: nothing half-written anywhere.  No QEMU runs; the VM the
# "stopped VM" rows need is created once with --no-seed and a dummy kernel.
#
# The count of rows is printed at the end (tests/README.md records it).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

IN="$SCRATCH/in"  # input files (never modified)
OUT="$SCRATCH/outdir" # where seeds/images would be written: must stay empty
mkdir -p "$IN/dir" "$OUT"
kernel="$IN/vmlinuz"
head -c 4096 /dev/urandom >"$kernel"
mkfifo "$IN/fifo"
printf 'raw\0bytes\xff\xfe' >"$IN/binary"
printf 'not a sector multiple' >"$IN/odd.raw"
printf 'hello\n' >"$IN/hello.txt"
{
	printf '#cloud-config\n'
	head -c $((16 * 1024 * 1024 + 10)) /dev/zero | tr '\0' '#'
} >"$IN/huge-user-data"
printf '#cloud-config\nhostname: \xff\xfe\n' >"$IN/nonutf8-user-data"
printf 'version: 2\n\tethernets: {}\n' >"$IN/tab-network-config"
printf 'not-a-key AAAA\n' >"$IN/bad-key.pub"
# Domain XML files.
x_head='<domain type="qemu">'
x_body='<memory unit="MiB">64</memory><os><type arch="x86_64">hvm</type><kernel>/k</kernel></os>'
printf '%s<name>x</name>' "$x_head" >"$IN/malformed.xml"
printf '<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n%s<name>&b;</name>%s</domain>\n' \
	"$x_head" "$x_body" >"$IN/entities.xml"
printf '<!DOCTYPE domain SYSTEM "http://127.0.0.1:9/x.dtd">\n%s<name>ext</name></domain>\n' \
	"$x_head" >"$IN/external-dtd.xml"
printf '%s%s</domain>\n' "$x_head" "$x_body" >"$IN/no-name.xml"
printf '%s<name>../evil</name>%s</domain>\n' "$x_head" "$x_body" >"$IN/bad-name.xml"
printf '%s<name>m</name><memory unit="MiB">lots</memory></domain>\n' "$x_head" >"$IN/bad-memory.xml"
printf '%s<name>m</name><memory unit="parsecs">1</memory></domain>\n' "$x_head" >"$IN/bad-unit.xml"
printf '%s<name>\xff\xfe</name>%s</domain>\n' "$x_head" "$x_body" >"$IN/non-utf8.xml"
printf '<network><name>n</name></network>\n' >"$IN/not-a-domain.xml"
{
	printf '%s<name>big</name><description>' "$x_head"
	head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' 'a'
	printf '</description>%s</domain>\n' "$x_body"
} >"$IN/huge.xml"
: >"$IN/empty.xml"

qc create vm1 --kernel "$kernel" --no-seed >/dev/null
ok "defined VM 'vm1' (stopped) for the rows that need one"
# A seed build refused for a bad input file must not make qemuctl's own ssh
# key first (it did: the key was made before --network-config was read).
expect_fail 1 "seed: --network-config '$IN/tab-network-config'" \
	qc seed build "$OUT/s.iso" --network-config "$IN/tab-network-config"
assert_no_file "$ROOT/ssh"
# Made on first use and kept, not by a failure: qemuctl's own ssh key (the
# first seed build makes it) and the image catalog directory.
qc seed build "$SCRATCH/first.iso" --hostname first >/dev/null
rm -f "$SCRATCH/first.iso"
mkdir -p -m 0700 "$ROOT/images"
ok "state root with its ssh key and image catalog"

# The state root's digest without the catalog's lock files: import, sync and
# rm take an flock on images/.NAME.lock and leave the empty file (removing a
# lock file is racy: a waiter would end up holding an unlinked inode), so a
# refused import or rm of NAME may leave one.  row() checks they are empty.
digest() {
	tree_digest "$ROOT" | grep -Ev ' \./images/\.[^/]+\.lock$'
}
before=$(digest)
in_before=$(tree_digest "$IN")
rows=0

# row CODE ERE ARGS...: qemuctl ARGS must exit CODE with stderr matching ERE,
# and leave the state root, the inputs and the output directory untouched.
row() {
	local want="$1" pat="$2" rc=0 now
	shift 2
	rows=$((rows + 1))
	"$QC" --root "$ROOT" "$@" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" </dev/null || rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "row $rows: 'qemuctl $*' exited $rc, expected $want; stderr: $(cat "$SCRATCH/stderr")"
	grep -Eq -- "$pat" "$SCRATCH/stderr" ||
		fail "row $rows: 'qemuctl $*': stderr does not match /$pat/: $(cat "$SCRATCH/stderr")"
	grep -q '^qemuctl: error: ' "$SCRATCH/stderr" ||
		fail "row $rows: 'qemuctl $*': no 'qemuctl: error:' line: $(cat "$SCRATCH/stderr")"
	now=$(digest)
	[ -z "$(find "$ROOT/images" -name '.*.lock' \( -size +0 -o ! -perm 0600 \))" ] ||
		fail "row $rows: 'qemuctl $*' left a lock file with content or a wrong mode"
	[ "$now" = "$before" ] ||
		fail "row $rows: 'qemuctl $*' changed the state root: $(diff <(echo "$before") <(echo "$now") | head -20)"
	[ -z "$(ls -A "$OUT")" ] || fail "row $rows: 'qemuctl $*' left files in $OUT: $(ls -A "$OUT")"
	ok "row $rows: exit $rc: $(head -n 1 "$SCRATCH/stderr" | cut -c 1-160)"
}

long=$(printf 'a%.0s' $(seq 200))
K=(--kernel "$kernel" --no-seed)
NAME_RULE="only letters, digits, '.', '_' and '-' are allowed"

# ---- names
row 1 "VM name '\.\./x' is invalid: $NAME_RULE" create ../x "${K[@]}"
row 1 "VM name is empty" create "" "${K[@]}"
row 1 "VM name 'a{20,}\.\.\.' is invalid: it has 200 characters" create "$long" "${K[@]}"
row 1 "VM name 'a b' is invalid" create "a b" "${K[@]}"
row 1 "VM name '\?\?x' is invalid" create $'\xff\xfex' "${K[@]}"
row 1 "VM name '\.hidden' is invalid" create .hidden "${K[@]}"
row 2 "create: unknown option '-dash'" create -dash "${K[@]}"
row 1 "VM name 'a/b' is invalid" create a/b "${K[@]}"
row 1 "VM 'vm1' already exists; pick another name" create vm1 "${K[@]}"
row 1 "--display 'vnc=0\.0\.0\.0': VNC listen address '0\.0\.0\.0' is not a loopback address" \
	create dv "${K[@]}" --display vnc=0.0.0.0
row 1 "--display 'sdl': use none, vnc \(a unix socket\) or vnc=127\.0\.0\.1" create dv "${K[@]}" --display sdl
row 1 "VM 'vm1' is not running" vnc vm1
row 2 "vnc: --listen '10\.0\.0\.1:5901': 10\.0\.0\.1 is not a loopback address" vnc vm1 --listen 10.0.0.1:5901
row 2 "exec: --via 'scp': use agent or ssh" exec vm1 --via scp -- true
row 1 "VM 'vm1' is not running" exec vm1 --via agent -- true
row 1 "image name '\.\./img' is invalid" image import ../img "$IN/odd.raw"
row 1 "network name '\.\./n' is invalid" net create ../n --subnet 10.9.0.0/24
row 1 "VM name '\.\./x' is invalid" start ../x
# every command that builds a path from a name checks it first
row 1 "VM name '\.\./vm1' is invalid" delete ../vm1
row 1 "VM name 'vms/vm1' is invalid" undefine vms/vm1
row 1 "VM name '\.\./x' is invalid" log ../x
row 1 "image name '\.\./x' is invalid" image rm ../x
row 1 "image name 'a/b' is invalid" image sync noble --name a/b --stream "file://$IN/dir/"
row 1 "network name '\.\./n' is invalid" net rm ../n
row 1 "snapshot name '\.\./x' is invalid" snapshot rm vm1 ../x
row 1 "snapshot name '\.\./\.\./x' is invalid" snapshot revert vm1 ../../x

# ---- sizes and counts
row 2 "--memory '0': too small, at least 16M" create m1 "${K[@]}" --memory 0
row 2 "--memory: invalid size '-1': negative sizes are not allowed" create m1 "${K[@]}" --memory -1
row 2 "--memory: invalid size '12X': use a number with an optional K, M, G, T suffix" \
	create m1 "${K[@]}" --memory 12X
row 2 "--memory: size '99999999T' is too large" create m1 "${K[@]}" --memory 99999999T
row 2 "--memory: size '1\.5' is not a whole number of bytes" create m1 "${K[@]}" --memory 1.5
row 1 "--memory [0-9]+ bytes: too small, at least 16M" create m1 "${K[@]}" --memory 1M
row 2 "--disk-size '0': must be larger than 0" create m1 "${K[@]}" --disk-size 0
row 2 "--cpus: 0 is out of range: use a whole number from 1 to 1024" create m1 "${K[@]}" --cpus 0
row 2 "--cpus: invalid number 'abc'" create m1 "${K[@]}" --cpus abc
row 2 "--cpus: 100000 is out of range" create m1 "${K[@]}" --cpus 100000
row 2 "--cpus: empty value" create m1 "${K[@]}" --cpus ""
row 2 "--timeout: invalid number 'soon'" stop vm1 --timeout soon

# ---- arch and accelerator
row 1 "--arch 'sparc': unknown architecture; use x86_64, aarch64 or ppc64le" \
	create m1 "${K[@]}" --arch sparc
row 1 "--accel 'fast': use auto, kvm or tcg" create m1 "${K[@]}" --accel fast
if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
	log "KVM is usable here: the --accel kvm row does not apply"
else
	row 1 "VM 'm1': accel kvm: KVM unusable: .*use tcg or auto \(create --accel" \
		create m1 "${K[@]}" --accel kvm
fi

# ---- --net
row 1 "--net 'garbage': unknown kind 'garbage' \(expected user, network=NAME, bridge=BR or none\)" \
	create m1 "${K[@]}" --net garbage
row 1 "--net 'user,hostfwd=bad': bad hostfwd 'bad' \(expected tcp:" \
	create m1 "${K[@]}" --net user,hostfwd=bad
row 1 "--net 'user,hostfwd=tcp::99999-:22': bad hostfwd host port '99999' \(expected 0-65535\)" \
	create m1 "${K[@]}" --net user,hostfwd=tcp::99999-:22
row 1 "--net 'user,mac=zz': mac: 'zz' is not a MAC address" create m1 "${K[@]}" --net user,mac=zz
row 1 "VM 'm1': network 'missing' does not exist \(create it with 'qemuctl net create missing" \
	create m1 "${K[@]}" --net network=missing
row 1 "--net 'network=lan,ip=999\.1\.1\.1': ip: '999\.1\.1\.1' is not an IPv4 address" \
	create m1 "${K[@]}" --net network=lan,ip=999.1.1.1
row 1 "bridge: interface name 'b{26}' is 26 bytes long; Linux allows at most 15" \
	create m1 "${K[@]}" --net bridge=bbbbbbbbbbbbbbbbbbbbbbbbbb
row 1 "VM 'm1': NIC 'net0': bridge 'qcnosuchbr0': no such interface" \
	create m1 "${K[@]}" --net bridge=qcnosuchbr0

# ---- --share and --disk
row 1 "--share 'nocolon': use HOSTDIR:TAG\[:ro\]" create m1 "${K[@]}" --share nocolon
row 1 "--share '/nonexistent/d:tag': .*'/nonexistent/d': No such file or directory" \
	create m1 "${K[@]}" --share /nonexistent/d:tag
row 1 "--share '$IN/hello.txt:tag': '$IN/hello.txt' is not a directory" \
	create m1 "${K[@]}" --share "$IN/hello.txt:tag"
row 1 "--share '$IN/dir:bad tag': tag 'bad tag' must be 1-31 letters" \
	create m1 "${K[@]}" --share "$IN/dir:bad tag"
row 1 "--disk '0': too small, at least 1M" create m1 "${K[@]}" --disk 0
row 1 "--disk '/nonexistent\.qcow2': cannot read: No such file or directory" \
	create m1 "${K[@]}" --disk /nonexistent.qcow2
row 1 "--disk '$IN/dir': not a regular file" create m1 "${K[@]}" --disk "$IN/dir"
row 1 "--disk '$IN/fifo': not a regular file" create m1 "${K[@]}" --disk "$IN/fifo"
row 1 "--disk '$IN/odd\.raw' is not a disk image \(21 bytes of raw data" \
	create m1 "${K[@]}" --disk "$IN/odd.raw"
row 1 "disk-image '/dev/zero': not a regular file" create m1 --disk-image /dev/zero --no-seed
row 1 "image '?nosuch'? (not found|does not exist)" create m1 --image nosuch --no-seed

# ---- boot files and seed options of create
row 1 "--kernel '/nonexistent/vmlinuz': .*No such file or directory" \
	create m1 --kernel /nonexistent/vmlinuz --no-seed
row 1 "kernel '$IN/dir': not a regular file" create m1 --kernel "$IN/dir" --no-seed
row 1 "kernel '$IN/fifo': not a regular file" create m1 --kernel "$IN/fifo" --no-seed
row 1 "nothing to boot" create m1 --no-seed
row 1 "host name '-bad' is invalid: a label cannot start or end with '-'" \
	create m1 --kernel "$kernel" --hostname -bad
row 1 "--user-data '$IN/dir': not a regular file" create m1 --kernel "$kernel" --user-data "$IN/dir"
row 1 "user-data '$IN/binary': binary data \(a NUL byte at offset 3\)" \
	create m1 --kernel "$kernel" --user-data "$IN/binary"
row 1 "ssh key: open '/nonexistent/key\.pub': No such file or directory" \
	create m1 --kernel "$kernel" --ssh-key /nonexistent/key.pub
row 1 "--network-config '$IN/fifo': not a regular file" \
	create m1 --kernel "$kernel" --network-config "$IN/fifo"

# ---- domain XML
row 1 "$IN/malformed\.xml:1: malformed XML: Premature end of data" define "$IN/malformed.xml"
row 1 "$IN/entities\.xml:2: a DOCTYPE that declares entities is not accepted" \
	define "$IN/entities.xml"
row 1 "$IN/external-dtd\.xml:[0-9]+: missing <memory>" define "$IN/external-dtd.xml"
row 1 "$IN/no-name\.xml:1: missing <name>" define "$IN/no-name.xml"
row 1 "$IN/bad-name\.xml:1: VM name '\.\./evil' is invalid" define "$IN/bad-name.xml"
row 1 "$IN/bad-memory\.xml:1: <memory>: memory size 'lots' is not a number" \
	define "$IN/bad-memory.xml"
row 1 "$IN/bad-unit\.xml:1: .*unit 'parsecs'" define "$IN/bad-unit.xml"
row 1 "$IN/non-utf8\.xml:1: malformed XML: Input is not proper UTF-8" define "$IN/non-utf8.xml"
row 1 "$IN/not-a-domain\.xml:1: .*<domain>" define "$IN/not-a-domain.xml"
row 1 "'$IN/huge\.xml' is too large \([0-9]+ bytes, the limit is 4194304\)" define "$IN/huge.xml"
row 1 "$IN/empty\.xml.*(empty|malformed XML)" define "$IN/empty.xml"
row 1 "'$IN/dir' is a directory" define "$IN/dir"
row 1 "'$IN/fifo' is not a regular file \(FIFO\)" define "$IN/fifo"
row 1 "'/dev/zero' is not a regular file \(character device\)" define /dev/zero
row 1 "'/nonexistent\.xml'.*No such file or directory" define /nonexistent.xml

# ---- qmp JSON (checked before the VM is looked up)
row 2 "qmp: command 'not json' is not valid JSON" qmp nosuch 'not json'
row 2 "qmp: command '\[1\]': use a JSON object with \"execute\"" qmp nosuch '[1]'
row 2 "qmp: command '\{\"arguments\":\{\}\}': use a JSON object with \"execute\"" \
	qmp nosuch '{"arguments":{}}'
row 1 "VM 'nosuch' does not exist \(see 'qemuctl list'\)" qmp nosuch '{"execute":"query-status"}'
row 1 "VM 'vm1' is not running \(state: stopped\)" qmp vm1 '{"execute":"query-status"}'

# ---- operations on missing objects / wrong states
row 1 "VM 'nosuch' does not exist \(see 'qemuctl list'\)" info nosuch
row 1 "VM 'nosuch' does not exist" delete nosuch
row 1 "VM 'nosuch' does not exist" dumpxml nosuch
row 1 "VM 'vm1' is not running \(state: stopped\)" pause vm1
row 1 "VM 'vm1' is not running" reboot vm1
row 1 "image 'nosuch' not found; see 'qemuctl image list'" image rm nosuch
assert_no_file "$ROOT/images/.nosuch.lock" # rm of nothing takes no lock (it did)
row 1 "network 'nosuch' does not exist \(create it with 'qemuctl net create nosuch" net rm nosuch

# ---- URLs and image import
row 1 "image 'img': 'ftp://example\.org/x\.img': unsupported URL scheme; use https://, http:// or file://" \
	image import img ftp://example.org/x.img
row 1 "image 'img': download 'http://\[bad': URL using bad/illegal format" \
	image import img 'http://[bad'
row 1 "image 'img': download 'file:///nonexistent/x\.img': Couldn't open file" \
	image import img file:///nonexistent/x.img
row 1 "image 'img': '$IN/dir' is not a regular file" image import img "$IN/dir"
row 1 "image 'img': $IN/odd\.raw is not a disk image \(21 bytes of raw data" \
	image import img "$IN/odd.raw"
row 1 "image 'img': --sha256 'xyz' is not 64 hex digits" image import img "$kernel" --sha256 xyz
row 1 "image reference 'ubuntu:': use DISTRO:RELEASE" image sync ubuntu:
row 1 "download 'file:///nonexistent/streams/v1/index\.json': Couldn't open file" \
	image sync ubuntu:24.04 --stream file:///nonexistent

# ---- networks
row 1 "network 'n1': --subnet: 'garbage' has no prefix length" net create n1 --subnet garbage
row 1 "network 'n1': --subnet: '10\.0\.0\.1/24' has host bits set; did you mean 10\.0\.0\.0/24\?" \
	net create n1 --subnet 10.0.0.1/24
row 1 "network 'n1': --subnet: '10\.0\.0\.0/33': bad prefix length '33'" \
	net create n1 --subnet 10.0.0.0/33
row 2 "net create n1: missing --subnet CIDR" net create n1
row 1 "network 'n1': --bridge: interface name 'b{26}' is 26 bytes long" \
	net create n1 --subnet 10.9.0.0/24 --bridge bbbbbbbbbbbbbbbbbbbbbbbbbb

# ---- seed build
row 1 "seed: --hostname: host name '-bad' is invalid" seed build "$OUT/s.iso" --hostname -bad
row 1 "seed: --hostname: host name 'a{70}' is invalid: a label has 70 characters" \
	seed build "$OUT/s.iso" --hostname "$(printf 'a%.0s' $(seq 70))"
row 1 "seed: --user-data '$IN/binary': binary data \(a NUL byte at offset 3\), expected text" \
	seed build "$OUT/s.iso" --user-data "$IN/binary"
row 1 "seed: --user-data: '$IN/huge-user-data' is too large \(16777240 bytes, the limit is 16777216\)" \
	seed build "$OUT/s.iso" --user-data "$IN/huge-user-data"
row 1 "seed: --user-data '$IN/nonutf8-user-data'.*UTF-8" \
	seed build "$OUT/s.iso" --user-data "$IN/nonutf8-user-data"
row 1 "seed: --user-data '$IN/hello\.txt': starts with 'hello', which cloud-init does not recognise" \
	seed build "$OUT/s.iso" --user-data "$IN/hello.txt"
row 1 "seed: --user-data: '$IN/dir' is a directory" seed build "$OUT/s.iso" --user-data "$IN/dir"
row 1 "seed: --user-data: '$IN/fifo' is not a regular file \(FIFO\)" \
	seed build "$OUT/s.iso" --user-data "$IN/fifo"
row 1 "seed: --network-config '$IN/tab-network-config'.*tab" \
	seed build "$OUT/s.iso" --network-config "$IN/tab-network-config"
row 1 "seed: --meta-data '$IN/binary': binary data" seed build "$OUT/s.iso" --meta-data "$IN/binary"
row 1 "seed: ssh key '$IN/bad-key\.pub'.*key" seed build "$OUT/s.iso" --ssh-key "$IN/bad-key.pub"
row 1 "seed: output directory '/nonexistent/dir': No such file or directory" \
	seed build /nonexistent/dir/s.iso --hostname h
row 1 "seed: output '$OUT' is a directory; give a file name, e\.g\. $OUT/seed\.iso" \
	seed build "$OUT" --hostname h

# ---- unknown commands and options (exit 2)
row 2 "unknown command 'bogus'" bogus
row 2 "create: unknown option '--bogus'" create m1 "${K[@]}" --bogus
row 2 "unknown global option '--bogus'" --bogus list
row 2 "--root needs a directory" --root
row 2 "list: unexpected argument 'extra'" list extra
row 2 "create: missing NAME" create
row 2 "image: unknown subcommand 'bogus' \(sync, import, list, rm\)" image bogus
row 2 "net: unknown subcommand 'bogus'" net bogus
row 2 "unknown seed command 'bogus' \(expected: build\)" seed bogus
row 2 "qmp: .*(missing|JSON)" qmp vm1

[ "$(tree_digest "$IN")" = "$in_before" ] || fail "an input file was modified"
[ "$rows" -ge 60 ] || fail "only $rows rows; the catalogue promises at least 60"
ok "$rows bad inputs refused with the exact exit code and message, state root unchanged"
