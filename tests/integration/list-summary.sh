#!/bin/bash
# list reads a VM's summary.json (stamped with domain.xml), not its
# domain.xml: the columns, and for a running VM how ssh reaches it (its
# routes resolved against the run's ports) and its addresses.  A summary
# that does not check out (stale stamp, another VM's name, an older
# qemuctl's without routes, a route that is no IPv4 address) is not used:
# list falls back to domain.xml and shows what info shows.  start writes
# the summary anew when it is not current.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

# ssh_of JSON-LIST: "host port user" of the first VM's ssh, or "null"
ssh_of() { python3 -c 'import json, sys
s = json.load(sys.stdin)[0]["ssh"]
print("null" if s is None else "%s %s %s" % (s["host"], s["port"], s["user"]))'; }
# summary_edit PYTHON: run PYTHON on the summary's dict s, write it back (same stamp)
summary_edit() { python3 -c 'import json, sys
p = sys.argv[1]
s = json.load(open(p))
exec(sys.argv[2])
open(p, "w").write(json.dumps(s))' "$vm/summary.json" "$1"; }

qc create s1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 64M --no-seed >/dev/null
vm="$ROOT/vms/s1"
assert_eq "$(qc --json list | ssh_of)" null "stopped: list shows no ssh"
assert_eq "$(qc --json list | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["saved_state"])')" \
	False "never started: no saved state"
qc start --paused s1
port=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ports"][0])' "$vm/state.json")
want="127.0.0.1 $port debian"
assert_eq "$(qc --json list | ssh_of)" "$want" "running: list shows the run's forward of guest port 22"
assert_eq "$(qc --json info s1 | python3 -c 'import json, sys; s = json.load(sys.stdin)["ssh"]
print(s["host"], s["port"], s["user"])')" "$want" "info shows the same"

# list takes ssh from the summary: a route changed there (stamp intact) shows.
cp "$vm/summary.json" "$SCRATCH/summary.good"
summary_edit 's["ssh"][0]["port"] = 2222; s["ssh_user"] = "alice"'
assert_eq "$(qc --json list | ssh_of)" "127.0.0.1 2222 alice" "list reads the routes from summary.json"

# summaries that do not check out: list falls back to domain.xml
for edit in 's["ssh"][0]["host"] = "127.0.0.1; rm -rf /"' 's["ssh"][0]["port"] = 70000' \
	's["ssh_user"] = "-oProxyCommand=x"' 's["addresses"] = ["not-an-address"]' \
	's["ssh"] = {"host": "127.0.0.1"}' 'del s["ssh"]; del s["v"]' 's["name"] = "other"'; do
	cp "$SCRATCH/summary.good" "$vm/summary.json"
	summary_edit "$edit"
	assert_eq "$(qc --json list | ssh_of)" "$want" "summary edited ($edit): list uses domain.xml"
	assert_match "$(qc list)" "^s1 .* paused" "... and still lists s1"
done
cp "$SCRATCH/summary.good" "$vm/summary.json"
summary_edit 's["ssh"][0]["port"] = 2222'
touch "$vm/domain.xml"
assert_eq "$(qc --json list | ssh_of)" "$want" "domain.xml changed since (stamp): list uses domain.xml"

# an older qemuctl's summary: start makes it current again
qc destroy s1
summary_edit 'del s["ssh"]; del s["v"]'
stale=$(cat "$vm/summary.json")
assert_match "$(qc list)" "^s1 +x86_64 +tcg +1 +64 MiB +stopped" "an older summary still gives the columns"
qc start --paused s1
assert_match "$(cat "$vm/summary.json")" '"v":2,.*"ssh":\[\{"host":"127.0.0.1","port":0,"index":0\}\]' \
	"start rewrote the summary with the routes"
[ "$(cat "$vm/summary.json")" != "$stale" ] || fail "summary unchanged"
ino=$(stat -c %i "$vm/summary.json")
qc destroy s1
qc start --paused s1
assert_eq "$(stat -c %i "$vm/summary.json")" "$ino" "a current summary is not rewritten at start"
port=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ports"][0])' "$vm/state.json")
assert_eq "$(qc --json list | ssh_of)" "127.0.0.1 $port debian" "the next run's port"
qc destroy s1
