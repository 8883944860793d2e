#!/bin/bash
# Concurrency, as root in a private network namespace:
#   1. soak: one named network and 8 tiny guests (some with an overlay on a
#      catalog image and a data disk); 16 workers run random operations on
#      random VMs for QC_SOAK_SECONDS (default 25): start, stop (ACPI and
#      --force), destroy, info, list, dumpxml, define of an edited XML,
#      snapshot create/rm, resize, attach/detach of disks and NICs,
#      autostart on/off, net list, log, console, wait, delete + re-create.
#      Every operation must exit 0 or 1 (never 2, a signal, a hang past its
#      timeout, or a sanitizer report) and every exit 1 must carry a known,
#      clean refusal.  Afterwards: list/info agree with the QEMU processes,
#      one lease per defined NIC with no duplicate address, no tap of a
#      stopped VM, no held lock, no temp file, every domain.xml parses, every
#      qcow2 passes qemu-img check, every VM starts and stops again.
#   2. 20 VMs started by 20 parallel `qemuctl start`: all exit 0 and run,
#      then 20 parallel stops; no QEMU left.
#   3. net rm refuses a network a create in progress has leased from.
#   4. parallel creates and deletes of one name: exactly one wins; 20
#      parallel creates on one network lease distinct addresses.
#   5. a start that waited for the lock of a VM deleted and re-created
#      meanwhile refuses instead of starting the new VM; 6. a define in
#      that place defines the VM anew.
# The op counts (total, done, refused per kind) are printed at the end.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
ip link set lo up

T0=$SECONDS
at() { log "at $((SECONDS - T0))s: $*"; }
SOAK=${QC_SOAK_SECONDS:-25}
WORKERS=${QC_SOAK_WORKERS:-16}
NVMS=8
NPAR=${QC_PARALLEL_VMS:-20}
G=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --memory 128M --cpus 1)
taps() { ip -br link | awk '{print $1}' | grep -E '^qc[0-9a-f]{8}n[0-9]+' || true; }
# qemu_procs: "pid vmdir" of every QEMU whose monitor (its parent) runs a VM under $ROOT
qemu_procs() {
	python3 - "$ROOT/vms/" <<'EOP'
import os, sys
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace").split("\0")
        if not os.path.basename(argv[0]).startswith("qemu-system-"):
            continue
        ppid = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[1]
        pargv = open("/proc/%s/cmdline" % ppid, "rb").read().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        continue
    for i, a in enumerate(pargv[:-1]):
        if a == "--vm-dir" and pargv[i + 1].startswith(sys.argv[1]):
            print(pid, pargv[i + 1])
EOP
}

# ---- setup: catalog image, network, 8 VMs -----------------------------------
qemu-img convert -O qcow2 "$GUEST_ROOT" "$SCRATCH/base.qcow2"
qc image import base "$SCRATCH/base.qcow2" >/dev/null
qc net create lan --subnet 10.77.0.0/24 >/dev/null
mkargs() { # mkargs NAME: A=(create options): v0-v3 overlay on the catalog image (v0, v1 + a data disk)
	case "$1" in
	v0 | v1) A=("${G[@]}" --image base --disk 8M --net network=lan) ;;
	v2 | v3) A=("${G[@]}" --image base --net network=lan) ;;
	*) A=("${G[@]}" --net network=lan) ;;
	esac
}
for i in $(seq 0 $((NVMS - 1))); do
	mkargs "v$i"
	qc create "v$i" "${A[@]}" >/dev/null
done
ok "network lan and $NVMS VMs created"

at "setup done"
# ---- 1. the soak ------------------------------------------------------------
KINDS="start start destroy stopforce stop pause resume reboot info info list dumpxml define snapcreate snaprm resize
	attachdisk detachdisk attachnet detachnet autostart autostartoff netlist log console wait
	recreate netcreate netrm attachside"
read -r -d '' -a KINDV <<<"$KINDS" || true
end=$((SECONDS + SOAK))

# op KIND TIMEOUT ARGS...: run qemuctl, log "KIND<TAB>rc<TAB>stderr" in $wlog
op() {
	local kind="$1" t="$2" rc=0 t0 t1
	shift 2
	t0=$EPOCHREALTIME
	timeout -k 5 "$t" "$QC" --root "$ROOT" "$@" >"$wdir/out" 2>"$wdir/err" </dev/null || rc=$?
	t1=$EPOCHREALTIME
	# nothing crashes here: "crashed" would be a run's end misread as a dead monitor
	case "$kind" in info | list) grep -q crashed "$wdir/out" && echo "OUTPUT SAYS CRASHED" >>"$wdir/err" ;; esac
	printf '%s\t%d\t%s\t%s\t%s\t%s\n' "$kind" "$rc" "$*" "$(tr '\n\t' '  ' <"$wdir/err" | head -c 600)" \
		"$t0" "$t1" >>"$wlog"
	return "$rc"
}

# detach_one disk|net: detach a random hot-plugged disk or NIC of a random VM
detach_one() {
	vm="v$((RANDOM % 6))"
	op info 20 --json info "$vm" || return 0
	# only stopped: a guest still booting does not release a device (30 s wait)
	grep -q '"state": "stopped"' "$wdir/out" || return 0
	x=$(grep -oE "\"$1[1-9][0-9]* " "$wdir/out" | tr -d '" ' | shuf -n 1)
	[ -n "$x" ] && { op "detach$1" 60 "detach-$1" "$vm" "$x" || true; }
	return 0
}

worker() {
	local w="$1" k vm x A
	set +e +o pipefail # a refused op or an empty pick is part of the game
	wdir="$SCRATCH/w$w"
	wlog="$wdir/log"
	mkdir -p "$wdir"
	: >"$wlog"
	RANDOM=$((w * 7919 + $$))
	while [ "$SECONDS" -lt "$end" ]; do
		k=${KINDV[RANDOM % ${#KINDV[@]}]}
		vm="v$((RANDOM % NVMS))"
		case "$k" in
		start) op start 60 start "$vm" || true ;;
		destroy) op destroy 30 destroy "$vm" || true ;;
		stopforce) op stopforce 30 stop "$vm" --force || true ;;
		stop) op stop 30 stop "$vm" --timeout 2 || true ;;
		pause) op pause 20 pause "$vm" || true ;;
		resume) op resume 20 resume "$vm" || true ;;
		reboot) op reboot 20 reboot "$vm" || true ;;
		info) op info 20 info "$vm" || true ;;
		list) op list 30 list || true ;;
		dumpxml) op dumpxml 20 dumpxml "$vm" || true ;;
		define) # only on the kernel-only VMs that no other op reshapes
			vm="v$((6 + RANDOM % 2))"
			op dumpxml 20 dumpxml "$vm" || continue
			sed -E "s#<memory unit='([A-Za-z]+)'>[0-9]+<#<memory unit='KiB'>$(((64 + RANDOM % 4 * 8) * 1024))<#" \
				"$wdir/out" >"$wdir/edit.xml"
			op define 40 define "$wdir/edit.xml" || true
			;;
		snapcreate)
			vm="v$((RANDOM % 4))"
			op snapcreate 60 snapshot create "$vm" "s$RANDOM" || true
			;;
		snaprm)
			vm="v$((RANDOM % 4))"
			op snaplist 20 snapshot list "$vm" || continue
			x=$(awk 'NR > 1 && $1 ~ /^s[0-9]+$/ {print $1}' "$wdir/out" | shuf -n 1)
			[ -n "$x" ] && { op snaprm 60 snapshot rm "$vm" "$x" || true; }
			;;
		resize)
			vm="v$((RANDOM % 4))"
			op resize 60 resize "$vm" disk0 +1M || true
			;;
		attachdisk)
			vm="v$((RANDOM % 6))"
			op attachdisk 60 attach-disk "$vm" 4M || true
			;;
		detachdisk) detach_one disk ;;
		attachnet)
			vm="v$((RANDOM % 6))"
			op attachnet 60 attach-net "$vm" network=lan || true
			;;
		detachnet) detach_one net ;;
		autostart) op autostart 40 autostart "$vm" || true ;;
		autostartoff) op autostartoff 40 autostart "$vm" --disable || true ;;
		netlist) op netlist 20 net list || true ;;
		log) op log 20 log "$vm" || true ;;
		console) op console 2 console "$vm" || true ;;
		wait) op wait 20 wait "$vm" --timeout 1 || true ;;
		recreate) # rarely: delete --force and create again (not v6/v7, see define)
			[ $((RANDOM % 3)) -eq 0 ] || continue
			vm="v$((RANDOM % 6))"
			op delete 60 delete "$vm" --force || true
			mkargs "$vm"
			# v4, v5 come back with a second NIC on network side when it exists
			case "$vm" in v4 | v5) A+=(--net network=side) ;; esac
			op create 60 create "$vm" "${A[@]}" ||
				{ mkargs "$vm" && op create 60 create "$vm" "${A[@]}"; } || true
			;;
		netcreate) op netcreate 30 net create side --subnet 10.78.0.0/24 || true ;;
		netrm) op netrm 30 net rm side || true ;;
		attachside)
			vm="v$((RANDOM % 6))"
			op attachside 60 attach-net "$vm" network=side || true
			;;
		esac
	done
	return 0
}

log "soak: $WORKERS workers for ${SOAK}s on $NVMS VMs"
t0=$SECONDS
pids=()
for w in $(seq 1 "$WORKERS"); do
	worker "$w" &
	pids+=($!)
done
# shellcheck disable=SC2016 # expanded when the hook runs
on_exit 'kill "${pids[@]}" 2>/dev/null'
for p in "${pids[@]}"; do
	wait "$p" || fail "worker $p exited $?"
done
pids=()
log "soak took $((SECONDS - t0))s"
cat "$SCRATCH"/w*/log >"$SCRATCH/all.log"

# Every operation exited 0 or 1; every refusal is one we know.
KNOWN=(
	"VM '[^']+' is busy: another qemuctl operation holds its lock"
	"VM '[^']+' is running; stop it"
	"VM '[^']+' is already running"
	"VM '[^']+' stopped before its console showed"
	"VM '[^']+': console did not show '[^']+' within"
	"VM '[^']+' does not exist"
	"VM '[^']+' already exists"
	"network 'side' already exists"
	"network 'side' is in use by VMs? [v0-9, ]+; delete (it|them) first"
	"network 'side' does not exist"
	"VM '[^']+' has no ready marker"
	"VM '[^']+' is running but not ready after 1 s"
	"VM '[^']+' stopped before it was ready"
	"VM '[^']+' has no snapshot '[^']+'"
	"VM '[^']+': [a-z]+[0-9]+: every hot-plug port is in use \\([0-9]+\\); restart the VM to free them"
	"VM '[^']+' is running and snapshot '[^']+' lies under snapshot '[^']+' in the running chain"
	"VM '[^']+': disk '[^']+' is in snapshot '[^']+'; remove the snapshot first"
	"VM '[^']+': device '[^']+' was plugged in at start on the machine's root bus, which cannot unplug it"
	"VM '[^']+' is running: .*snapshot"
	"VM '[^']+': snapshot '[^']+' exists"
	"VM '[^']+': no snapshot '[^']+'"
	"VM '[^']+': snapshot '[^']+' is not the newest"
	"VM '[^']+' has no disk '[^']+'"
	"VM '[^']+' has no NIC '[^']+'"
	"VM '[^']+' is not running \(state: stopped\)"
	"VM '[^']+' is not running; start it with"
	"VM '[^']+' is not running \(it stopped just now\)"
	"VM '[^']+' is starting or stopping: its console is not available"
)
printf '%s\n' "${KNOWN[@]}" >"$SCRATCH/known"
python3 - "$SCRATCH/all.log" "$SCRATCH/known" <<'EOP' || fail "some operations failed uncleanly (see above)"
import collections, json, re, sys
known = [re.compile(l.rstrip("\n")) for l in open(sys.argv[2]) if l.strip()]
bad = False
seen = collections.Counter()
warned = collections.Counter()
def say(*a):
    print("[concurrency]", *a)
ops = []
bad_vms = set()
for line in open(sys.argv[1], errors="replace"):
    kind, rc, args, err, t0, t1 = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
    rc = int(rc)
    ops.append((float(t0 or 0), float(t1 or 0), kind, rc, args, err))
    vm = re.search(r"\bv[0-9]+\b", args)
    if rc not in (0, 1) and not (rc == 124 and kind == "console") and vm:
        bad_vms.add(vm.group(0))
    if re.search(r"Sanitizer|runtime error:", err):
        say("sanitizer report:", kind, args, err); bad = True
    if "OUTPUT SAYS CRASHED" in err:
        say("a VM reported crashed:", kind, args); bad = True
    if rc == 0:
        if err.strip():
            warned[re.sub(r"[0-9]+", "N", re.sub(r"'[^']*'", "'X'", err)).strip()[:300]] += 1
        continue
    if rc == 124 and kind == "console":
        continue # an attached console runs until the VM stops
    if rc != 1:
        say("exit %d (124: hang, >128: signal):" % rc, kind, args, err); bad = True
        continue
    # under --json the error is one JSON object on stderr: {"error": {"code", "message"}}
    m = re.search(r"qemuctl: error: (.*?)(?: qemuctl: |$)", err)
    j = err.find('{"error":')
    if m:
        msg = m.group(1)
    elif j >= 0:
        try:
            msg = json.JSONDecoder().raw_decode(err[j:])[0]["error"]["message"]
        except (ValueError, KeyError, TypeError):
            say("exit 1 with a malformed JSON error:", kind, args, err); bad = True
            continue
    else:
        say("exit 1 without an error line:", kind, args, err); bad = True
        continue
    if not any(k.search(msg) for k in known):
        say("unknown refusal:", kind, args, msg); bad = True
        continue
    folded = re.sub(r"\(full console log: [^)]*\)|\(console log: [^)]*\)", "", msg)
    seen[re.sub(r"[0-9]+", "N", re.sub(r"'[^']*'", "'X'", folded)).strip()] += 1
say("distinct refusals (names and numbers folded):")
for m, n in seen.most_common():
    say("  %5d %s" % (n, m))
if warned:
    say("stderr of operations that succeeded:")
for m, n in warned.most_common():
    say("  %5d %s" % (n, m))
# On failure: every operation on a VM that hung, in time order, to show who held it.
t_first = min((o[0] for o in ops if o[0]), default=0)
for vm in sorted(bad_vms) if bad else []:
    say("operations on %s (seconds since the first operation: start-end, exit):" % vm)
    for t0, t1, kind, rc, args, err in sorted(ops):
        if re.search(r"\b%s\b" % vm, args) or kind == "list":
            say("  %6.1f-%6.1f %3d %s %s" % (t0 - t_first, t1 - t_first, rc, args, err[:160]))
sys.exit(1 if bad else 0)
EOP
ok "every operation exited 0 or 1 with a known refusal"

# The figures.
total=$(wc -l <"$SCRATCH/all.log")
log "ops: total $total, done $(awk -F'\t' '$2 == 0' "$SCRATCH/all.log" | wc -l), refused $(awk -F'\t' '$2 == 1' "$SCRATCH/all.log" | wc -l)"
awk -F'\t' '{ n[$1]++; if ($2 == 0) d[$1]++; else r[$1]++ }
	END { for (k in n) printf "[concurrency]   %-12s %4d ops %4d done %4d refused\n", k, n[k], d[k], r[k] }' \
	"$SCRATCH/all.log" | sort
[ "$total" -ge $((WORKERS * 3)) ] || fail "only $total operations ran"

# list/info agree with the QEMU processes; no QEMU unknown to qemuctl.
procs=$(qemu_procs)
qc --json list | python3 -c 'import json, sys
for v in json.load(sys.stdin): print(v["name"], v["state"])' >"$SCRATCH/list"
running=0
running_vms=()
for i in $(seq 0 $((NVMS - 1))); do
	vm=v$i
	[ -d "$ROOT/vms/$vm" ] || fail "$vm is gone"
	json=$(qc --json info "$vm")
	state=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' <<<"$json")
	lstate=$(awk -v v="$vm" '$1 == v {print $2}' "$SCRATCH/list")
	[ "$state" = "$lstate" ] || fail "$vm: info says $state, list says $lstate"
	live=$(awk -v d="$ROOT/vms/$vm" '$2 == d' <<<"$procs" | wc -l)
	case "$state" in
	running | paused)
		[ "$live" = 1 ] || fail "$vm is $state but $live QEMU processes run for it"
		running=$((running + 1))
		running_vms+=("$vm")
		;;
	*) [ "$live" = 0 ] || fail "$vm is $state but a QEMU runs for it" ;;
	esac
	flock -n "$ROOT/vms/$vm/lock" true || fail "$vm: its lock is still held"
done
[ "$(wc -l <<<"$procs" | tr -d ' ')" = "$(grep -c . <<<"$procs" || true)" ] || true
[ "$(grep -c . <<<"$procs" || true)" = "$running" ] || fail "QEMU processes unknown to qemuctl: $procs"
flock -n "$ROOT/networks/lock" true || fail "networks/lock is still held"
ok "list and info agree with the $running QEMU processes; no lock held"

# One lease per defined network NIC, no duplicate address; taps only of running VMs.
python3 - "$ROOT" "$SCRATCH/want-taps" "${running_vms[@]}" <<'EOP' || fail "leases do not match the NICs"
import json, os, sys, xml.etree.ElementTree as ET
root = sys.argv[1]
nets = [f[:-5] for f in os.listdir(root + "/networks") if f.endswith(".json") and not f.endswith(".leases.json")]
want = {n: set() for n in nets}
taps = 0
ok = True
for vm in sorted(os.listdir(root + "/vms")):
    if vm.startswith("."):
        continue
    d = ET.parse("%s/vms/%s/domain.xml" % (root, vm)).getroot()
    uuid = d.findtext("uuid")
    for i in d.findall("devices/interface"):
        src = i.find("source")
        net = src.get("network") if src is not None else None
        if not net:
            continue
        if net not in want:
            print("VM %s has a NIC on network %s, which does not exist" % (vm, net)); ok = False
            continue
        want[net].add("%s/%s" % (uuid, i.find("alias").get("name").removeprefix("ua-")))
        taps += vm in sys.argv[3:]
open(sys.argv[2], "w").write("%d\n" % taps)
for net in nets:
    try:
        leases = json.load(open("%s/networks/%s.leases.json" % (root, net)))["leases"]
    except FileNotFoundError:
        leases = []
    keys = [l["key"] for l in leases]
    ips = [l["ip"] for l in leases]
    if len(set(ips)) != len(ips):
        print(net, "duplicate addresses:", sorted(ips)); ok = False
    if len(set(keys)) != len(keys):
        print(net, "duplicate keys:", sorted(keys)); ok = False
    if set(keys) != want[net]:
        print(net, "leases without a NIC:", sorted(set(keys) - want[net]))
        print(net, "NICs without a lease:", sorted(want[net] - set(keys))); ok = False
    print("[concurrency] network %s: %d leases for %d NICs" % (net, len(keys), len(want[net])))
sys.exit(0 if ok else 1)
EOP
ok "one lease per defined NIC on every network, no duplicate address, no NIC on a missing network"
ntaps=$(taps | grep -c . || true)
[ "$ntaps" = "$(cat "$SCRATCH/want-taps")" ] ||
	fail "$ntaps taps, but the $running running VMs have $(cat "$SCRATCH/want-taps") NICs on lan: $(taps)"
ok "$ntaps taps: one per NIC of the $running running VMs"

# No temp files; every domain.xml parses; every qcow2 passes qemu-img check.
tmp=$(find "$ROOT" -name '.*' ! -path "$ROOT/images/.*.lock" -print)
[ -z "$tmp" ] || fail "temp files left in the state root: $tmp"
ok "no temp file in the state root"
for f in "$ROOT"/vms/*/domain.xml; do
	python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$f" || fail "$f does not parse"
done
nq=$(find "$ROOT/vms" -name '*.qcow2' | wc -l)
# shellcheck disable=SC2016 # the inner sh expands $f
find "$ROOT/vms" -name '*.qcow2' -print0 | xargs -0r -n 8 -P 2 sh -c \
	'for f; do qemu-img check -q -U "$f" || { echo "qemu-img check $f failed"; exit 255; }; done' sh ||
	fail "a qcow2 file fails qemu-img check"
ok "every domain.xml parses; $nq qcow2 files pass qemu-img check"

at "checks done"
# Every VM still starts and stops (all stopped first, in parallel).
for i in $(seq 0 $((NVMS - 1))); do
	(qc destroy "v$i" >/dev/null 2>&1 || true) &
done
wait
pids=()
for i in $(seq 0 $((NVMS - 1))); do
	qc start "v$i" >/dev/null 2>"$SCRATCH/v$i.err" &
	pids+=($!)
done
for i in $(seq 0 $((NVMS - 1))); do
	wait "${pids[i]}" || fail "v$i does not start: $(cat "$SCRATCH/v$i.err")"
done
for i in $(seq 0 $((NVMS - 1))); do
	assert_match "$(qc info "v$i")" 'State: +running' "v$i runs after the soak"
done
pids=()
for i in $(seq 0 $((NVMS - 1))); do
	qc stop "v$i" --force &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a stop after the soak failed"; done
[ -z "$(qemu_procs)" ] || fail "QEMU left after stopping all: $(qemu_procs)"
[ -z "$(taps)" ] || fail "taps left after stopping all: $(taps)"
ok "all $NVMS VMs start and stop again; no QEMU, no tap left"
for i in $(seq 0 $((NVMS - 1))); do qc delete "v$i" >/dev/null; done

at "restarts done"
# ---- 2. 20 VMs started in parallel ------------------------------------------
pids=()
for i in $(seq 1 "$NPAR"); do
	qc create "p$i" "${G[@]}" --net none --no-seed >/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel create failed"; done
t0=$SECONDS
pids=()
for i in $(seq 1 "$NPAR"); do
	qc start "p$i" 2>"$SCRATCH/p$i.err" &
	pids+=($!)
done
for i in $(seq 1 "$NPAR"); do
	wait "${pids[i - 1]}" || fail "start p$i exited $?: $(cat "$SCRATCH/p$i.err")"
done
ok "$NPAR parallel starts all exit 0 ($((SECONDS - t0))s)"
procs=$(qemu_procs)
pstates() { qc --json list | python3 -c 'import json, sys
print(" ".join(sorted(set(v["state"] for v in json.load(sys.stdin) if v["name"].startswith("p")))))'; }
assert_eq "$(pstates)" running "list says all $NPAR run"
for i in $(seq 1 "$NPAR"); do
	grep -q " $ROOT/vms/p$i\$" <<<"$procs" || fail "p$i: no QEMU process"
	qc qmp "p$i" '{"execute":"query-status"}' >"$SCRATCH/p$i.status" &
done
wait
for i in $(seq 1 "$NPAR"); do
	grep -q '"running": *true' "$SCRATCH/p$i.status" || fail "p$i: query-status: $(cat "$SCRATCH/p$i.status")"
done
ok "all $NPAR run (QEMU alive, list says running, query-status running)"
pids=()
for i in $(seq 1 "$NPAR"); do
	qc stop "p$i" --force 2>"$SCRATCH/p$i.err" &
	pids+=($!)
done
for i in $(seq 1 "$NPAR"); do
	wait "${pids[i - 1]}" || fail "stop p$i exited $?: $(cat "$SCRATCH/p$i.err")"
done
[ -z "$(qemu_procs)" ] || fail "QEMU left after the parallel stops: $(qemu_procs)"
assert_eq "$(pstates)" stopped "list says all $NPAR stopped"
ok "$NPAR parallel stops; none left running"

# ---- 3. net rm while a create on the network is between leasing and renaming
# its vms/.create-NAME.PID into place (a 1-in-15 race when run for real):
# the lease of a live create pins the network; that of a dead one does not.
qc net create solo --subnet 10.79.0.0/24 >/dev/null
qc create c1 "${G[@]}" --net network=solo >/dev/null
sleep 600 &
creator=$!
on_exit "kill $creator 2>/dev/null"
mv "$ROOT/vms/c1" "$ROOT/vms/.create-c1.$creator"
expect_fail 1 "network 'solo' is in use by VM c1; delete it first" qc net rm solo
kill "$creator"
wait "$creator" 2>/dev/null || true
qc net rm solo >/dev/null
ok "net rm ignores the lease of a create that died"
rm -rf "$ROOT/vms/.create-c1.$creator"

# ---- 4. races without a guest: 6 creates of one name, 6 deletes of it, 20
# creates leasing two addresses each from one network at once.
qc net create many --subnet 10.80.0.0/24 >/dev/null
race() { # race N CMD...: run CMD N times at once; print "rc stderr" lines
	local k pids=()
	for k in $(seq 1 "$1"); do
		("${@:2}" >/dev/null 2>"$SCRATCH/race$k.err"; echo "$? $(cat "$SCRATCH/race$k.err")" >"$SCRATCH/race$k.out") &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$SCRATCH"/race*.out
	rm -f "$SCRATCH"/race*
}
out=$(race 6 qc create same "${G[@]}" --net network=many)
assert_eq "$(grep -c '^0 ' <<<"$out")" 1 "one of 6 parallel creates of one name succeeds"
assert_eq "$(grep -vc "^0 \|^1 qemuctl: error: VM 'same' already exists" <<<"$out")" 0 "the others: already exists"
out=$(race 6 qc delete same)
assert_eq "$(grep -c '^0 ' <<<"$out")" 1 "one of 6 parallel deletes succeeds"
assert_eq "$(grep -vc "^0 \|^1 qemuctl: error: VM 'same' does not exist" <<<"$out")" 0 "the others: does not exist"
pids=()
for i in $(seq 1 20); do
	qc create "n$i" "${G[@]}" --net network=many --net network=many >/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel create failed"; done
python3 - "$ROOT/networks/many.leases.json" <<'EOP' || fail "parallel creates: leases"
import json, sys
ips = [l["ip"] for l in json.load(open(sys.argv[1]))["leases"]]
print("[concurrency] %d leases, %d distinct addresses" % (len(ips), len(set(ips))))
sys.exit(0 if len(ips) == 40 and len(set(ips)) == 40 else 1)
EOP
ok "20 parallel creates: 40 leases, no address twice"
pids=()
for i in $(seq 1 20); do
	qc delete "n$i" >/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel delete failed"; done
assert_eq "$(grep -c '"ip"' "$ROOT/networks/many.leases.json" || true)" 0 "20 parallel deletes give every address back"
assert_eq "$(find "$ROOT/vms" -mindepth 1 -maxdepth 1 -name '.*' | wc -l)" 0 "no temp dir left in vms/"

# ---- 5. a start waiting for the lock of a VM that is deleted (and created
# again under its name) meanwhile refuses; it does not start the new VM.
#
# waits_on_lock PID: PID is qemuctl itself with vms/gone/lock open.  Between
# the fork and the exec of `"$QC" ... 8>&- &` the child is still the shell,
# with the shell's fd 8 on that lock: only after the exec is it the waiter.
qc_exe=$(readlink -f "$QC")
waits_on_lock() {
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$qc_exe" ] &&
		ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'vms/gone/lock'
}
qc create gone "${G[@]}" --net none --no-seed >/dev/null
exec 8>"$ROOT/vms/gone/lock"
flock 8
"$QC" --root "$ROOT" start gone >/dev/null 2>"$SCRATCH/gone.err" 8>&- &
starter=$!
wait_until 20 waits_on_lock "$starter"
mv "$ROOT/vms/gone" "$ROOT/vms/.delete-gone.test"
rm -rf "$ROOT/vms/.delete-gone.test"
qc create gone "${G[@]}" --net none --no-seed >/dev/null
exec 8>&-
rc=0
wait "$starter" || rc=$?
assert_eq "$rc" 1 "the waiting start exits 1"
assert_match "$(cat "$SCRATCH/gone.err")" "VM 'gone' does not exist: it was deleted while this operation ran" "and says the VM it waited for was deleted"
assert_match "$(qc info gone)" 'State: +stopped' "the new VM of that name was not started"

# ---- 6. the same for a define (redefine) of it: it defines the VM anew.
qc dumpxml gone >"$SCRATCH/gone.xml"
exec 8>"$ROOT/vms/gone/lock"
flock 8
"$QC" --root "$ROOT" define "$SCRATCH/gone.xml" >/dev/null 2>"$SCRATCH/gone.err" 8>&- &
definer=$!
wait_until 20 waits_on_lock "$definer"
mv "$ROOT/vms/gone" "$ROOT/vms/.delete-gone.test"
rm -rf "$ROOT/vms/.delete-gone.test"
exec 8>&-
wait "$definer" || fail "a define that waited for a VM deleted meanwhile failed: $(cat "$SCRATCH/gone.err")"
assert_match "$(qc info gone)" 'State: +stopped' "that define defined the VM anew"
qc delete gone >/dev/null
at "end"
