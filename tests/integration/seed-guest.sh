#!/bin/bash
# Seeds from `qemuctl seed build` read by a real Linux kernel: the tiny test
# guest (tests/guest/) boots under TCG with the seed attached directly to
# QEMU, mounts it by its 'cidata' label through the kernel's isofs driver,
# and prints CIDATA/NET/USERDATA markers on its console.
#   boot 1: virtio-blk seed, #! user-data script, static network-config
#   boot 2: ide-cd seed on q35's AHCI (how qemuctl attaches seeds on x86_64),
#           generated #cloud-config, hostname and instance id from meta-data
#   boot 3: a random tree (7 directory levels, names up to 255 bytes with
#           spaces and UTF-8, empty and 200 KiB files, several modes) written
#           by cloudinit/iso.c; the guest kernel lists every file with its
#           md5 and mode, which must match the host's tree
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_guest x86_64
# The MAC seed-net.yaml matches (its static network-config).
MAC=52:54:00:12:34:56

has_line() { # has_line TEXT LINE WHAT: TEXT has exactly LINE as one of its lines
	grep -qxF -- "$2" <<<"$1" || fail "$3: no line '$2' in: $1"
	ok "$3: $2"
}

boot() { # boot NAME SEED DRIVE-ARGS...
	local name="$1" seed="$2" pid
	shift 2
	qemu-system-x86_64 -M q35 -accel tcg -nodefaults -no-user-config -display none \
		-no-reboot -m 256 -smp 1 \
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$GUEST_APPEND" \
		-serial "file:$SCRATCH/$name.con" \
		-netdev user,id=n0 -device "virtio-net-pci,netdev=n0,mac=$MAC,romfile=" \
		-drive "file=$seed,if=none,id=seed,format=raw,readonly=on" "$@" \
		>"$SCRATCH/$name.qemu.log" 2>&1 &
	pid=$!
	on_exit "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for_text "$SCRATCH/$name.con" '^GUEST-READY' 180
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# --- boot 1 -------------------------------------------------------------------
# The script also reports what the kernel made of the ISO: file modes from
# Rock Ridge (0644 is not a mode isofs invents) and the ER it announced.
cat >"$SCRATCH/script.sh" <<'SH'
#!/bin/sh
echo "USERDATA-RAN $(hostname)"
echo "MODES $(stat -c '%a:%n' /run/cidata/* | tr '\n' ' ')"
echo "RRIP $(dmesg | grep -o 'ISO 9660 Extensions: IEEE_P1282' | head -n1)"
SH
qc seed build "$SCRATCH/seed1.iso" --hostname h1 --instance-id iid-seedtest-1 \
	--user-data "$SCRATCH/script.sh" --network-config "$QC_SRCDIR/tests/integration/seed-net.yaml"
assert_file "$SCRATCH/seed1.iso"
boot one "$SCRATCH/seed1.iso" -device virtio-blk-pci,drive=seed
con=$(tr -d '\r' <"$SCRATCH/one.con")
has_line "$con" 'CIDATA hostname=h1 instance-id=iid-seedtest-1' "guest read the virtio-blk seed"
has_line "$con" 'USERDATA-RAN h1' "guest ran the user-data script"
has_line "$con" 'USERDATA exit=0' "user-data exit status"
has_line "$con" 'NET static dev=eth0 addr=10.77.0.5/24 gw=10.77.0.1' "static network-config"
has_line "$con" 'MODES 644:/run/cidata/meta-data 644:/run/cidata/network-config 644:/run/cidata/user-data ' \
	"Rock Ridge names and modes through the kernel's isofs"
has_line "$con" 'RRIP ISO 9660 Extensions: IEEE_P1282' "the kernel saw the RRIP 1.12 ER entry"

# --- boot 2 -------------------------------------------------------------------
qc seed build "$SCRATCH/seed2.iso" --hostname h2 --no-default-keys
iid=$(isoinfo -R -i "$SCRATCH/seed2.iso" -x /meta-data | sed -n 's/^instance-id: //p')
assert_match "$iid" '^iid-qemuctl-[0-9a-f]{16}$' "generated instance id"
boot two "$SCRATCH/seed2.iso" -device ide-cd,drive=seed,bus=ide.0
con=$(tr -d '\r' <"$SCRATCH/two.con")
has_line "$con" "CIDATA hostname=h2 instance-id=$iid" "guest read the ide-cd seed"
if grep -q 'USERDATA exit' <<<"$con"; then
	fail "a #cloud-config user-data must not be run as a script"
fi
ok "generated #cloud-config was not executed"

# --- boot 3 -------------------------------------------------------------------
MKISO="$QC_BUILDDIR/tests/integration/seed-mkiso"
[ -x "$MKISO" ] || fail "$MKISO is not built (make tests/integration/seed-mkiso)"
T="$SCRATCH/tree"
python3 - "$T" <<'PY'
import os, random, sys
random.seed(20261125)
root = sys.argv[1]
parts = ["a", "Z", "7", "-", "_", ".", " ", "é", "日本", "data", "conf", "LONG", ";", "*",
         "?", ":", "\\", "\"", "'", "#", "&"]
def name(maxlen):
    n = ""
    want = random.choice([random.randint(1, 20), random.randint(200, 250)])
    while len(n.encode()) < want:
        p = random.choice(parts)
        if len((n + p).encode()) > maxlen:
            break
        n += p
    return n if n.strip(".") else "d"
os.makedirs(root)
dirs = [root]
for i in range(12):
    parent = random.choice(dirs)
    if parent.count(os.sep) - root.count(os.sep) >= 7:
        continue
    d = os.path.join(parent, name(60) + "-d%d" % i)
    os.makedirs(d)
    dirs.append(d)
for i in range(30):
    d = random.choice(dirs)
    size = random.choice([0, 1, 2047, 2048, 2049, random.randint(0, 200 * 1024)])
    p = os.path.join(d, name(240) + "-%d" % i)
    with open(p, "wb") as f:
        f.write(random.randbytes(size))
    os.chmod(p, random.choice([0o644, 0o600, 0o755, 0o444]))
# the deepest possible directory: 7 levels below the root
deep = os.path.join(root, *["l%d" % k for k in range(1, 8)])
os.makedirs(deep)
with open(os.path.join(deep, "bottom"), "w") as f:
    f.write("bottom\n")
with open(os.path.join(root, "meta-data"), "w") as f:
    f.write("instance-id: iid-tree-1\nlocal-hostname: tree\n")
with open(os.path.join(root, "user-data"), "w") as f:
    f.write("""#!/bin/sh
cd /run/cidata || exit 1
find . -type f | while IFS= read -r f; do
	echo "SUM $(md5sum <"$f" | cut -d' ' -f1) $(stat -c %a:%u:%g "$f") $f"
done
find . -type d | while IFS= read -r d; do echo "DIR $(stat -c %a "$d") $d"; done
echo SUMS-END
""")
os.chmod(os.path.join(root, "user-data"), 0o755)
PY
"$MKISO" "$SCRATCH/tree.iso" "$T"
(cd "$T" && find . -type f | while IFS= read -r f; do
	echo "SUM $(md5sum <"$f" | cut -d' ' -f1) $(stat -c %a "$f"):0:0 $f"
done && find . -type d | while IFS= read -r d; do echo "DIR $(stat -c %a "$d") $d"; done) |
	LC_ALL=C sort >"$SCRATCH/want"
boot three "$SCRATCH/tree.iso" -device virtio-blk-pci,drive=seed
tr -d '\r' <"$SCRATCH/three.con" | grep -E '^(SUM|DIR) ' | LC_ALL=C sort >"$SCRATCH/got"
grep -q '^SUMS-END' <(tr -d '\r' <"$SCRATCH/three.con") || fail "the guest's listing did not finish"
diff -u "$SCRATCH/want" "$SCRATCH/got" >"$SCRATCH/diff" ||
	fail "the guest kernel reads the tree differently: $(head -c 3000 "$SCRATCH/diff")"
ok "guest kernel read $(grep -c '^SUM' "$SCRATCH/want") files and $(grep -c '^DIR' "$SCRATCH/want") directories byte-exactly, with their modes"
