#!/bin/bash
# slow-debian-qga: Debian's own qemu-guest-agent in the real Debian 12 cloud
# guest (tests/guest/build-debian, which does not install it):
#   - the agent's .debs (qemu-guest-agent and the libraries the image lacks)
#     are fetched on the host with apt-get download and reach the guest on a
#     read-only 9p share; cloud-init's runcmd installs and starts it
#   - info shows the guest's OS (Debian GNU/Linux 12) and its eth0 address
#     as the agent reports them; --json has them under "guest"
#   - a live snapshot create freezes and thaws the guest's file systems
#     (the agent's own log says so), --no-quiesce does not
#   - exec runs commands through the agent (guest-exec): stdout, stderr and
#     the exit code are the command's, a missing program is 127; exec true
#     through the agent is timed against ssh true through the forwarded port
#     (QC_EXEC_RUNS runs each, interleaved; bench/exec prints the figures)
#   - stop: the agent powers the guest off (its log), within the grace
# Not in TESTS: `make check-slow` (tests/slow.mk).  Needs the Debian guest
# cached under $QC_GUEST_CACHE/debian-amd64 (or root to build it) and a
# reachable Debian mirror for apt-get download.  QC_SLOW_ACCEL=tcg|kvm|auto.
. "$(dirname "$0")/lib.sh"

accel=${QC_SLOW_ACCEL:-tcg}
boot_timeout=${QC_SLOW_BOOT_TIMEOUT:-900}

if [ ! -s "$QC_GUEST_CACHE/debian-amd64/env" ] && [ "$(id -u)" -ne 0 ]; then
	fail "no Debian guest in $QC_GUEST_CACHE/debian-amd64 and building one needs root (debootstrap): run tests/guest/build-debian as root once"
fi
"$QC_SRCDIR/tests/guest/build-debian" --out "$QC_GUEST_CACHE/debian-amd64" ||
	fail "building the Debian guest failed (tests/guest/build-debian)"
# shellcheck disable=SC1090,SC1091
. "$QC_GUEST_CACHE/debian-amd64/env"

debs="$SCRATCH/debs"
mkdir -p "$debs"
(cd "$debs" && apt-get download -q qemu-guest-agent libglib2.0-0 libnuma1 liburing2 \
	>"$SCRATCH/apt.log" 2>&1) || fail "apt-get download: $(tail -n 3 "$SCRATCH/apt.log")"
chmod 0755 "$debs"
chmod 0644 "$debs"/*.deb
ok "fetched $(ls "$debs" | wc -l) .debs for the agent"

cat >"$SCRATCH/user-data" <<'EOF'
#cloud-config
runcmd:
  - [ sh, -c, 'dpkg -i /mnt/debs/*.deb >/var/log/qc-qga-install.log 2>&1 && systemctl start qemu-guest-agent && echo "QC-QGA-STARTED $(systemctl is-active qemu-guest-agent)" >/dev/console || echo QC-QGA-FAILED >/dev/console' ]
EOF
name=dq
qc create "$name" --accel "$accel" --memory 1G --disk-image "$GUEST_ROOT" \
	--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--share "$debs:debs:ro" --user-data "$SCRATCH/user-data" >/dev/null
ok "create $name (Debian overlay, the .debs shared read-only)"
vm="$ROOT/vms/$name"
t0=$SECONDS
qc start "$name"
wait_for_text "$vm/console.log" '^QC-QGA-(STARTED|FAILED)' "$boot_timeout"
assert_match "$(tr -d '\r' <"$vm/console.log")" '^QC-QGA-STARTED active' \
	"qemu-guest-agent installed and active after $((SECONDS - t0)) s"

# answered WORD... -- ARGS...: the first output of 'qemuctl ARGS' within 60 s
# that holds every WORD.  info waits 200 ms for each agent reply and no
# longer (reads never wait): on a loaded host one reply may miss that, the
# next not, so the output that is checked is the one that was waited for.
answered() {
	local words=() out w all end=$((SECONDS + 60))
	while [ "$1" != -- ]; do words+=("$1"); shift; done
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		if out=$("$QC" --root "$ROOT" "$@" 2>/dev/null); then
			all=1
			for w in "${words[@]}"; do grep -qF -- "$w" <<<"$out" || all=0; done
			if [ "$all" = 1 ]; then
				printf '%s\n' "$out"
				return 0
			fi
		fi
		sleep 0.2
	done
	fail "timed out after 60s waiting for ${words[*]} in: qemuctl $*"
}

# the agent answers: info shows what it reports (it may take a moment to open the port)
out=$(answered 'Guest OS' 'Guest IPs' -- info "$name")
log "info: $(grep Guest <<<"$out" | tr '\n' ' ')"
assert_match "$out" 'Guest OS: +Debian GNU/Linux 12 \(bookworm\), kernel '"$GUEST_KERNEL_VERSION" \
	"info: the guest's OS from the agent"
assert_match "$out" 'Guest IPs: +(eth0|enp[0-9a-z]+|ens[0-9]+) 10\.0\.2\.15/24' \
	"info: the guest's address from the agent"
json=$(answered '"os": "Debian' -- --json info "$name")
assert_match "$json" '"os": "Debian GNU/Linux 12 \(bookworm\)"' "info --json guest.os"
t1=$(date +%s%N)
qc info "$name" >/dev/null
log "info with Debian's agent: $((($(date +%s%N) - t1) / 1000000)) ms"

# exec through Debian's agent
out=$(qc exec "$name" --via agent -- sh -c 'cat /etc/debian_version; echo oops >&2; exit 7' \
	2>"$SCRATCH/exec.err") && rc=0 || rc=$?
assert_eq "$rc" 7 "exec through qemu-guest-agent: the command's exit code"
assert_match "$out" '^12\.[0-9]+$' "exec: the command's stdout (/etc/debian_version)"
assert_eq "$(cat "$SCRATCH/exec.err")" oops "exec: the command's stderr"
qc exec "$name" --via agent -- /no/such/program 2>"$SCRATCH/exec.err" && rc=0 || rc=$?
assert_eq "$rc" 127 "exec of a missing program: 127 ($(cat "$SCRATCH/exec.err"))"
assert_eq "$(qc exec "$name" -- id -un)" root "exec picks the agent (which runs as root)"
assert_eq "$(qc exec "$name" --via ssh -- id -un)" "$(qc --json ssh-config "$name" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["user"])')" "--via ssh runs as the seed's user"
qc ssh-config "$name" >"$SCRATCH/ssh_config"
runs=${QC_EXEC_RUNS:-10}
agent_ms=() ssh_ms=() qcssh_ms=()
ms_of() { local t0=$(date +%s%N); "$@" >/dev/null || fail "$*"; echo $((($(date +%s%N) - t0) / 1000000)); }
for i in $(seq "$runs"); do
	agent_ms+=("$(ms_of "$QC" --root "$ROOT" exec "$name" --via agent -- true)")
	ssh_ms+=("$(ms_of ssh -F "$SCRATCH/ssh_config" "$name" true)")
	qcssh_ms+=("$(ms_of "$QC" --root "$ROOT" exec "$name" --via ssh -- true)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
range() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd-; }
ma=$(median "${agent_ms[@]}") ms=$(median "${ssh_ms[@]}") mq=$(median "${qcssh_ms[@]}")
log "exec true, $runs interleaved runs: qemuctl exec --via agent median $ma ms [$(range "${agent_ms[@]}")]"
log "exec true, $runs interleaved runs: ssh -F (qemuctl ssh-config) true median $ms ms [$(range "${ssh_ms[@]}")]"
log "exec true, $runs interleaved runs: qemuctl exec --via ssh median $mq ms [$(range "${qcssh_ms[@]}")]"
log "exec ratio (agent / ssh through the forwarded port, medians): $(awk -v a="$ma" -v s="$ms" 'BEGIN {printf "%.2f", a / s}')"
ok "exec true timed through the agent and over ssh"

# quiesced snapshot: the agent logs the freeze and the thaw to syslog/journal
out=$(qc snapshot create "$name" q1)
assert_eq "$out" "Snapshot 'q1' of VM '$name' created (live, file systems frozen by the guest agent)" \
	"snapshot create froze the guest's file systems through qemu-guest-agent"
out=$(qc snapshot create "$name" q2 --no-quiesce)
assert_eq "$out" "Snapshot 'q2' of VM '$name' created (live)" "--no-quiesce"

t2=$SECONDS
qc stop "$name" --timeout 120 >/dev/null
assert_match "$(qc info "$name")" 'State: +stopped' "stopped (the agent asked first) in $((SECONDS - t2)) s"
assert_match "$(qc --json info "$name")" '"reason": "poweroff"' "the guest powered off"
