#!/bin/bash
# qemuctl stats on the tiny test guest, in a private network namespace
# (re-executed under `unshare -n`): a guest booting from its root disk and
# attached to a named network (tap NIC) besides a user-mode NIC.
#   - refusals: a stopped VM, an unknown VM, a bad --watch (exit codes);
#   - right after start and again when the guest is up: vCPU time grows, the
#     root disk's reads grow (the boot reads it);
#   - the guest writes 4 MiB with fsync: the root disk's written bytes and
#     operations grow by at least that;
#   - the guest pings the gateway: the tap NIC's packets grow both ways; the
#     user-mode NIC has no counters (null);
#   - the devices are the run's, published in state.json at start: a
#     domain.xml edited while the VM runs changes nothing (memory, NICs);
#     a state.json whose devices fail a check (a bad disk name) falls back
#     to domain.xml (the edited definition shows);
#   - QEMU's RSS and CPU time, the configured memory; every document follows
#     the schema (docs/schema/qemuctl-v2.json), --watch prints one per line
#     with growing sample times; no NAME: every running VM (sampled side by
#     side), not the stopped one.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
ip link set lo up

schema="$QC_SRCDIR/docs/schema/qemuctl-v2.json"
valid() { # valid [--lines] < json
	python3 "$QC_SRCDIR/tests/integration/json_schema.py" "$schema" stats "$@" ||
		fail "stats output does not follow the schema"
}
get() { # get JSON PYEXPR: evaluate PYEXPR on the first VM's document v
	python3 -c 'import json, sys
v = json.loads(sys.argv[1])["vms"][0]
disk = {d["name"]: d for d in v["disks"]}
nic = {n["name"]: n for n in v["nics"]}
print(eval(sys.argv[2]))' "$1" "$2"
}

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
qc net create lan --subnet 10.79.0.0/24 >/dev/null
qc create s1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 160M --cpus 1 --net network=lan --net user >/dev/null
for v in s2 s3 s4; do
	qc create "$v" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --no-seed --net none --memory 64M >/dev/null
done

expect_fail 1 "VM 's2' is not running" qc stats s2
expect_fail 1 "VM 'nosuch'" qc stats nosuch
expect_fail 2 "stats: --watch: 0 is out of range: use a whole number from 1 to 86400 \(seconds\)" qc stats --watch 0
expect_fail 2 "stats: --watch: invalid number 'soon': use a whole number from 1 to 86400 \(seconds\)" qc stats --watch soon
expect_fail 2 "stats: unknown option '--bogus'" qc stats --bogus
assert_eq "$(qc --json stats)" '{"vms":[]}' "no running VM: an empty list"

qc start s1
early=$(qc --json stats s1)
valid <<<"$early"
wait_for_text "$ROOT/vms/s1/console.log" '^GUEST-READY' 180
up=$(qc --json stats s1)
valid <<<"$up"
assert_eq "$(get "$up" 'v["memory"]')" $((160 * 1024 * 1024)) "memory: the configured size"
assert_eq "$(get "$up" 'v["balloon"]')" None "no balloon: null"
assert_eq "$(get "$up" 'len(v["vcpus"])')" 1 "one vCPU"
[ "$(get "$up" 'v["vcpu_cpu_ns"]')" -gt "$(get "$early" 'v["vcpu_cpu_ns"]')" ] ||
	fail "vCPU time did not grow while the guest booted: $early -> $up"
ok "vCPU time grows while the guest boots"
[ "$(get "$up" 'disk["disk0"]["rd_bytes"]')" -gt "$(get "$early" 'disk["disk0"]["rd_bytes"]')" ] ||
	fail "the root disk's reads did not grow during boot"
ok "the root disk's reads grow during boot"
[ "$(get "$up" 'v["qemu_rss"] > 16 << 20 and v["qemu_cpu_ns"] >= v["vcpu_cpu_ns"] // 2')" = True ] ||
	fail "QEMU's RSS or CPU time implausible: $up"
ok "QEMU's RSS and CPU time are there"
qpid=$(get "$up" 'v["qemu_pid"]')
tid=$(get "$up" 'v["vcpus"][0]["thread_id"]')
[ -d "/proc/$qpid/task/$tid" ] || fail "vCPU thread $tid is not a thread of QEMU $qpid"
ok "the vCPU thread $tid is one of QEMU's threads"
assert_eq "$(get "$up" 'nic["net1"]["rx_bytes"]')" None "the user-mode NIC has no counters"

guest_console s1
guest_say "dd if=/dev/urandom of=/stats.bin bs=1024 count=4096 conv=fsync 2>/dev/null && sync && echo DD-\$((40+2))"
wait_for_text "$SCRATCH/con$con_n.out" '^DD-42' 120
after=$(qc --json stats s1)
valid <<<"$after"
grew=$(get "$after" 'disk["disk0"]["wr_bytes"]')
[ $((grew - $(get "$up" 'disk["disk0"]["wr_bytes"]'))) -ge $((4 << 20)) ] ||
	fail "the root disk's written bytes grew by less than 4 MiB: $(get "$up" 'disk["disk0"]["wr_bytes"]') -> $grew"
ok "the root disk's written bytes grow by the 4 MiB the guest wrote"
[ "$(get "$after" 'disk["disk0"]["wr_ops"]')" -gt "$(get "$up" 'disk["disk0"]["wr_ops"]')" ] ||
	fail "write operations did not grow"
ok "the root disk's write operations grow"

wait_for_text "$ROOT/vms/s1/console.log" '^NET static dev=eth0' 30
before_ping=$(qc --json stats s1)
guest_say "ping -c 3 -W 2 10.79.0.1 >/dev/null && echo PING-OK || echo PING-FAIL"
wait_for_text "$SCRATCH/con$con_n.out" '^PING-(OK|FAIL)' 60
grep -q '^PING-OK' "$SCRATCH/con$con_n.out" || fail "the guest could not ping the gateway"
after_ping=$(qc --json stats s1)
for k in tx_packets rx_packets; do
	d=$(($(get "$after_ping" "nic[\"net0\"][\"$k\"]") - $(get "$before_ping" "nic[\"net0\"][\"$k\"]")))
	[ "$d" -ge 3 ] || fail "net0 $k grew by $d during 3 pings"
	ok "the tap NIC's $k grow by $d during 3 pings"
done

"$QC" --root "$ROOT" --json stats s1 --watch 1 >"$SCRATCH/watch.jsonl" &
watch_pid=$!
on_exit "kill $watch_pid 2>/dev/null"
three() { [ "$(wc -l <"$SCRATCH/watch.jsonl")" -ge 3 ]; }
wait_until 30 three
kill "$watch_pid"
wait "$watch_pid" 2>/dev/null || true
valid --lines <"$SCRATCH/watch.jsonl"
python3 -c 'import json, sys
t = [json.loads(l)["vms"][0]["sampled_at_ms"] for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if all(b - a >= 900 for a, b in zip(t, t[1:])) else 1)' "$SCRATCH/watch.jsonl" ||
	fail "--watch 1 samples are not a second apart: $(cat "$SCRATCH/watch.jsonl")"
ok "--watch 1 prints one document a second"

# The run's devices, published in state.json: the tap NIC's tap exists;
# stats shows them, not those of a definition edited since the start.
devs() { # devs JSON: "MEMORY DISK... / NIC:TYPE..." of the first VM
	get "$1" '" ".join([str(v["memory"])] + [d["name"] for d in v["disks"]] + ["/"] + [n["name"] + ":" + n["type"] for n in v["nics"]])'
}
run_devs="$((160 << 20)) disk0 seed / net0:network net1:user"
assert_eq "$(devs "$(qc --json stats s1)")" "$run_devs" "stats: the run's memory, disks and NICs"
tap=$(grep -o '"tap": "[^"]*"' "$ROOT/vms/s1/state.json" | cut -d'"' -f4)
ip link show "$tap" >/dev/null || fail "state.json's tap '$tap' of net0 is no interface"
ok "state.json publishes net0's tap $tap"
# (define refuses a running VM: domain.xml is edited in place, as by hand)
sed -e "s|<memory unit='KiB'>163840</memory>|<memory unit='KiB'>196608</memory>|" \
	-e "/<interface type='user'>/,/<\/interface>/d" \
	-e "/<qemuctl:nic name='net1'>/,/<\/qemuctl:nic>/d" "$ROOT/vms/s1/domain.xml" >"$SCRATCH/edited.xml"
mv "$SCRATCH/edited.xml" "$ROOT/vms/s1/domain.xml"
assert_eq "$(devs "$(qc --json stats s1)")" "$run_devs" "stats after domain.xml is edited (192M, no user NIC): still the run's devices"
# a disk name state.json must not hold: the record is refused as a whole, domain.xml is read instead
cp "$ROOT/vms/s1/state.json" "$SCRATCH/state.good"
sed 's|"name": "disk0"|"name": "../disk0"|' "$SCRATCH/state.good" >"$SCRATCH/state.bad"
mv "$SCRATCH/state.bad" "$ROOT/vms/s1/state.json"
assert_eq "$(devs "$(qc --json stats s1)")" "$((192 << 20)) disk0 seed / net0:network" \
	"a bad disk name in state.json: the devices of the edited domain.xml"
mv "$SCRATCH/state.good" "$ROOT/vms/s1/state.json"

# several running VMs are sampled side by side (a thread each)
qc start s2 --paused
qc start s4 --paused
all=$(qc --json stats)
valid <<<"$all"
assert_eq "$(python3 -c 'import json, sys; print(" ".join(v["name"] for v in json.loads(sys.argv[1])["vms"]))' "$all")" \
	"s1 s2 s4" "no NAME: every running VM (s1, s2, s4) in name order, not the stopped s3"
assert_eq "$(python3 -c 'import json, sys; print(len({v["qemu_pid"] for v in json.loads(sys.argv[1])["vms"]}))' "$all")" \
	3 "each with its own QEMU"
assert_eq "$(qc --json stats s4 s2 | python3 -c 'import json, sys; print(" ".join(v["name"] for v in json.load(sys.stdin)["vms"]))')" \
	"s4 s2" "named VMs in the order given"
expect_fail 1 "VM 's3' is not running" qc stats s2 s3
assert_match "$(qc stats s1)" '^NAME +CPU% +VCPU-TIME' "the human table"
exec 7>&-
qc destroy s1 >/dev/null
expect_fail 1 "VM 's1' is not running" qc stats s1
qc delete s1
qc destroy s2 >/dev/null
qc destroy s4 >/dev/null
for v in s2 s3 s4; do qc delete "$v"; done
qc net rm lan >/dev/null
