# shellcheck shell=bash
# Shared helpers for qemuctl integration tests.  Source it first thing:
#   . "$QC_SRCDIR/tests/integration/lib.sh"
# It sets `set -euo pipefail`, makes a private state root ($ROOT) and cleans
# up on exit: every QEMU and monitor started under $ROOT is killed, every
# temp dir removed.  Automake's exit codes: 0 pass, 1 fail, 77 skip, 99 hard error.

set -euo pipefail

: "${QC_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${QC_BUILDDIR:=$PWD}"
: "${QC_GUEST_CACHE:=$QC_BUILDDIR/tests/guest/cache}"
export QC_SRCDIR QC_BUILDDIR QC_GUEST_CACHE
: "${QEMUCTL_MONITOR:=$QC_BUILDDIR/qemuctl-monitor}"
export QEMUCTL_MONITOR
QC="${QC:-$QC_BUILDDIR/qemuctl}"
TEST_NAME="$(basename "${0%.sh}")"
_qc_checks=0

log() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
fail() {
	printf '[%s] FAIL: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}
ok() {
	_qc_checks=$((_qc_checks + 1))
	printf '[%s] ok %d - %s\n' "$TEST_NAME" "$_qc_checks" "$*"
}

# Make the private state root and the scratch dir; register cleanup.
# Searchable by others: as root, QEMU runs as the unprivileged qemuctl user
# and opens the VMs' disks (and the tests' images in $SCRATCH) by path.
ROOT="$(mktemp -d "/tmp/qc-$TEST_NAME.XXXXXX")"
chmod 0711 "$ROOT"
SCRATCH="$(mktemp -d "/tmp/qc-$TEST_NAME-scratch.XXXXXX")"
chmod 0711 "$SCRATCH"
export QEMUCTL_ROOT="$ROOT"
_qc_cleanup_hooks=()
on_exit() { _qc_cleanup_hooks+=("$*"); }

_qc_cleanup() {
	local rc=$? h
	for h in "${_qc_cleanup_hooks[@]}"; do
		eval "$h" || true
	done
	# Kill everything that still runs under this state root (twice: a
	# killed monitor's QEMU may only show up as using $ROOT afterwards).
	local pids round
	for round in 1 2; do
		pids="$(procs_using "$ROOT")"
		[ -n "$pids" ] || break
		log "cleanup: killing leftover processes: $pids"
		kill -9 $pids 2>/dev/null || true
		sleep 0.3
	done
	if [ "$rc" -ne 0 ]; then
		log "exit $rc; consoles under $ROOT:"
		for f in "$ROOT"/vms/*/console.log; do
			[ -f "$f" ] || continue
			echo "---- $f (last 30 lines)"
			tail -n 30 "$f" || true
		done
	fi
	rm -rf "$ROOT" "$SCRATCH"
	[ "$rc" -eq 0 ] && log "PASS ($_qc_checks checks)"
	exit "$rc"
}
trap _qc_cleanup EXIT

# procs_using DIR: pids whose command line, cwd or open files mention DIR.
# One grep over the command lines and one find over the cwd and fd links of
# the processes there are now (not this pipeline's own): a few programs per
# process took seconds, in the cleanup of every test.
procs_using() {
	local dir="$1" procs
	procs=(/proc/[0-9]*)
	{
		grep -lsaF -f <(printf '%s\n' "$dir") "${procs[@]/%//cmdline}" || true
		find "${procs[@]/%//cwd}" "${procs[@]/%//fd}" -maxdepth 1 -type l -printf '%p %l\n' 2>/dev/null |
			grep -aF -f <(printf '%s\n' "$dir") || true
	} | cut -d/ -f3 | sort -un | { grep -vx -e "$$" -e "$BASHPID" || true; } | tr '\n' ' '
}

# qc ARGS...: run the CLI on the private root.
qc() { "$QC" --root "$ROOT" "$@"; }

# expect_fail CODE PATTERN CMD...: CMD must exit CODE and print PATTERN (ERE) on stderr.
expect_fail() {
	local want="$1" pat="$2" rc=0
	shift 2
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want; stderr: $(cat "$SCRATCH/err")"
	grep -Eq -- "$pat" "$SCRATCH/err" || fail "'$*': stderr does not match /$pat/: $(cat "$SCRATCH/err")"
	ok "'$*' fails with $want: $(head -c 200 "$SCRATCH/err" | tr '\n' ' ')"
}

assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', expected '$2'"; ok "${3:-equal}: $2"; }
assert_match() { grep -Eq -- "$2" <<<"$1" || fail "${3:-no match}: '$1' !~ /$2/"; ok "${3:-matches} /$2/"; }
assert_file() { [ -e "$1" ] || fail "missing file $1"; ok "exists: $1"; }
# assert_not_linked WHAT REGEX FILE...: no FILE that exists records a NEEDED
# library matching REGEX (grep -E) in its dynamic section; WHAT names them.
assert_not_linked() {
	local what="$1" re="$2" f
	shift 2
	for f in "$@"; do
		[ -e "$f" ] || continue
		if readelf -d "$f" | grep -Eq "NEEDED.*($re)"; then
			fail "$f links $what: $(readelf -d "$f" | grep NEEDED | tr -s ' ')"
		fi
		ok "$(basename "$f") does not link $what"
	done
}
assert_no_file() { [ ! -e "$1" ] || fail "file should not exist: $1"; ok "absent: $1"; }
# assert_no_temps DIR WHEN: no temp file (qc_temp_name's ".NAME.tmp-PID.TAG", or any *.tmp*) directly in DIR
assert_no_temps() {
	local left
	left=$(find "$1" -maxdepth 1 -name '*.tmp*' -printf '%f ')
	[ -z "$left" ] || fail "temp files left in $1 $2: $left"
	ok "no temp file left $2"
}

# on_pty OUT CMD...: run CMD on a pseudo-terminal (for spinners and other
# terminal-only output).  OUT gets two lines: everything CMD printed, with
# CR, ESC and newlines shown as <CR>, <ESC> and <NL>; then its exit code.
# With QC_PTY_CTRL_C=TEXT, Ctrl-C is typed once CMD's output shows TEXT
# (SIGINT at its default in CMD, even in a background job).
on_pty() {
	local out="$1"
	shift
	python3 - "$@" >"$out" <<'EOP'
import os, pty, signal, sys
intr = os.environ.get("QC_PTY_CTRL_C", "").encode()
pid, fd = pty.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
    if intr and intr in out:
        os.write(fd, b"\x03")
        intr = b""
_, status = os.waitpid(pid, 0)
text = out.decode(errors="replace").replace("\r\n", "<NL>").replace("\r", "<CR>").replace("\x1b", "<ESC>")
sys.stdout.write(text.replace("\n", "<NL>") + "\n" + str(os.waitstatus_to_exitcode(status)) + "\n")
EOP
}

# wait_for_text FILE ERE TIMEOUT_S: wait until FILE contains a line matching ERE.
wait_for_text() {
	local file="$1" pat="$2" timeout="${3:-60}" end
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$end" ]; do
		if [ -f "$file" ] && grep -Eq -- "$pat" "$file"; then
			return 0
		fi
		sleep 0.2
	done
	echo "---- $file (last 30 lines)" >&2
	tail -n 30 "$file" >&2 2>/dev/null || true
	fail "timed out after ${timeout}s waiting for /$pat/ in $file"
}

# wait_until TIMEOUT_S CMD...: poll CMD until it succeeds.
wait_until() {
	local timeout="$1" end
	shift
	end=$((SECONDS + timeout))
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "timed out after ${timeout}s waiting for: $*"
}

# hold_port: a python3 process listens on a free TCP port of 127.0.0.1 until
# the test ends; sets busy (the port) and busy_pid.
hold_port() {
	python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open("'"$SCRATCH"'/busy.port", "w").write(str(s.getsockname()[1])); time.sleep(600)' &
	busy_pid=$!
	on_exit "kill $busy_pid 2>/dev/null"
	wait_until 10 test -s "$SCRATCH/busy.port"
	busy=$(cat "$SCRATCH/busy.port")
}

# tree_digest DIR [--running]: a listing of every path with type, mode, size and
# content hash, to compare a state root byte for byte before and after a refused
# operation.  --running is for a root with a running guest: what the guest, its
# QEMU and its monitor write on their own is listed (type, mode) but its size
# and content are left out: the logs (console.log*, events.jsonl, qemu.log: a
# late guest message or QMP event) and the VMs' own disk layers (vms/*/*.qcow2:
# the guest's file system writes back when it likes).
tree_digest() {
	local skip=()

	[ "${2:-}" != --running ] ||
		skip=(-not -name 'console.log*' -not -name events.jsonl -not -name qemu.log
			-not -path './vms/*/*.qcow2')
	(cd "$1" && find . -printf '%y %m %p\n' | sort -k3 &&
		find . -type f "${skip[@]}" -printf '%s %p\n' | sort -k2 &&
		find . -type f "${skip[@]}" -print0 | sort -z | xargs -0r sha256sum)
}

# need_guest ARCH: build (or reuse) the tiny guest; sets GUEST_* from its env file.
need_guest() {
	local arch="${1:-x86_64}"
	"$QC_SRCDIR/tests/guest/build-guest" --arch "$arch" --out "$QC_GUEST_CACHE/$arch" >/dev/null ||
		fail "building the $arch test guest failed"
	# shellcheck disable=SC1090
	. "$QC_GUEST_CACHE/$arch/env"
}

# need_root_user: skip (77) unless root, for tests that need CAP_NET_ADMIN.
need_root_user() {
	if [ "$(id -u)" -ne 0 ]; then
		log "SKIP: needs root"
		exit 77
	fi
}

# confine_to_test_user NAME: QEMU runs as the system user NAME (sets tu),
# which must not exist yet; the first start makes it, the test's end removes it.
confine_to_test_user() {
	tu="$1"
	export QEMUCTL_USER="$tu"
	on_exit "userdel '$tu' 2>/dev/null; groupdel '$tu' 2>/dev/null"
	! id "$tu" >/dev/null 2>&1 || fail "test user $tu exists already"
}

# serve_stream: a simplestreams tree with two versions of ubuntu:24.04 amd64
# ($SCRATCH/old.qcow2, 1 MiB; $SCRATCH/new.qcow2, 8 MiB with 4 MiB written)
# made by mkstream.py in $SCRATCH/tree, served on 127.0.0.1 by httpd.py
# (Range, injected cuts and errors, requests logged in
# $SCRATCH/requests.jsonl) until the test ends; sets URL.
serve_stream() {
	qemu-img create -q -f qcow2 "$SCRATCH/old.qcow2" 1M
	qemu-img create -q -f qcow2 "$SCRATCH/new.qcow2" 8M
	qemu-io -f qcow2 -c "write -P 0x5a 0 4M" "$SCRATCH/new.qcow2" >/dev/null
	python3 "$QC_SRCDIR/tests/integration/mkstream.py" --out "$SCRATCH/tree" \
		--old "$SCRATCH/old.qcow2" --new "$SCRATCH/new.qcow2"
	serve_dir "$SCRATCH/tree"
}
# serve_dir DIR: httpd.py serves DIR the same way; sets URL.
serve_dir() {
	local httpd
	python3 "$QC_SRCDIR/tests/integration/httpd.py" --dir "$1" \
		--port-file "$SCRATCH/port" --log "$SCRATCH/requests.jsonl" &
	httpd=$!
	on_exit "kill $httpd; wait $httpd"
	wait_until 10 test -s "$SCRATCH/port"
	URL="http://127.0.0.1:$(cat "$SCRATCH/port")/"
}

# A guest's console on fd 7 (the tiny guest's root shell).  guest_boot NAME:
# start NAME (a fresh console.log), wait for GUEST-READY, then guest_console
# NAME: attach `qemuctl console` to a new fifo, its output in
# $SCRATCH/con$con_n.out (con_n counts the consoles).  guest_say TEXT: type
# a line into the current console.
con_n=0
guest_console() {
	con_n=$((con_n + 1))
	rm -f "$SCRATCH/in"
	mkfifo "$SCRATCH/in"
	qc console "$1" <"$SCRATCH/in" >"$SCRATCH/con$con_n.out" 2>&1 &
	exec 7>"$SCRATCH/in"
	sleep 0.5
}
guest_say() { printf '%s\n' "$1" >&7; }
# went_on T LOG WHERE: a guest counting "TICK N" on its console, moved live
# after TICK T, goes on in LOG from exactly TICK T+1, without a new boot.
went_on() {
	local t=$1 log=$2 first
	wait_for_text "$log" "TICK $((t + 2))[^0-9]" 60
	first=$(grep -aoE 'TICK [0-9]+' "$log" | awk '{print $2}' | head -n1)
	[ "$first" -eq $((t + 1)) ] || fail "the counter did not go on from TICK $t on $3: first $first"
	ok "the counter went on from TICK $t on $3 (TICK $first first)"
	if grep -aq '^GUEST-READY' "$log"; then fail "the guest booted anew on $3"; fi
}
guest_boot() {
	qc start "$1"
	wait_for_text "$ROOT/vms/$1/console.log" '^GUEST-READY' 90
	guest_console "$1"
}

# A real sshd in the tiny x86_64 guest (it has none), for ssh, scp and exec
# tests.  guest_sshd_share DIR: the host's dropbear (dropbear-bin),
# sftp-server (openssh-sftp-server) and rsync with their libraries into DIR,
# which the VM shares with tag qcssh (--share DIR:qcssh).
guest_sshd_share() {
	local p lib
	for p in ssh scp dropbear dropbearconvert rsync; do
		command -v "$p" >/dev/null || fail "$p is needed (openssh-client, dropbear-bin, rsync)"
	done
	[ -x /usr/lib/openssh/sftp-server ] || fail "/usr/lib/openssh/sftp-server is needed (openssh-sftp-server)"
	mkdir -p "$1/lib"
	cp "$(command -v dropbear)" "$(command -v rsync)" /usr/lib/openssh/sftp-server "$1/"
	for lib in $(ldd "$(command -v dropbear)" "$(command -v rsync)" /usr/lib/openssh/sftp-server | awk '$3 ~ /^\// {print $3}' | sort -u); do
		cp -L "$lib" "$1/lib/"
	done
	cp -L /lib64/ld-linux-x86-64.so.2 "$1/"
}
# guest_sshd_user_data FILE: a #! user-data that starts dropbear as a minimal
# cloud-init would (the user and key of qemuctl's vendor-data, the VM's host
# key) and prints "SSHD-UP user=U key=yes" on the console once it listens;
# lines appended to FILE run after that ($S is the share's mount point).
guest_sshd_user_data() {
	cat >"$1" <<'UD'
#!/bin/sh
# a minimal sshd: the user and key from qemuctl's vendor-data, the VM's host key
set -e
S=/mnt/qcssh
mkdir -p $S /lib64 /lib/x86_64-linux-gnu /usr/sbin /usr/lib /etc/dropbear
mount -t 9p -o trans=virtio,version=9p2000.L qcssh $S
cp $S/ld-linux-x86-64.so.2 /lib64/
cp $S/lib/* /lib/x86_64-linux-gnu/
cp $S/dropbear /usr/sbin/dropbear
cp $S/sftp-server /usr/lib/sftp-server
cp $S/rsync /usr/bin/rsync
cp $S/host_key /etc/dropbear/host_key
vd=/run/cidata/vendor-data
u=$(sed -n 's/^  - name: *//p' $vd | head -n 1 | tr -d "\"'")
key=$(sed -n '/^ssh_authorized_keys:/,/^[a-z]/p' $vd | grep -o 'ssh-ed25519 [A-Za-z0-9+/=]*' | head -n 1)
echo "$u:*:1000:1000::/home/$u:/bin/sh" >>/etc/passwd
echo "$u:x:1000:" >>/etc/group
mkdir -p /home/$u/.ssh
echo "$key" >/home/$u/.ssh/authorized_keys
chown -R 1000:1000 /home/$u
chmod 700 /home/$u/.ssh
chmod 600 /home/$u/.ssh/authorized_keys
grep -q ' /dev/pts ' /proc/mounts || { mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; }
/usr/sbin/dropbear -r /etc/dropbear/host_key -p 22 -E 2>>/tmp/dropbear.log
# listening (dropbear forks before it binds): port 22 in state LISTEN
until grep -Eq ':0016 0+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; do sleep 0.1; done
echo "SSHD-UP user=$u key=${key:+yes}"
UD
}
# guest_sshd_setup: the x86_64 guest, share="$SCRATCH/share" filled, the
# user-data in $SCRATCH/user-data (append to it; --share "$share:qcssh").
guest_sshd_setup() {
	need_guest x86_64
	share="$SCRATCH/share"
	guest_sshd_share "$share"
	guest_sshd_user_data "$SCRATCH/user-data"
}
# guest_sshd_host_key VMDIR DIR: the VM's ed25519 host key into the share DIR, for dropbear.
guest_sshd_host_key() {
	dropbearconvert openssh dropbear "$1/ssh_host_ed25519_key" "$2/host_key" 2>/dev/null
	chmod -R a+rX "$2"
}

# sshd_start: an OpenSSH server of the test's own on a free port of
# 127.0.0.1 (run it in a private netns): its own host key, and an
# authorized_keys holding a fresh client key, key logins only.  Sets
# SSHD_PORT, SSHD_DIR, SSHD_LOG, SSHD_CLIENT_KEY and SSHD_KNOWN_HOSTS (the
# host key pinned for [127.0.0.1]:PORT); the server stops on exit.  Skips
# (77, said loudly) without sshd (apt-get install openssh-server; QC_SSHD
# names another sshd binary).
sshd_start() {
	local sshd="${QC_SSHD:-/usr/sbin/sshd}" pid
	if [ ! -x "$sshd" ]; then
		log "SKIP: no sshd ($sshd): nothing over ssh is tested (apt-get install openssh-server)"
		exit 77
	fi
	# sshd's privilege separation user and directory (the openssh-server
	# package makes them; an sshd unpacked elsewhere gets them).  They stay:
	# another test's sshd may be running, and without them each of its new
	# connections is reset ("kex_exchange_identification: ... reset by peer").
	if ! id sshd >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd
	fi
	mkdir -p -m 0755 /run/sshd
	# a fresh network namespace's loopback is down
	[ -z "${QC_NET_IN_NETNS:-}" ] || ip link set lo up
	SSHD_DIR="$SCRATCH/sshd"
	mkdir -m 0700 "$SSHD_DIR"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/clientkey"
	cp "$SSHD_DIR/clientkey.pub" "$SSHD_DIR/authorized_keys"
	SSHD_CLIENT_KEY="$SSHD_DIR/clientkey"
	SSHD_LOG="$SSHD_DIR/sshd.log"
	SSHD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$SSHD_DIR/sshd_config" <<EOC
ListenAddress 127.0.0.1:$SSHD_PORT
HostKey $SSHD_DIR/hostkey
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PidFile $SSHD_DIR/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOC
	"$sshd" -t -f "$SSHD_DIR/sshd_config" 2>"$SSHD_LOG" || fail "sshd -t: $(cat "$SSHD_LOG")"
	"$sshd" -D -e -f "$SSHD_DIR/sshd_config" 2>"$SSHD_LOG" &
	pid=$!
	on_exit "kill $pid; wait $pid"
	_sshd_up() {
		kill -0 "$pid" 2>/dev/null || fail "sshd exited: $(cat "$SSHD_LOG")"
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $SSHD_PORT))" 2>/dev/null
	}
	wait_until 10 _sshd_up
	SSHD_KNOWN_HOSTS="$SSHD_DIR/known_hosts"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SSHD_DIR/hostkey.pub")" >"$SSHD_KNOWN_HOSTS"
	ok "sshd on 127.0.0.1:$SSHD_PORT with its own host key and authorized_keys"
}

# sshd_client_ssh: an `ssh` first in PATH ($SCRATCH/bin) that logs in to
# sshd_start's server the way a user's ssh config would: its client key,
# its host key pinned (T_KEY and T_KNOWN name others, for the error cases).
# What runs ssh by name (qemuctl --connect, qemuctl migrate) uses it.
sshd_client_ssh() {
	mkdir -p "$SCRATCH/bin"
	cat >"$SCRATCH/bin/ssh" <<EOF
#!/bin/sh
exec /usr/bin/ssh -F /dev/null -o IdentitiesOnly=yes -i "\${T_KEY:-$SSHD_CLIENT_KEY}" \\
	-o UserKnownHostsFile="\${T_KNOWN:-$SSHD_KNOWN_HOSTS}" -o StrictHostKeyChecking=yes "\$@"
EOF
	chmod 0755 "$SCRATCH/bin/ssh"
	export PATH="$SCRATCH/bin:$PATH"
}
