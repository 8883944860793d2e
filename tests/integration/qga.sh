#!/bin/bash
# The guest agent channel with the tiny guest and a stand-in agent (a
# busybox shell loop on the virtio-serial port org.qemu.guest_agent.0,
# started by the user-data; it answers guest-sync-delimited, guest-ping,
# guest-network-get-interfaces with the guest's real eth0 address,
# guest-get-osinfo, guest-fsfreeze-freeze/thaw, guest-shutdown by powering
# off, guest-exec/guest-exec-status running the command in the background
# so the first status polls see it still running).  Checks: the port is
# there by name in the guest; info shows the guest's address and OS, and
# --json has them under "guest"; a guest without an agent shows none and
# info is not slowed by it (timed: its info against a stopped VM's); an
# agent that opened the port but never answers costs at most the 200 ms
# deadline; a live snapshot create freezes and thaws through the agent
# (--no-quiesce: not); exec runs through the agent (stdout, stderr, exit
# code, a signal, no such command, output larger than an ordinary agent
# reply, --via), and without an agent falls back to ssh or, with --via
# agent, is refused; stop asks the agent first (the guest logs each).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

cat >"$SCRATCH/agent" <<'EOF'
#!/bin/sh
port=
for d in /sys/class/virtio-ports/*; do
	[ "$(cat "$d/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/${d##*/}
done
echo "AGENT-PORT ${port:-none}"
[ -n "$port" ] || exit 1
(
	# replies made once: forking ip and uname per request is slow under TCG
	for i in $(seq 300); do
		a=$(ip -4 -o addr show dev eth0 | awk '{print $4; exit}')
		[ -n "$a" ] && break
		sleep 0.1
	done
	ifs=$(printf '{"return": [{"name": "lo", "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8}]}, {"name": "eth0", "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "%s", "prefix": %s}]}]}' "${a%/*}" "${a#*/}")
	os=$(printf '{"return": {"name": "qemuctl test guest", "pretty-name": "qemuctl test guest (busybox)", "kernel-release": "%s"}}' "$(uname -r)")
	exec 3<>"$port"
	# a read while no client is connected on the host gives EOF: poll again,
	# pausing on a fifo (read -t) rather than forking sleep, which is slow under TCG
	mkfifo /run/agent-tick
	exec 4<>/run/agent-tick
	echo AGENT-READY >/dev/console
	while :; do
	while read -r line <&3; do
		case "$line" in
		*guest-sync-delimited*)
			id=${line##*\"id\":}
			printf '\377{"return": %s}\n' "${id%%\}*}" >&3
			;;
		*guest-ping*) printf '{"return": {}}\n' >&3 ;;
		*guest-exec-status*)
			if [ -f /run/exec.rc ]; then
				rc=$(cat /run/exec.rc)
				st="\"exitcode\": $rc"
				[ "$rc" -gt 128 ] && st="\"signal\": $((rc - 128))"
				printf '{"return": {"exited": true, %s, "out-data": "%s", "err-data": "%s"}}\n' \
					"$st" "$(base64 /run/exec.out | tr -d '\n')" \
					"$(base64 /run/exec.err | tr -d '\n')" >&3
			else
				printf '{"return": {"exited": false}}\n' >&3
			fi
			;;
		*guest-exec*)
			# {"path":"P","arg":["A","B"],...}: words without quotes or backslashes
			path=${line#*\"path\":\"}
			path=${path%%\"*}
			rest=${line#*\"arg\":\[}
			rest=${rest%%\]*}
			set --
			while [ -n "$rest" ]; do
				rest=${rest#\"}
				set -- "$@" "${rest%%\"*}"
				rest=${rest#*\"}
				rest=${rest#,}
			done
			echo "AGENT-EXEC $path $#" >/dev/console
			if ! command -v "$path" >/dev/null; then
				printf '{"error": {"class": "GenericError", "desc": "Failed to execute child process \\"%s\\" (No such file or directory)"}}\n' "$path" >&3
				continue
			fi
			rm -f /run/exec.rc
			("$path" "$@" </dev/null >/run/exec.out 2>/run/exec.err
			 echo $? >/run/exec.rc.new; mv /run/exec.rc.new /run/exec.rc) &
			printf '{"return": {"pid": %s}}\n' $! >&3
			;;
		*guest-network-get-interfaces*) echo "$ifs" >&3 ;;
		*guest-get-osinfo*) echo "$os" >&3 ;;
		*guest-shutdown*) echo AGENT-SHUTDOWN >/dev/console; poweroff ;;
		*guest-fsfreeze-freeze*) echo AGENT-FREEZE >/dev/console; printf '{"return": 1}\n' >&3 ;;
		*guest-fsfreeze-thaw*) echo AGENT-THAW >/dev/console; printf '{"return": 1}\n' >&3 ;;
		*) printf '{"error": {"class": "CommandNotFound", "desc": "not here"}}\n' >&3 ;;
		esac
	done
	read -t 0.05 -r _ <&4
	done
) </dev/null >/dev/null 2>&1 &
EOF

# an agent that opens the port and never answers
cat >"$SCRATCH/mute" <<'EOF'
#!/bin/sh
for d in /sys/class/virtio-ports/*; do
	[ "$(cat "$d/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/${d##*/}
done
(exec 3<>"$port"; while :; do sleep 10; done) </dev/null >/dev/null 2>&1 &
EOF

for vm in ga plain mute; do
	ud=()
	[ $vm = ga ] && ud=(--user-data "$SCRATCH/agent" --disk 16M)
	[ $vm = mute ] && ud=(--user-data "$SCRATCH/mute")
	qc create $vm --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
		--memory 256M --cpus 1 "${ud[@]}" >/dev/null
done
qc create off --kernel "$GUEST_KERNEL" --no-seed >/dev/null
ok "created ga (stand-in agent), plain (none), off (never started)"
qc start ga
qc start plain
qc start mute
wait_for_text "$ROOT/vms/mute/console.log" '^USERDATA exit=0' 90
wait_for_text "$ROOT/vms/ga/console.log" '^AGENT-READY' 90
wait_for_text "$ROOT/vms/plain/console.log" '^GUEST-READY' 90
assert_match "$(tr -d '\r' <"$ROOT/vms/ga/console.log")" '^AGENT-PORT /dev/vport[0-9]+p[0-9]+$' \
	"the guest finds the port by its name"
wait_for_text "$ROOT/vms/ga/console.log" '^NET dhcp dev=eth0 addr=' 60
addr=$(tr -d '\r' <"$ROOT/vms/ga/console.log" | sed -n 's/^NET dhcp dev=eth0 addr=\([0-9.]*\).*/\1/p' | tail -1)

out=$(qc info ga)
assert_match "$out" "Guest IPs: +eth0 $addr/[0-9]+" "info shows the guest's address from the agent"
assert_match "$out" "Guest OS: +qemuctl test guest \(busybox\), kernel $GUEST_KERNEL_VERSION" \
	"info shows the guest's OS"
grep -q "lo 127.0.0.1" <<<"$out" && fail "loopback shown"
ok "loopback left out"
json=$(qc --json info ga)
python3 - "$json" "$addr" <<'EOP' || fail "info --json guest"
import json, sys
g = json.loads(sys.argv[1])["guest"]
assert g["os"] == "qemuctl test guest (busybox)", g
assert g["addresses"][0].startswith("eth0 " + sys.argv[2] + "/"), g
EOP
ok "info --json: guest.os and guest.addresses"

out=$(qc info plain)
grep -q "Guest" <<<"$out" && fail "plain shows guest lines: $out"
ok "a guest without an agent shows none"
assert_match "$(qc --json info plain)" '"guest": null' "info --json: guest null without an agent"
assert_match "$(qc --json info off)" '"guest": null' "info --json: guest null when stopped"

# info's time: the agent-less guest against a stopped VM (median of 7 each)
median_ms() {
	local i t0 t=()
	for i in 1 2 3 4 5 6 7; do
		t0=$(date +%s%N)
		qc info "$1" >/dev/null
		t+=($((($(date +%s%N) - t0) / 1000000)))
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n 4p
}
m_off=$(median_ms off)
m_plain=$(median_ms plain)
m_ga=$(median_ms ga)
m_mute=$(median_ms mute)
log "info median: stopped $m_off ms, running without agent $m_plain ms, with the stand-in agent $m_ga ms, with a mute agent $m_mute ms"
[ "$m_mute" -lt $((m_off + 200 + 300)) ] || fail "info of a guest with a mute agent took $m_mute ms"
ok "a mute agent costs at most the 200 ms deadline ($m_mute ms vs $m_off ms stopped)"
grep -q Guest <<<"$(qc info mute)" && fail "mute agent shows guest lines"
ok "a mute agent shows nothing"
[ "$m_plain" -lt $((m_off + 150)) ] ||
	fail "info of a guest without an agent took $m_plain ms (stopped VM: $m_off ms): it waited for an agent"
ok "info is not slowed by a guest without an agent ($m_plain ms vs $m_off ms stopped)"

# live snapshots: frozen and thawed through the agent, unless --no-quiesce
out=$(qc snapshot create ga s1)
assert_eq "$out" "Snapshot 's1' of VM 'ga' created (live, file systems frozen by the guest agent)" \
	"snapshot create freezes through the agent"
con=$(tr -d '\r' <"$ROOT/vms/ga/console.log")
assert_eq "$(grep -c '^AGENT-FREEZE' <<<"$con")" "1" "the guest froze once"
assert_eq "$(grep -c '^AGENT-THAW' <<<"$con")" "1" "and thawed"
out=$(qc snapshot create ga s2 --no-quiesce)
assert_eq "$out" "Snapshot 's2' of VM 'ga' created (live)" "--no-quiesce"
con=$(tr -d '\r' <"$ROOT/vms/ga/console.log")
assert_eq "$(grep -c '^AGENT-FREEZE' <<<"$con")" "1" "--no-quiesce does not freeze"
expect_fail 2 "snapshot rm: --no-quiesce is for create only" qc snapshot rm ga s2 --no-quiesce

# exec through the agent: the tiny guest has no sshd, so an answer is the agent's
out=$(qc exec ga -- sh -c 'echo out; echo err >&2; exit 3' 2>"$SCRATCH/exec.err") && rc=0 || rc=$?
assert_eq "$rc" 3 "exec through the agent: the command's exit code (stderr: $(cat "$SCRATCH/exec.err"))"
assert_eq "$out" "out" "exec: the command's stdout"
assert_eq "$(cat "$SCRATCH/exec.err")" "err" "exec: the command's stderr on stderr"
assert_match "$(tr -d '\r' <"$ROOT/vms/ga/console.log")" '^AGENT-EXEC sh 2$' "the agent ran it"
out=$(qc exec ga --via agent -- echo 'two  words' '$HOME')
assert_eq "$out" 'two  words $HOME' "--via agent: words as given, no shell"
qc exec ga -- true
ok "exec true: 0"
qc exec ga -- sh -c 'kill -9 $$' && rc=0 || rc=$?
assert_eq "$rc" 137 "a command ended by SIGKILL: 128+9"
qc exec ga -- no-such-cmd 2>"$SCRATCH/exec.err" && rc=0 || rc=$?
assert_eq "$rc" 127 "no such command: 127"
assert_match "$(cat "$SCRATCH/exec.err")" "qemuctl: error: VM 'ga': exec: 'no-such-cmd': guest agent: 'guest-exec' failed: Failed to execute child process .no-such-cmd." \
	"no such command: the agent's message"
n=$(qc exec ga -- sh -c 'yes abc | head -c 300000' | tee "$SCRATCH/big" | wc -c)
assert_eq "$n" 300000 "300000 bytes of output (a reply over the usual 256 KiB line limit)"
assert_eq "$(tr -d 'abc\n' <"$SCRATCH/big" | wc -c)" 0 "and they are the command's"
expect_fail 1 "VM 'plain': no guest agent runs in the guest" qc exec plain --via agent -- true
expect_fail 1 "VM 'mute': guest agent: .*(no reply|timed out|within)" qc exec mute --via agent -- true
timeout 120 "$QC" --root "$ROOT" -v exec plain -- true 2>"$SCRATCH/exec.err" && rc=0 || rc=$?
assert_match "$(cat "$SCRATCH/exec.err")" "no guest agent runs in the guest .*; using ssh" \
	"without an agent exec uses ssh (rc $rc)"
expect_fail 2 "exec: --via 'scp': use agent or ssh" qc exec ga --via scp -- true
expect_fail 1 "VM 'off' is not running; start it with 'qemuctl start off'" qc exec off --via agent -- true
qc pause ga
expect_fail 1 "VM 'ga' is paused: its guest agent cannot answer; resume it with 'qemuctl resume ga'" \
	qc exec ga --via agent -- true
qc resume ga

# stop: the agent is asked first
qc stop ga >/dev/null
assert_match "$(tr -d '\r' <"$ROOT/vms/ga/console.log")" '^AGENT-SHUTDOWN' "stop asked the agent to shut down"
assert_match "$(qc info ga)" 'State: +stopped' "ga stopped"
qc stop plain >/dev/null
assert_match "$(qc info plain)" 'State: +stopped' "plain stopped by ACPI (no agent)"
qc stop mute >/dev/null
assert_match "$(qc info mute)" 'State: +stopped' "mute stopped by ACPI after the agent did not answer"
