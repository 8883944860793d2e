#!/bin/bash
# qemuctl net create / list / rm through the CLI, with the refusals of the
# issue (overlapping subnets, a bridge name over 15 bytes, a name that exists
# and is not a bridge, bad CIDRs) leaving nothing half-created, checked with
# `ip -j`.  Runs in a private network namespace: the script re-executes
# itself under `unshare -n`, so the host's interfaces are never touched and
# whatever the test leaves dies with the namespace.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v ip >/dev/null || fail "ip(8) is needed to check the results (iproute2)"
ip link set lo up

link_kind() { ip -j -d link show dev "$1" 2>/dev/null | grep -o '"info_kind":"[a-z]*"' | cut -d'"' -f4; }
no_link() { ! ip link show dev "$1" >/dev/null 2>&1 || fail "link $1 should not exist"; ok "no link $1"; }

# ---- create, list, addresses
qc net create lan --subnet 10.61.0.0/24 >"$SCRATCH/out"
assert_match "$(cat "$SCRATCH/out")" "network 'lan' created: subnet 10.61.0.0/24, gateway 10.61.0.1 on bridge qc-lan" "create output"
assert_eq "$(link_kind qc-lan)" bridge "qc-lan is a bridge"
assert_match "$(ip -j link show dev qc-lan)" '"UP"' "qc-lan is up"
assert_match "$(ip -j addr show dev qc-lan)" '"local":"10.61.0.1","prefixlen":24' "gateway on the bridge"
assert_file "$ROOT/networks/lan.json"

qc net create lab --subnet 10.62.0.0/30 --bridge qcbr-lab --mtu 1400 >/dev/null
assert_match "$(ip -j link show dev qcbr-lab)" '"mtu":1400' "MTU of qcbr-lab"
out="$(qc net list)"
assert_match "$out" '^lan +qc-lan +10\.61\.0\.0/24 +10\.61\.0\.1 +0/253 +-' "net list row lan"
assert_match "$out" 'lab +qcbr-lab +10\.62\.0\.0/30 +10\.62\.0\.1 +0/1 ' "net list row lab"
json="$(qc --json net list)"
assert_match "$json" '"name":"lab","subnet":"10.62.0.0/30","gateway":"10.62.0.1","bridge":"qcbr-lab","bridge_created":true,"bridge_present":true,"mtu":1400,"used":0,"capacity":1' "net list --json"

# ---- refusals: each leaves the state root and the links exactly as they were
before="$(tree_digest "$ROOT")"
links_before="$(ip -br link | awk '{print $1}' | sort | tr '\n' ' ')"
expect_fail 1 "network 'lan2': subnet 10.61.0.128/25 overlaps network 'lan' \(10.61.0.0/24\); pick a disjoint --subnet" \
	qc net create lan2 --subnet 10.61.0.128/25
expect_fail 1 "network 'big': subnet 10.0.0.0/8 overlaps network 'lab' \(10.62.0.0/30\)" qc net create big --subnet 10.0.0.0/8
expect_fail 1 "network 'lan2': --bridge: interface name 'qc-bridge-16-byt' is 16 bytes long; Linux allows at most 15" \
	qc net create lan2 --subnet 10.63.0.0/24 --bridge qc-bridge-16-byt
# "make a dummy link" (veth where the kernel has no dummy module)
if ip link add qcnotbr type dummy 2>/dev/null; then kind=dummy; else
	ip link add qcnotbr type veth peer name qcnotbrp
	kind=veth
fi
links_before="$(ip -br link | awk '{print $1}' | sort | tr '\n' ' ')"
expect_fail 1 "network 'lan2': bridge 'qcnotbr': a link of that name exists and is not a bridge \(kind '$kind'\); pick another --bridge" \
	qc net create lan2 --subnet 10.63.0.0/24 --bridge qcnotbr
assert_eq "$(link_kind qcnotbr)" "$kind" "the $kind link is untouched"
expect_fail 1 "network 'lan2': bridge 'qc-lan' is already used by network 'lan'" \
	qc net create lan2 --subnet 10.63.0.0/24 --bridge qc-lan
expect_fail 1 "network 'lan' already exists" qc net create lan --subnet 10.64.0.0/24
expect_fail 1 "'10.63.0.0' has no prefix length \(expected CIDR like 10.0.0.0/24\)" qc net create lan2 --subnet 10.63.0.0
expect_fail 1 "bad prefix length '33'" qc net create lan2 --subnet 10.63.0.0/33
expect_fail 1 "'300.1.0.0' is not an IPv4 address" qc net create lan2 --subnet 300.1.0.0/16
expect_fail 1 "has host bits set; did you mean 10.63.0.0/24\?" qc net create lan2 --subnet 10.63.0.9/24
expect_fail 1 "subnet 10.63.0.0/31 is too small" qc net create lan2 --subnet 10.63.0.0/31
expect_fail 1 "network name" qc net create 'bad/name' --subnet 10.63.0.0/24
expect_fail 2 "missing --subnet CIDR" qc net create lan2
expect_fail 2 "unknown option '--frob'" qc net create lan2 --subnet 10.63.0.0/24 --frob
expect_fail 1 "network 'nope' does not exist" qc net rm nope
# a subnet the host already has an address in (its LAN, here a veth end)
ip addr add 10.66.3.4/24 dev qcnotbrp
expect_fail 1 "network 'lan2': subnet 10.66.0.0/16 overlaps address 10.66.3.4/24 on host interface 'qcnotbrp'; pick a disjoint --subnet" \
	qc net create lan2 --subnet 10.66.0.0/16
no_link qc-lan2
assert_eq "$(tree_digest "$ROOT")" "$before" "state root unchanged by the refusals"
assert_eq "$(ip -br link | awk '{print $1}' | sort | tr '\n' ' ')" "$links_before" "links unchanged by the refusals"

# ---- an existing bridge is adopted, and left in place by rm
ip link add qcbr-ext type bridge
qc net create ext --subnet 10.65.0.0/24 --bridge qcbr-ext >/dev/null
assert_match "$(ip -j addr show dev qcbr-ext)" '"local":"10.65.0.1"' "gateway added to the adopted bridge"
qc net rm ext >/dev/null
assert_eq "$(link_kind qcbr-ext)" bridge "adopted bridge kept by net rm"
assert_eq "$(ip -j addr show dev qcbr-ext | grep -c 10.65.0.1)" 0 "the gateway address it added is gone"

# ---- concurrent creates: the lock hands out distinct addresses, none lost
: >"$SCRATCH/vmlinuz"
qc net create par --subnet 10.69.0.0/24 >/dev/null
pids=()
for i in 1 2 3 4 5 6; do
	qc create "p$i" --kernel "$SCRATCH/vmlinuz" --net network=par >"$SCRATCH/p$i.out" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent create failed: $(cat "$SCRATCH"/p*.out)"; done
ips=$(qc --json net list | python3 -c '
import json, sys
n = [x for x in json.load(sys.stdin) if x["name"] == "par"][0]
print(" ".join(sorted((l["ip"] for l in n["leases"]), key=lambda a: int(a.split(".")[3]))))')
assert_eq "$ips" "10.69.0.2 10.69.0.3 10.69.0.4 10.69.0.5 10.69.0.6 10.69.0.7" "6 concurrent creates, 6 distinct addresses"
expect_fail 1 "network 'par' is in use by VMs p1, p2, p3, p4, p5, p6; delete them first" qc net rm par
for i in 1 2 3 4 5 6; do qc delete "p$i"; done
assert_match "$(qc --json net list)" '"name":"par".*"used":0' "deletes released every lease"
qc net rm par >/dev/null

# ---- rm
qc net rm lan >/dev/null
no_link qc-lan
assert_no_file "$ROOT/networks/lan.json"
qc net rm lab >/dev/null
no_link qcbr-lab
assert_eq "$(qc --json net list)" "[]" "no networks left"
