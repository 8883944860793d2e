#!/bin/bash
# What a new user trips over in the first hour: sizes without a unit
# (resize, --disk-size, --memory), an explicit --root that does not exist,
# the confirmation lines of start/stop/destroy/delete (a terminal only, not
# with -q), list's short STATE, a failed run that leaves nothing behind,
# vCPUs above the machine type's cpu-max and memory above the host's RAM
# refused with the limit named, and every option an error message suggests
# being one the command (or, in library messages, some command) accepts.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
K=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --no-seed --accel tcg)

# suggests_ok CMD MSG: every --option in MSG is one `qemuctl CMD --help` shows.
suggests_ok() {
	local cmd="$1" msg="$2" help o
	help=$("$QC" $cmd --help)
	for o in $(grep -Eo -- '--[a-z][a-z0-9-]*' <<<"$msg" | grep -vx -- --help | sort -u); do
		grep -q -- "$o" <<<"$help" || fail "'$cmd' suggests $o, which it does not take: $msg"
	done
	ok "'$cmd': the options its message names exist"
}

# --- every --option named in a library message (a string with words) is some command's option
all_help=$("$QC" --help; for c in $("$QC" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}' | tr '|' '\n'); do
	"$QC" "$c" --help 2>/dev/null || true
done)
named=$(cat "$QC_SRCDIR"/driver/*.c "$QC_SRCDIR"/storage/*.c "$QC_SRCDIR"/net/*.c \
	"$QC_SRCDIR"/cloudinit/*.c | grep -Eo '"[^"]*"' | grep ' ' | grep -Eo -- "[ ('/]--[a-z][a-z0-9-]+" |
	grep -Eo -- '--[a-z][a-z0-9-]+' | sort -u)
[ -n "$named" ] || fail "no options found in the library's messages"
# not qemuctl's: options of other programs the messages quote
others=" --version --system --user-group --no-create-home --shell "
for o in $named; do
	case "$others" in *" $o "*) continue ;; esac
	grep -q -- "$o\b" <<<"$all_help" || fail "a message names $o, which no command takes"
done
ok "every --option the library's messages name is a qemuctl option ($(echo $named | wc -w))"

# --- sizes need a unit; a bare number other than 0 is refused, the units named
qc create v "${K[@]}" --memory 256M --disk 8M --user tester >/dev/null
size() { qemu-img info -U --output=json "$ROOT/vms/v/disk1.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])'; }
expect_fail 2 "resize: SIZE '\+1' has no unit: add K, M, G or T \(powers of 1024, e.g. \+1G\), or B for bytes" \
	qc resize v disk1 +1
expect_fail 2 "resize: SIZE '9000000' has no unit" qc resize v disk1 9000000
assert_eq "$(size)" 8388608 "the disk is unchanged"
out=$(qc resize v disk1 +1K)
assert_eq "$out" "disk 'disk1' of VM 'v': 8 MiB -> 8.0 MiB (8389632 bytes) (offline)" \
	"a size no unit shows exactly is printed with its bytes"
out=$(qc resize v disk1 16M)
assert_eq "$out" "disk 'disk1' of VM 'v': 8.0 MiB (8389632 bytes) -> 16 MiB (offline)" "exact sizes in units"
assert_eq "$(qc resize v disk1 +512B --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["new_size"] - d["old_size"])')" \
	512 "+512B: bytes, on purpose"
expect_fail 2 "--disk-size '10' has no unit" qc create w "${K[@]}" --disk-size 10
expect_fail 2 "--memory '512' has no unit" qc create w "${K[@]}" --memory 512
assert_no_file "$ROOT/vms/w"

# --- an explicit --root that does not exist
expect_fail 1 "^qemuctl: error: --root '$SCRATCH/nope': no such state root \(create it with 'mkdir -m 0700 $SCRATCH/nope', or leave --root out for the default\)" \
	"$QC" --root "$SCRATCH/nope" list
expect_fail 1 "no such state root" "$QC" --root "$SCRATCH/nope" create x "${K[@]}"
assert_no_file "$SCRATCH/nope"

# --- confirmations: on a terminal, not with -q, not into a pipe
assert_eq "$(qc create p "${K[@]}")" "" "create into a pipe prints nothing"
on_pty "$SCRATCH/create.pty" "$QC" --root "$ROOT" create p2 "${K[@]}"
assert_match "$(head -n1 "$SCRATCH/create.pty")" "^created VM 'p2'<NL>$" "create confirms on a terminal"
qc delete p >/dev/null
qc delete p2 >/dev/null
on_exit "'$QC' --root '$ROOT' destroy v >/dev/null 2>&1"
on_pty "$SCRATCH/start.pty" "$QC" --root "$ROOT" start v
assert_match "$(head -n1 "$SCRATCH/start.pty")" "^started VM 'v'<NL>$" "start confirms on a terminal"
assert_eq "$(tail -n1 "$SCRATCH/start.pty")" 0 "start exit code"
on_pty "$SCRATCH/destroy.pty" "$QC" --root "$ROOT" destroy v
assert_match "$(head -n1 "$SCRATCH/destroy.pty")" "^destroyed VM 'v'<NL>$" "destroy confirms on a terminal"
assert_eq "$(qc start v)" "" "start into a pipe prints nothing"
on_pty "$SCRATCH/stop.pty" "$QC" --root "$ROOT" stop v --force
assert_match "$(head -n1 "$SCRATCH/stop.pty")" "stopped VM 'v'<NL>$" "stop confirms on a terminal"
on_pty "$SCRATCH/q.pty" "$QC" --root "$ROOT" -q start v
assert_eq "$(head -n1 "$SCRATCH/q.pty")" "" "-q: no confirmation"
assert_eq "$(qc destroy v)" "" "destroy into a pipe prints nothing"

# --- list's STATE is the state word; info says why
assert_match "$(qc list)" "^v +x86_64 .* stopped$" "list: just 'stopped'"
assert_match "$(qc info v)" "State: +stopped \(" "info: the reason of the last exit"

# --- undefine and delete of a running VM: their hints name only what they accept
qc start v
# info says how ssh reaches it (the forward of guest port 22 picked at start)
assert_match "$(qc info v)" "SSH: +tester@127\.0\.0\.1 port [0-9]+ \('qemuctl ssh v'\)" "info: the ssh endpoint"
msg=$(qc undefine v 2>&1) && fail "undefine of a running VM succeeded"
assert_match "$msg" "is running; stop it first \('qemuctl stop' or 'qemuctl destroy'\)" "undefine's hint"
suggests_ok undefine "$msg"
msg=$(qc delete v 2>&1) && fail "delete of a running VM succeeded"
suggests_ok delete "$msg"
msg=$(qc resize v disk1 5 2>&1) && fail "resize 5 succeeded"
suggests_ok resize "$msg"
on_pty "$SCRATCH/delete.pty" "$QC" --root "$ROOT" delete v --force
assert_match "$(head -n1 "$SCRATCH/delete.pty")" "^deleted VM 'v'<NL>$" "delete confirms on a terminal"
assert_no_file "$ROOT/vms/v"

# --- limits: vCPUs at define time, memory at start and run time
expect_fail 1 "^qemuctl: error: VM 'c': 300 vCPUs: machine type 'q35' allows at most 288 \(QEMU's cpu-max\); give 288 or fewer$" \
	qc create c "${K[@]}" --cpus 300
qc create c "${K[@]}" --cpus 2 >/dev/null
qc dumpxml c | sed 's|<vcpu[^>]*>2</vcpu>|<vcpu>289</vcpu>|' >"$SCRATCH/c.xml"
grep -q '<vcpu>289</vcpu>' "$SCRATCH/c.xml" || fail "could not set 289 vCPUs in the XML"
expect_fail 1 "c.xml: 289 vCPUs: machine type 'q35' allows at most 288" qc define "$SCRATCH/c.xml"
assert_match "$(qc info c)" "CPUs: +2$" "the refused definition changed nothing"
qc delete c >/dev/null
host_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
big="$((host_kib / 1024 / 1024 + 2))G"
qc create m "${K[@]}" --memory "$big" >/dev/null
expect_fail 1 "^qemuctl: error: VM 'm': memory ${big%G} GiB is more than this host's RAM \([0-9.]+ GiB\)" qc start m
assert_match "$(qc info m)" "State: +stopped" "m did not start"
qc delete m >/dev/null
expect_fail 1 "VM 'r': memory .* is more than this host's RAM .*\(the VM this run created was removed again\)$" \
	qc run r "${K[@]}" --memory "$big"
assert_no_file "$ROOT/vms/r"
assert_eq "$(qc list | tail -n +2)" "" "a failed run leaves no VM"
# a run whose start fails later (its forward's host port is taken): nothing left either
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(120)' >"$SCRATCH/port" &
lpid=$!
on_exit "kill $lpid 2>/dev/null"
for _ in $(seq 50); do [ -s "$SCRATCH/port" ] && break; sleep 0.1; done
port=$(cat "$SCRATCH/port")
[ -n "$port" ] || fail "no listener port"
expect_fail 1 "host port $port is in use.* \(the VM this run created was removed again\)$" \
	qc run r2 "${K[@]}" --memory 128M --net "user,hostfwd=tcp:127.0.0.1:$port-:22"
assert_no_file "$ROOT/vms/r2"
