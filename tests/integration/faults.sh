#!/bin/bash
# Fault injection: SIGKILL of the CLI at every step of create, start, stop
# (ACPI and --force), delete, define, undefine, autostart, run, pause,
# resume, reboot, resize (offline and online), attach-disk and attach-net
# (offline), snapshot rm and revert (offline), live snapshot create, image
# sync, image import, image rm, net create and net rm.
#
# Each operation is first run with QEMUCTL_FAULT_TRACE=1, which lists its
# steps (util/fault.c); a step added to the code later is covered without
# touching this file.  Then, for N in 1..count, the operation runs with
# QEMUCTL_FAULT_AT=N and must die by SIGKILL (exit 137).  After each kill:
#  - list --json and info --json succeed, and tell the truth: a VM reported
#    running or paused has exactly its reported QEMU alive (found in /proc by
#    its VM directory), a stopped or crashed one has no QEMU and no monitor,
#    and no QEMU or monitor runs for a VM that is not listed;
#  - every tap in the namespace is held open (fdinfo "iff:") by the QEMU or
#    the monitor of a VM reported running, no lock file under the root is
#    held (flock -n) but a running VM's monitor.lock;
#  - every directory under vms/ is a listed VM whose domain.xml parses,
#    every network's bridge exists, every catalog image matches its SHA-256
#    and `qemu-img check` is clean.
# A claim counts as false only when /proc contradicts it both before and
# after qemuctl was asked, and for 3 s (a process the killed CLI started,
# a monitor bringing QEMU up or a guest powering off, may be on its way).
# Then the retry of the operation succeeds (a retry that says "already
# running", "already exists" or "does not exist" passes only when list says
# the same), the result is usable (a started VM runs, not paused; a VM
# holds exactly one lease; a snapshot is listed once and QEMU writes the
# domain's active layer, no layer is orphaned; a synced image verifies; a
# network has exactly one bridge, its own, and net rm removes it),
# and no temp file of any writer is left in the state root: a SIGKILL
# between a temp file's creation and its rename cannot clean up, so the
# claim is that the next operation under the same lock removes it.
# SIGKILL of QEMU and of the monitor: lifecycle-crash.sh.
#
# Runs in a private network namespace (re-executed under `unshare -n`).
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
command -v ip >/dev/null || fail "ip(8) is needed to check taps and bridges (iproute2)"
ip link set lo up
t_start=$SECONDS
total_faults=0
total_ops=0
check_us=0
settled=0

# The invariants, checked from /proc, flock and the files themselves.
cat >"$SCRATCH/check.py" <<'EOP'
import fcntl, hashlib, json, os, re, subprocess, sys
import xml.etree.ElementTree as ET

qc, root = sys.argv[1], sys.argv[2]
errors = []


def run(*args):
    p = subprocess.run([qc, "--root", root, "--json", *args], capture_output=True, text=True)
    if p.returncode != 0:
        errors.append("'%s' exited %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        return None
    return json.loads(p.stdout)

def lock_free(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)

# QEMUs and monitors of this root, by VM name, from /proc.  Scanned before
# and after qemuctl is asked: a claim is false only when both scans
# contradict it (a guest that powers off meanwhile is not a lie).
vmre = re.compile(re.escape(root) + r"/vms/([^/\s]+)")

def scan():
    procs = {}  # name -> {"qemu": [pids], "monitor": [pids]}
    taps = {}  # tap -> pid of the QEMU or monitor holding it
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if not argv or not argv[0]:
            continue
        exe = os.path.basename(argv[0].decode(errors="replace"))
        kind = "qemu" if exe.startswith("qemu-system") else "monitor" if exe == "qemuctl-monitor" else None
        if not kind:
            continue
        m = vmre.search(b" ".join(argv).decode(errors="replace"))
        if not m and kind == "qemu":
            # QEMU's argv names no file (it gets fds): its stdout is vms/NAME/qemu.log
            try:
                m = vmre.search(os.readlink("/proc/%s/fd/1" % pid))
            except OSError:
                pass
        if not m:
            continue
        procs.setdefault(m.group(1), {"qemu": [], "monitor": []})[kind].append(int(pid))
        if True:  # QEMU holds the taps; the monitor holds them until QEMU has them
            try:
                for fd in os.listdir("/proc/%s/fdinfo" % pid):
                    for line in open("/proc/%s/fdinfo/%s" % (pid, fd)):
                        if line.startswith("iff:"):
                            taps[line.split()[1]] = int(pid)
            except OSError:
                pass
    return procs, taps

def check(strict, images, nobridge):
    NONE = {"qemu": [], "monitor": []}
    procs1, taps_held = scan()
    links = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show"], capture_output=True, text=True, check=True).stdout)
    vms = run("list") or []
    infos = {}
    for v in vms:
        info = run("info", v["name"])
        if info is not None:
            infos[v["name"]] = info
    procs2, _ = scan()
    names = {v["name"] for v in vms}
    running = set()
    for n, info in infos.items():
        st = info["state"]
        p1, p2 = procs1.get(n, NONE), procs2.get(n, NONE)
        if st in ("running", "paused"):
            running.add(n)
            for p in (p1, p2):
                if p["qemu"] == [info["qemu_pid"]] and info["monitor_pid"] in p["monitor"]:
                    break
            else:
                errors.append("VM %s is %s with QEMU %s, monitor %s; /proc has QEMU %s / %s, monitor %s / %s"
                              % (n, st, info["qemu_pid"], info["monitor_pid"], p1["qemu"], p2["qemu"], p1["monitor"], p2["monitor"]))
        else:
            alive = [q for q in p1["qemu"] + p1["monitor"] if q in p2["qemu"] + p2["monitor"]]
            if alive:
                errors.append("VM %s is %s, but its QEMU/monitor %s run" % (n, st, alive))
            if not alive and not lock_free("%s/vms/%s/monitor.lock" % (root, n)):
                errors.append("VM %s is %s, but its monitor.lock is held" % (n, st))
        if not lock_free("%s/vms/%s/lock" % (root, n)):
            errors.append("VM %s: its lifecycle lock is held" % n)
        try:
            ET.parse("%s/vms/%s/domain.xml" % (root, n))
            xml = open("%s/vms/%s/domain.xml" % (root, n)).read()
        except Exception as e:
            errors.append("VM %s: domain.xml does not parse: %s" % (n, e))
            xml = ""
        # a snapshot layer nobody refers to is an orphan
        for f in os.listdir("%s/vms/%s" % (root, n)):
            if strict and re.search(r"\.L[0-9a-f]+\.qcow2$", f) and f not in xml:
                errors.append("VM %s: layer %s is in no chain" % (n, f))
    # a VM directory is a whole VM (listed, with a domain.xml) or absent
    if os.path.isdir(root + "/vms"):
        for d in os.listdir(root + "/vms"):
            if not d.startswith(".") and (d not in names or not os.path.isfile("%s/vms/%s/domain.xml" % (root, d))):
                errors.append("vms/%s is not a listed VM with a domain.xml" % d)
    for n, p in procs2.items():
        if n not in names and (p["qemu"] or p["monitor"]):
            errors.append("orphan: QEMU %s / monitor %s of unlisted VM %s" % (p["qemu"], p["monitor"], n))

    alive2 = {q for p in procs2.values() for q in p["qemu"] + p["monitor"]}
    for l in links:
        kind = l.get("linkinfo", {}).get("info_kind")
        if kind == "tun" and l["ifname"] not in taps_held:
            errors.append("tap %s is held by no QEMU or monitor" % l["ifname"])
    for tap, pid in taps_held.items():
        if pid in alive2 and not any(pid in procs2[n]["qemu"] + procs2[n]["monitor"] for n in running):
            errors.append("tap %s is held by process %d of no running VM" % (tap, pid))

    nets = run("net", "list") or []
    bridges = {l["ifname"] for l in links if l.get("linkinfo", {}).get("info_kind") == "bridge"}
    for n in nets:
        present = n["bridge"] in {l["ifname"] for l in links}
        if bool(n.get("bridge_present")) != present:
            errors.append("network %s: net list says bridge_present %s, ip link says %s" % (n["name"], n.get("bridge_present"), present))
        # a net rm killed after it deleted the bridge: listed without it, truly
        if not present and not nobridge:
            errors.append("network %s: bridge %s is missing" % (n["name"], n["bridge"]))
        if strict:
            for lease in n.get("leases", []):
                if lease.get("vm") not in names:
                    errors.append("network %s: lease %s of VM %s that does not exist" % (n["name"], lease.get("ip"), lease.get("vm")))
    if strict:
        for b in bridges - {n["bridge"] for n in nets}:
            errors.append("bridge %s belongs to no network" % b)
    # every lock file in the root is free, but the monitor.lock of a running VM
    for d, dirs, files in os.walk(root):
        for f in files:
            path = os.path.join(d, f)
            if (f == "lock" or f.endswith(".lock")) and not lock_free(path):
                if f == "monitor.lock" and os.path.basename(d) in running:
                    continue
                errors.append("lock %s is held" % path)

    imgs = (run("image", "list") or {}).get("images", [])
    # an image file is in the catalog (has its json) or is a temp file
    if strict and os.path.isdir(root + "/images"):
        for f in os.listdir(root + "/images"):
            if f.endswith(".qcow2") and not f.startswith(".") and not os.path.exists("%s/images/%s.json" % (root, f[:-6])):
                errors.append("images/%s is in no catalog entry (no %s.json)" % (f, f[:-6]))
    if images:
        for i in imgs:
            # the catalog's sha256 is of the bytes as given: an imported
            # raw file is hashed before its conversion to qcow2
            src = i.get("source", "")
            h = hashlib.sha256(open(src if src.startswith("/") else i["path"], "rb").read()).hexdigest()
            if h != i["sha256"]:
                errors.append("image %s: sha256 %s, catalog says %s" % (i["name"], h, i["sha256"]))
            c = subprocess.run(["qemu-img", "check", "-q", i["path"]], capture_output=True, text=True)
            if c.returncode != 0:
                errors.append("image %s: qemu-img check: %s" % (i["name"], c.stdout + c.stderr))

    if strict:
        tmp = re.compile(r"\.tmp|\.part(\.|$)|^\..+\.[A-Za-z0-9]{6}$|^\.(create|define|delete)-|pending")
        for d, dirs, files in os.walk(root):
            for f in files + dirs:
                if tmp.search(f):
                    errors.append("left behind: %s/%s" % (d, f))


# One request per line on stdin ("STRICT IMAGES NOBRIDGE"); the answer is the list of
# problems, then "END".  One python for the whole test: its start-up costs
# more than the checks.
for line in sys.stdin:
    strict, images, nobridge = (w == "1" for w in line.split())
    errors = []
    try:
        check(strict, images, nobridge)
    except Exception as e:
        errors.append("checker: %r" % e)
    for e in errors:
        print(e)
    print("END", flush=True)
EOP

# check WHAT [strict] [images] [nobridge]: the invariants above; strict adds
# temp files, orphan bridges, leases and image files (what the retry must have
# cleaned); nobridge lets a network be listed without its bridge (a killed
# net rm), but net list must say so.
coproc CHECKER { exec python3 "$SCRATCH/check.py" "$QC" "$ROOT"; }
on_exit "kill ${CHECKER_PID}"
check() {
	local what="$1" strict="${2:-0}" images="${3:-0}" nobridge="${4:-0}" line out try t0=$EPOCHREALTIME
	# A process the killed CLI started (a monitor bringing QEMU up, a guest
	# powering off) may still be on its way: what is wrong must stay wrong
	# for 3 s to count.
	for try in $(seq 1 10); do
		out=""
		echo "$strict $images $nobridge" >&"${CHECKER[1]}"
		while IFS= read -r line <&"${CHECKER[0]}"; do
			[ "$line" = END ] && break
			out+="$line"$'\n'
		done
		[ "$line" = END ] || fail "$what: the checker died"
		[ -n "$out" ] || break
		sleep 0.3
	done
	[ "$try" -eq 1 ] || { settled=$((settled + 1)); log "$what: settled after $try checks: $out"; }
	if [ -n "$out" ]; then
		ls -laR "$ROOT" >&2
		fail "$what: $out"
	fi
	check_us=$((check_us + ${EPOCHREALTIME/./} - ${t0/./}))
}

# steps_of OUTVAR CMD...: run CMD with the trace on; OUTVAR gets its step names.
steps=()
steps_of() {
	local var="$1"
	shift
	QEMUCTL_FAULT_TRACE=1 "$@" >/dev/null 2>"$SCRATCH/trace" ||
		fail "traced run of '$*' failed: $(cat "$SCRATCH/trace")"
	mapfile -t "$var" < <(sed -n 's/^qemuctl: fault-step [0-9]* //p' "$SCRATCH/trace")
}

# kill_at N CMD...: CMD must die by SIGKILL at step N.
kill_at() {
	local n="$1" rc=0
	shift
	QEMUCTL_FAULT_AT="$n" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	[ "$rc" -eq 137 ] || fail "'$*' with QEMUCTL_FAULT_AT=$n exited $rc, not 137 (SIGKILL): $(cat "$SCRATCH/err")"
	total_faults=$((total_faults + 1))
}

# min_steps OP COUNT MIN
min_steps() {
	[ "$2" -ge "$3" ] || fail "$1: only $2 fault steps traced, expected at least $3"
	ok "$1: $2 fault steps (at $((SECONDS - t_start)) s)"
	total_ops=$((total_ops + 1))
}

# each_kill OP MIN PREPARE VERIFY CMD...: CMD killed at each of its steps (MIN
# at least), PREPARE run before each kill; after it the root is checked, then
# VERIFY N CMD... (the retry and what it must leave), then the root strictly
each_kill() {
	local op="$1" min="$2" prepare="$3" verify="$4" n
	shift 4
	steps_of steps "$@"
	min_steps "$op" "${#steps[@]}" "$min"
	for n in $(seq 1 "${#steps[@]}"); do
		"$prepare"
		kill_at "$n" "$@"
		check "$op killed at step $n (${steps[n - 1]})"
		"$verify" "$n" "$@"
		check "$op killed at step $n (${steps[n - 1]}), after the retry" 1
	done
	ok "$op: ${#steps[@]} kills survived"
}

# removal_survives_kills OP VM MIN GONE CREATE_ARGS...: `qc OP VM` (delete,
# undefine) killed at each of its steps, VM created anew with CREATE_ARGS
# before each; the retry removes it, or says it is gone (stderr matching
# GONE) and list agrees
removal_survives_kills() {
	local op="$1" name="$2" min="$3" gone="$4"
	shift 4
	local create=("$@")
	removal_create
	each_kill "$op" "$min" removal_create removal_retry qc "$op" "$name"
}
removal_create() { qc create "$name" "${create[@]}" >/dev/null; }
removal_retry() {
	local n="$1"
	shift
	if ! retry_ok "$op@$n" "$gone" "$@"; then
		if qc list | grep -q "^$name "; then fail "$op@$n: 'does not exist' but list shows $name"; fi
	fi
}

vm_state() { qc --json info "$1" | sed -n 's/^  "state": "\(.*\)",$/\1/p'; }

# retry_ok WHAT ALLOWED_ERE CMD...: CMD succeeds, or fails with a message
# matching ALLOWED_ERE (the caller then checks that list says the same).
retry_ok() {
	local what="$1" allowed="$2" rc=0
	shift 2
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		if [ -z "$allowed" ] || ! grep -Eq -- "$allowed" "$SCRATCH/err"; then
			fail "$what: retry '$*' exited $rc: $(cat "$SCRATCH/err")"
		fi
		return 1
	fi
	return 0
}

GUEST=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --memory 256M)

qc net create lan --subnet 10.71.0.0/24 >/dev/null
# the image server of image-sync.sh; create makes an overlay on its image
serve_stream
SYNC=(qc image sync ubuntu:24.04 --arch amd64 --stream "$URL")
"${SYNC[@]}" >/dev/null

# ---------------------------------------------------------------- create
CREATE=(qc create fc --image noble-amd64 "${GUEST[@]}" --disk 16M --net network=lan)
steps_of steps "${CREATE[@]}"
qc delete fc >/dev/null
min_steps create "${#steps[@]}" 8
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${CREATE[@]}"
	check "create killed at step $n (${steps[n - 1]})" 0 1
	if ! retry_ok "create@$n" "VM 'fc' already exists" "${CREATE[@]}"; then
		assert_match "$(qc list)" '^fc ' "create@$n: 'already exists' is true"
	fi
	qc --json info fc >/dev/null
	check "create killed at step $n (${steps[n - 1]}), after the retry" 1 1
	[ "$(qc --json net list | grep -o '"vm": *"fc"' | wc -l)" -eq 1 ] ||
		fail "create@$n: VM fc does not hold exactly one lease: $(qc --json net list)"
	qc delete fc >/dev/null
done
ok "create: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- delete
removal_survives_kills delete fd 3 "VM 'fd' does not exist|no VM named 'fd'|not found" \
	"${GUEST[@]}" --net network=lan

# ---------------------------------------------------------------- undefine
# A VM without disks of its own (kernel boot, no seed): undefine removes it.
removal_survives_kills undefine fu 2 "VM 'fu' does not exist" "${GUEST[@]}" --no-seed --net network=lan

# ---------------------------------------------------------------- define
# A new VM from XML (the retry then redefines it, or defines it anew), and
# autostart (one domain.xml rewrite).
qc create fx "${GUEST[@]}" --no-seed --net none >/dev/null
qc dumpxml fx >"$SCRATCH/fx.xml"
qc undefine fx >/dev/null
DEFINE=(qc define "$SCRATCH/fx.xml")
steps_of steps "${DEFINE[@]}"
min_steps define "${#steps[@]}" 2
for n in $(seq 1 "${#steps[@]}"); do
	qc undefine fx >/dev/null
	kill_at "$n" "${DEFINE[@]}"
	check "define killed at step $n (${steps[n - 1]})"
	retry_ok "define@$n" "" "${DEFINE[@]}"
	assert_match "$(qc list)" '^fx ' "define@$n: fx is listed"
	check "define killed at step $n (${steps[n - 1]}), after the retry" 1
done
ok "define: ${#steps[@]} kills survived"
steps_of steps qc autostart fx
qc autostart fx --disable >/dev/null
min_steps autostart "${#steps[@]}" 1
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" qc autostart fx
	check "autostart killed at step $n (${steps[n - 1]})"
	retry_ok "autostart@$n" "" qc autostart fx
	assert_match "$(qc info fx)" '[Aa]utostart: +(yes|on|true)' "autostart@$n: on after the retry"
	check "autostart killed at step $n (${steps[n - 1]}), after the retry" 1
	qc autostart fx --disable >/dev/null
done
ok "autostart: ${#steps[@]} kills survived"
qc undefine fx >/dev/null

# ---------------------------------------------------------------- run
# create + start in one: the retry is run again, then start when run says
# the VM exists (a run killed after its create).
RUN=(qc run fr "${GUEST[@]}" --net network=lan)
steps_of steps "${RUN[@]}"
qc delete --force fr >/dev/null
min_steps run "${#steps[@]}" 14
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${RUN[@]}"
	check "run killed at step $n (${steps[n - 1]})"
	if ! retry_ok "run@$n" "VM 'fr' already exists" "${RUN[@]}"; then
		assert_match "$(qc list)" '^fr ' "run@$n: 'already exists' is true"
		retry_ok "run@$n: start" "VM 'fr' is already running" qc start fr || log "run@$n: start says already running"
	fi
	assert_eq "$(vm_state fr)" running "run@$n: after the retry the VM runs"
	check "run killed at step $n (${steps[n - 1]}), after the retry" 1
	[ "$(qc --json net list | grep -o '"vm": *"fr"' | wc -l)" -eq 1 ] ||
		fail "run@$n: VM fr does not hold exactly one lease: $(qc --json net list)"
	qc delete --force fr >/dev/null
done
ok "run: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- start
# Each start begins from a VM whose monitor was SIGKILLed (crashed,
# state.json still says running), so it also records that end first.
json_int() { qc --json info "$1" | sed -n "s/^  \"$2\": \([0-9]*\),\$/\1/p"; }
crash() {
	local q m
	q=$(json_int "$1" qemu_pid)
	m=$(json_int "$1" monitor_pid)
	kill -9 "$m"
	wait_until 10 gone "$m"
	wait_until 10 gone "$q"
}
# gone PID: every thread exited, files and taps closed (a zombie leader
# counts: its reaper may be slow)
gone() {
	local t
	for t in "/proc/$1/task"/*; do
		[ ! -e "$t" ] || [ "${t##*/}" = "$1" ] || return 1
	done
	[ -z "$(ls "/proc/$1/fd" 2>/dev/null)" ]
}
qc create fs "${GUEST[@]}" --net network=lan >/dev/null
START=(qc start fs)
qc start fs
crash fs
steps_of steps "${START[@]}"
crash fs
min_steps start "${#steps[@]}" 6
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${START[@]}"
	check "start killed at step $n (${steps[n - 1]})"
	if ! retry_ok "start@$n" "VM 'fs' is already running" "${START[@]}"; then
		log "start@$n: retry says already running"
	fi
	assert_eq "$(vm_state fs)" running "start@$n: after the retry the VM runs"
	check "start killed at step $n (${steps[n - 1]}), after the retry" 1
	crash fs
done
ok "start: ${#steps[@]} kills survived"
# what finishes an interrupted start also starts a VM started --paused;
# a VM whose CPUs ran once stays as it is
qc start --paused fs
assert_eq "$(vm_state fs)" paused "start --paused"
expect_fail 1 "VM 'fs' is already running" qc start --paused fs
qc start fs
assert_eq "$(vm_state fs)" running "start of a VM whose CPUs never ran starts them"
qc pause fs
expect_fail 1 "VM 'fs' is already running" qc start fs
assert_eq "$(vm_state fs)" paused "start of a paused VM that ran leaves it paused"

# ------------------------------------------------- pause, resume, reboot
# One QMP command each: killed before or after it, the retry ends in the
# state asked for.
qc resume fs
for op in pause:paused resume:running reboot:running; do
	cmd=${op%%:*}
	steps_of steps qc "$cmd" fs
	min_steps "$cmd" "${#steps[@]}" 2
	[ "$cmd" != resume ] || qc pause fs
	for n in $(seq 1 "${#steps[@]}"); do
		kill_at "$n" qc "$cmd" fs
		check "$cmd killed at step $n (${steps[n - 1]})"
		retry_ok "$cmd@$n" "" qc "$cmd" fs
		assert_eq "$(vm_state fs)" "${op#*:}" "$cmd@$n: ${op#*:} after the retry"
		check "$cmd killed at step $n (${steps[n - 1]}), after the retry" 1
		[ "$cmd" != pause ] || qc resume fs
		[ "$cmd" != resume ] || qc pause fs
	done
	[ "$cmd" != resume ] || qc resume fs
	ok "$cmd: ${#steps[@]} kills survived"
done
crash fs

# ------------------------------------------------------- stop --force
qc start fs
STOPF=(qc stop fs --force)
steps_of steps "${STOPF[@]}"
min_steps "stop --force" "${#steps[@]}" 2
for n in $(seq 1 "${#steps[@]}"); do
	qc start fs
	kill_at "$n" "${STOPF[@]}"
	check "stop --force killed at step $n (${steps[n - 1]})"
	if ! retry_ok "stop-force@$n" "VM 'fs' is not running" "${STOPF[@]}"; then
		log "stop --force@$n: retry says not running"
	fi
	assert_match "$(vm_state fs)" '^(stopped|crashed)$' "stop --force@$n: stopped after the retry"
	check "stop --force killed at step $n (${steps[n - 1]}), after the retry" 1
done
ok "stop --force: ${#steps[@]} kills survived"

# ------------------------------------------------------- stop (ACPI)
# A booted guest powers off on the button: one boot per step.
boot() {
	: >"$ROOT/vms/fs/console.log"
	qc start fs
	wait_for_text "$ROOT/vms/fs/console.log" '^GUEST-READY' 120
}
STOP=(qc stop fs --timeout 30)
stop_retry() {
	local n="$1"
	check "stop killed at step $n"
	if ! retry_ok "stop@$n" "VM 'fs' is not running" "${STOP[@]}"; then
		log "stop@$n: retry says not running"
	fi
	assert_match "$(vm_state fs)" '^stopped$' "stop@$n: stopped after the retry"
	assert_match "$(qc info fs)" 'Last exit: +(poweroff|guest)' "stop@$n: the guest powered off"
	check "stop killed at step $n, after the retry" 1
}
# One boot less: step 1 (the lock taken) changes nothing, so the retry of
# that first kill is the traced run that lists the steps.
boot
kill_at 1 "${STOP[@]}"
check "stop killed at step 1"
steps_of steps "${STOP[@]}"
min_steps stop "${#steps[@]}" 3
assert_eq "${steps[0]}" stop:locked "the first step of stop changes nothing"
assert_match "$(qc info fs)" 'Last exit: +(poweroff|guest)' "stop@1: the guest powered off"
check "stop killed at step 1, after the retry" 1
for n in $(seq 2 "${#steps[@]}"); do
	boot
	kill_at "$n" "${STOP[@]}"
	stop_retry "$n"
done
ok "stop: ${#steps[@]} kills survived"
qc delete fs >/dev/null

# ------------------------------------------------- resize (offline, online)
# An absolute size, so the retry is the same request.
qc create fp "${GUEST[@]}" --disk 16M --net none >/dev/null
vsize() { qemu-img info -U --output=json "$ROOT/vms/fp/disk1.qcow2" | sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p'; }
resize_case() {
	local mode="$1" size="$2"
	RESIZE=(qc resize fp disk1 "$size")
	steps_of steps "${RESIZE[@]}"
	min_steps "resize ($mode)" "${#steps[@]}" 2
	for n in $(seq 1 "${#steps[@]}"); do
		size="$(($3 + n))M"
		RESIZE=(qc resize fp disk1 "$size")
		kill_at "$n" "${RESIZE[@]}"
		check "resize ($mode) killed at step $n (${steps[n - 1]})"
		retry_ok "resize@$n" "" "${RESIZE[@]}"
		assert_eq "$(vsize)" $((${size%M} * 1048576)) "resize ($mode)@$n: disk1 has the size asked for"
		qemu-img check -U -q "$ROOT/vms/fp/disk1.qcow2" || fail "resize ($mode)@$n: qemu-img check"
		check "resize ($mode) killed at step $n (${steps[n - 1]}), after the retry" 1
	done
	ok "resize ($mode): ${#steps[@]} kills survived"
}
resize_case offline 20M 20

# ------------------------------------------------- attach-disk (offline)
# The retry attaches the disk once: domain.xml names disk2, and every
# diskN.qcow2 in the VM's directory is one domain.xml names.
ATTACH=(qc attach-disk fp 8M)
detach2() { qc detach-disk fp disk2 >/dev/null && rm -f "$ROOT/vms/fp/disk2.qcow2"; }
steps_of steps "${ATTACH[@]}"
detach2
min_steps "attach-disk" "${#steps[@]}" 2
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${ATTACH[@]}"
	check "attach-disk killed at step $n (${steps[n - 1]})"
	retry_ok "attach-disk@$n" "" "${ATTACH[@]}"
	for f in "$ROOT"/vms/fp/disk*.qcow2; do
		grep -q "/${f##*/}'" "$ROOT/vms/fp/domain.xml" || fail "attach-disk@$n: ${f##*/} is in no disk of domain.xml: $(ls "$ROOT/vms/fp")"
	done
	assert_match "$(qc info fp)" 'disk2' "attach-disk@$n: disk2 attached"
	check "attach-disk killed at step $n (${steps[n - 1]}), after the retry" 1
	detach2
done
ok "attach-disk: ${#steps[@]} kills survived"

# ------------------------------------------------- attach-net (offline)
# The retry leases the NIC's address once (the lease is keyed by the NIC).
ATTACHN=(qc attach-net fp network=lan)
steps_of steps "${ATTACHN[@]}"
qc detach-net fp net0 >/dev/null
min_steps "attach-net" "${#steps[@]}" 2
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${ATTACHN[@]}"
	check "attach-net killed at step $n (${steps[n - 1]})"
	retry_ok "attach-net@$n" "" "${ATTACHN[@]}"
	assert_match "$(qc info fp)" 'net0 +network .*network=lan' "attach-net@$n: net0 attached"
	[ "$(qc --json net list | grep -o '"vm": *"fp"' | wc -l)" -eq 1 ] ||
		fail "attach-net@$n: VM fp does not hold exactly one lease: $(qc --json net list)"
	check "attach-net killed at step $n (${steps[n - 1]}), after the retry" 1
	qc detach-net fp net0 >/dev/null
done
ok "attach-net: ${#steps[@]} kills survived"

# ------------------------------------------------- snapshot rm, revert (offline)
# fq: 0x11 at 0 under s1, 0x22 at 1M under s2, 0x33 at 2M in the active
# layer.  Removing s1 rebases s2's layer onto the base; reverting to s2
# makes a new active layer on it.  After the retry every byte is where it
# was (qemu-io reads the patterns through the chain), the snapshot is gone
# or back, and no layer is outside the chains (the strict check).
fq_disk() { sed -n "s/.*<source file='\([^']*disk1[^']*\)'.*/\1/p" "$ROOT/vms/fq/domain.xml" | head -n1; }
mk_fq() {
	qc delete fq >/dev/null 2>&1 || true
	qc create fq "${GUEST[@]}" --no-seed --disk 16M --net none >/dev/null
	qemu-io -f qcow2 -c "write -P 0x11 0 64k" "$(fq_disk)" >/dev/null
	qc snapshot create fq s1 >/dev/null
	qemu-io -f qcow2 -c "write -P 0x22 1M 64k" "$(fq_disk)" >/dev/null
	qc snapshot create fq s2 >/dev/null
	qemu-io -f qcow2 -c "write -P 0x33 2M 64k" "$(fq_disk)" >/dev/null
}
# pattern P OFFSET: the active layer reads P at OFFSET through its chain
pattern() {
	local out
	out=$(qemu-io -f qcow2 -c "read -P $1 $2 64k" "$(fq_disk)" 2>&1) && ! grep -q 'verification failed' <<<"$out"
}
fq_data() {
	local what="$1" top="${2:-1}"
	qemu-img check -q "$(fq_disk)" || fail "$what: qemu-img check $(fq_disk)"
	pattern 0x11 0 && pattern 0x22 1M || fail "$what: data lost"
	[ "$top" = 0 ] || pattern 0x33 2M || fail "$what: the active layer's data lost"
}
mk_fq
snapshot_rm_retry() {
	local n="$1"
	shift
	fq_data "snapshot rm@$n, killed"
	if ! retry_ok "snapshot-rm@$n" "has no snapshot 's1'" "$@"; then
		log "snapshot rm@$n: retry says it is gone"
	fi
	assert_eq "$(qc snapshot list fq | awk 'NR > 1 {print $1}' | tr '\n' ' ')" "s2 " "snapshot rm@$n: s2 alone is left"
	fq_data "snapshot rm@$n, after the retry"
}
each_kill "snapshot rm" 2 mk_fq snapshot_rm_retry qc snapshot rm fq s1
mk_fq
snapshot_revert_retry() {
	local n="$1"
	shift
	retry_ok "snapshot-revert@$n" "" "$@"
	fq_data "snapshot revert@$n, after the retry" 0
	if pattern 0x33 2M; then fail "snapshot revert@$n: the data written after s2 is still there"; fi
}
each_kill "snapshot revert" 2 mk_fq snapshot_revert_retry qc snapshot revert fq s2
qc delete fq >/dev/null
qc start fp
resize_case online 30M 30

# ------------------------------------------------- snapshot create (live)
SNAP=(qc snapshot create fp s1)
steps_of steps "${SNAP[@]}"
qc snapshot rm fp s1 >/dev/null
min_steps "snapshot create" "${#steps[@]}" 3
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${SNAP[@]}"
	check "snapshot create killed at step $n (${steps[n - 1]})"
	if ! retry_ok "snapshot@$n" "snapshot 's1' exists" "${SNAP[@]}"; then
		log "snapshot@$n: retry says it exists"
	fi
	assert_eq "$(qc snapshot list fp | grep -c '^s1 ')" 1 "snapshot@$n: s1 listed once"
	active=$(sed -n "s/.*<source file='\([^']*disk1\.L[^']*\)'.*/\1/p" "$ROOT/vms/fp/domain.xml")
	[ -n "$active" ] || fail "snapshot@$n: no new active layer in domain.xml"
	assert_match "$(qc qmp fp '{"execute":"query-block"}')" "\"file\": ?\"$active\"" "snapshot@$n: QEMU writes the domain's active layer"
	check "snapshot create killed at step $n (${steps[n - 1]}), after the retry" 1
	qc snapshot rm fp s1 >/dev/null
done
qc delete --force fp >/dev/null
ok "snapshot create: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- image sync
qc image rm noble-amd64 >/dev/null
steps_of steps "${SYNC[@]}"
qc image rm noble-amd64 >/dev/null
min_steps "image sync" "${#steps[@]}" 6
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${SYNC[@]}"
	check "image sync killed at step $n (${steps[n - 1]})" 0 1
	retry_ok "sync@$n" "" "${SYNC[@]}"
	assert_match "$(qc image list)" '^noble-amd64 ' "sync@$n: the image is in the catalog"
	check "image sync killed at step $n (${steps[n - 1]}), after the retry" 1 1
	qc image rm noble-amd64 >/dev/null
done
ok "image sync: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- image import
# A raw file: copied, converted to qcow2, checked, committed.
head -c $((256 * 1024)) /dev/urandom >"$SCRATCH/imp.raw"
IMPORT=(qc image import imp "$SCRATCH/imp.raw")
steps_of steps "${IMPORT[@]}"
qc image rm imp >/dev/null
min_steps "image import" "${#steps[@]}" 5
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${IMPORT[@]}"
	check "image import killed at step $n (${steps[n - 1]})" 0 1
	if ! retry_ok "import@$n" "image 'imp' already exists" "${IMPORT[@]}"; then
		log "import@$n: retry says it exists"
	fi
	assert_match "$(qc image list)" '^imp ' "import@$n: the image is in the catalog"
	check "image import killed at step $n (${steps[n - 1]}), after the retry" 1 1
	qc image rm imp >/dev/null
done
ok "image import: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- image rm
IMGRM=(qc image rm imp)
qc image import imp "$SCRATCH/imp.raw" >/dev/null
steps_of steps "${IMGRM[@]}"
min_steps "image rm" "${#steps[@]}" 2
for n in $(seq 1 "${#steps[@]}"); do
	qc image import imp "$SCRATCH/imp.raw" >/dev/null
	kill_at "$n" "${IMGRM[@]}"
	check "image rm killed at step $n (${steps[n - 1]})" 0 1
	if ! retry_ok "image-rm@$n" "image 'imp' not found" "${IMGRM[@]}"; then
		if qc image list | grep -q '^imp '; then fail "image rm@$n: 'not found' but image list shows imp"; fi
	fi
	check "image rm killed at step $n (${steps[n - 1]}), after the retry" 1 1
done
ok "image rm: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- net create
NET=(qc net create ln2 --subnet 10.72.0.0/24)
steps_of steps "${NET[@]}"
qc net rm ln2 >/dev/null
min_steps "net create" "${#steps[@]}" 3
for n in $(seq 1 "${#steps[@]}"); do
	kill_at "$n" "${NET[@]}"
	check "net create killed at step $n (${steps[n - 1]})"
	if ! retry_ok "net@$n" "network 'ln2' already exists" "${NET[@]}"; then
		assert_match "$(qc net list)" '^ln2 ' "net@$n: 'already exists' is true"
	fi
	assert_match "$(qc --json net list)" '"name": *"ln2".*"bridge_created": *true' "net@$n: the bridge is the network's own"
	assert_eq "$(ip -o link show type bridge | grep -c ' qc-ln2:')" 1 "net@$n: exactly one bridge"
	check "net create killed at step $n (${steps[n - 1]}), after the retry" 1
	qc net rm ln2 >/dev/null
	if ip link show dev qc-ln2 >/dev/null 2>&1; then fail "net@$n: net rm left bridge qc-ln2"; fi
done
ok "net create: ${#steps[@]} kills survived"

# ---------------------------------------------------------------- net rm
# A network a deleted VM used (its lease released).
NETRM=(qc net rm ln3)
mk_ln3() {
	qc net create ln3 --subnet 10.73.0.0/24 >/dev/null
	qc create fn "${GUEST[@]}" --no-seed --net network=ln3 >/dev/null
	qc delete fn >/dev/null
}
mk_ln3
steps_of steps "${NETRM[@]}"
min_steps "net rm" "${#steps[@]}" 3
for n in $(seq 1 "${#steps[@]}"); do
	mk_ln3
	kill_at "$n" "${NETRM[@]}"
	check "net rm killed at step $n (${steps[n - 1]})" 0 0 1
	if ! retry_ok "net-rm@$n" "network 'ln3' does not exist" "${NETRM[@]}"; then
		if qc net list | grep -q '^ln3 '; then fail "net rm@$n: 'does not exist' but net list shows ln3"; fi
	fi
	if ip link show dev qc-ln3 >/dev/null 2>&1; then fail "net rm@$n: the retry left bridge qc-ln3"; fi
	check "net rm killed at step $n (${steps[n - 1]}), after the retry" 1
done
ok "net rm: ${#steps[@]} kills survived"

log "figures: $total_ops operations, $total_faults SIGKILLs injected and survived, $((SECONDS - t_start)) s, $((check_us / 1000)) ms of it in the checks, $settled checks waited for a transition to end"
