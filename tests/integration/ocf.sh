#!/bin/bash
# The Pacemaker resource agent contrib/ocf/qemuctl with the tiny guest under
# TCG: its meta-data validates against the OCF DTD (ra-api-1.dtd of
# resource-agents); bad parameters give the OCF exit codes with a message
# (name missing or with a slash, relative root, bad numbers and booleans,
# a missing qemuctl, a qemuctl without --connect, a VM defined nowhere,
# unknown actions) and change nothing under the state root; migrate_to and
# migrate_from answer OCF_ERR_UNIMPLEMENTED with a qemuctl without
# 'migrate', hand qemuctl migrate its arguments and end one that hangs
# within the operation's timeout; wait_ready and the depth-10 monitor
# refuse a VM without a ready marker; stop_timeout is capped by the
# operation's timeout.  With an sshd of the test's own and a second state
# root as the other node, one VM booted once: the agent with
# connect=ssh://... starts and monitors it there (the right codes for one
# missing there and a host unreachable) and refuses migrate_to/migrate_from
# (the VM runs where connect says); migrate_to/migrate_from live-migrate it
# to the first root, which then runs it only, and the agent with connect
# stops it there; that VM's boot runs while the checks up to crm_resource's
# do.  Meanwhile, each with a VM of its own: resource-agents'
# ocf-tester passes every check against a booting VM, and pacemaker's
# crm_resource drives the agent from a CIB file, without a cluster: a VM is
# monitored running, NOT_RUNNING once its QEMU is killed, started (it boots:
# its console shows it) and, after those checks, stopped gracefully (ACPI
# poweroff).  The boots overlap: each waits for its guest.  crm_resource
# finds agents only under /usr/lib/ocf/resource.d: the test runs in a
# private mount namespace with its own copy of the agent bound there, and
# a private network namespace for its sshd.
if [ -z "${QC_OCF_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -m -n true 2>/dev/null; then
		echo "[ocf] SKIP: needs root and unshare -m -n (crm_resource reads agents from /usr/lib/ocf/resource.d only)"
		exit 77
	fi
	for t in ocf-tester crm_resource xmllint; do
		if ! command -v "$t" >/dev/null; then
			echo "[ocf] SKIP: $t is not installed: the resource agent is NOT checked (tools/install-deps --test)"
			exit 77
		fi
	done
	# The test guest is built while the network is there (build-guest
	# fetches packages with apt-get when they or the package lists changed);
	# need_guest inside then finds it cached.
	: "${QC_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
	: "${QC_GUEST_CACHE:=${QC_BUILDDIR:-$PWD}/tests/guest/cache}"
	export QC_SRCDIR QC_GUEST_CACHE
	"$QC_SRCDIR/tests/guest/build-guest" --arch x86_64 --out "$QC_GUEST_CACHE/x86_64" >/dev/null ||
		{ echo "[ocf] FAIL: building the x86_64 test guest failed"; exit 1; }
	# a private network namespace too: the test's sshd listens on its loopback
	QC_OCF_NS=1 QC_NET_IN_NETNS=1 exec unshare -m -n --propagation private bash "$0" "$@"
fi
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

DTD=/usr/share/resource-agents/ra-api-1.dtd
[ -f "$DTD" ] || fail "no $DTD (resource-agents)"
[ -f /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] || fail "no ocf-shellfuncs (resource-agents)"

# The agent as Pacemaker finds it: $SCRATCH/ra bound over /usr/lib/ocf/resource.d.
mkdir -p "$SCRATCH/ra/qemuctl"
install -m 0755 "$QC_SRCDIR/contrib/ocf/qemuctl" "$SCRATCH/ra/qemuctl/qemuctl"
mount --bind "$SCRATCH/ra" /usr/lib/ocf/resource.d
AGENT=/usr/lib/ocf/resource.d/qemuctl/qemuctl

guest=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" --memory 256M --net none)

# ra ACTION [VAR=VALUE...]: the agent as Pacemaker runs it, on $ROOT with the
# built qemuctl; sets ra_rc, stdout in $RA.out, stderr in $RA.err ($RA:
# $SCRATCH/ra, another for an agent run in the background).
RA=$SCRATCH/ra
ra() {
	local action="$1"
	shift
	ra_rc=0
	env OCF_ROOT=/usr/lib/ocf OCF_RA_VERSION_MAJOR=1 OCF_RA_VERSION_MINOR=1 \
		OCF_RESOURCE_INSTANCE=res OCF_RESKEY_root="$ROOT" OCF_RESKEY_binary="$QC" \
		"$@" "$AGENT" "$action" >"$RA.out" 2>"$RA.err" || ra_rc=$?
}
# expect_ra CODE ERE ACTION [VAR=VALUE...]: exit CODE and stderr matching ERE ('' for any).
expect_ra() {
	local want="$1" pat="$2"
	shift 2
	ra "$@"
	[ "$ra_rc" -eq "$want" ] || fail "agent $*: exit $ra_rc, expected $want; stderr: $(cat "$SCRATCH/ra.err")"
	[ -z "$pat" ] || grep -Eq -- "$pat" "$SCRATCH/ra.err" ||
		fail "agent $*: stderr does not match /$pat/: $(cat "$SCRATCH/ra.err")"
	ok "agent $*: exit $want${pat:+ /$pat/}"
}

# valid_xml FILE: FILE is valid against the DTD, without a warning (read
# from the DTD's directory, which its DOCTYPE names relative to itself).
valid_xml() {
	(cd "$(dirname "$DTD")" && xmllint --noout --dtdvalid "$DTD" - <"$1") 2>"$SCRATCH/xmllint.err" &&
		[ ! -s "$SCRATCH/xmllint.err" ]
}

# ---- meta-data: valid against the DTD, every action and parameter there
ra meta-data
[ "$ra_rc" -eq 0 ] || fail "meta-data exited $ra_rc"
valid_xml "$SCRATCH/ra.out" || fail "meta-data does not validate against $DTD: $(cat "$SCRATCH/xmllint.err")"
ok "meta-data validates against ra-api-1.dtd (xmllint --dtdvalid)"
acts=$(xmllint --xpath '//action/@name' "$SCRATCH/ra.out" | tr -s ' \n' ' ')
for a in start stop monitor migrate_to migrate_from meta-data validate-all; do
	assert_match "$acts" "name=\"$a\"" "meta-data advertises $a"
done
params=$(xmllint --xpath '//parameter/@name' "$SCRATCH/ra.out" | tr -s ' \n' ' ')
for p in name root connect stop_timeout wait_ready migration_target_format copy_storage binary; do
	assert_match "$params" "name=\"$p\"" "meta-data names parameter $p"
done
assert_eq "$(xmllint --xpath 'string(//parameter[@name="name"]/@required)' "$SCRATCH/ra.out")" 1 "name is required"
assert_eq "$(xmllint --xpath 'string(//parameter[@name="name"]/@unique)' "$SCRATCH/ra.out")" 1 "name is unique"

# ---- bad parameters and actions: exit codes, messages, nothing changed
qc create ns "${guest[@]}" --no-seed >/dev/null
before=$(tree_digest "$ROOT" | sha256sum)
expect_ra 6 "ocf-exit-reason:parameter 'name' is required" monitor
expect_ra 6 "ocf-exit-reason:parameter 'name' is required" validate-all
expect_ra 6 "parameter 'name': 'a/b' is not a qemuctl VM name" validate-all OCF_RESKEY_name=a/b
expect_ra 6 "parameter 'name': '../ns' is not a qemuctl VM name" start OCF_RESKEY_name=../ns
expect_ra 6 "parameter 'name': '-ns' is not a qemuctl VM name" monitor OCF_RESKEY_name=-ns
expect_ra 6 "is longer than 63 characters" monitor OCF_RESKEY_name="$(printf 'a%.0s' {1..64})"
expect_ra 6 "parameter 'root': 'rel/root' is not an absolute path" start OCF_RESKEY_name=ns OCF_RESKEY_root=rel/root
expect_ra 6 "parameter 'stop_timeout': 'soon' is not a whole number of seconds from 1 to 86400" \
	stop OCF_RESKEY_name=ns OCF_RESKEY_stop_timeout=soon OCF_RESKEY_CRM_meta_timeout=20000
expect_ra 6 "parameter 'stop_timeout': '0' is not" validate-all OCF_RESKEY_name=ns OCF_RESKEY_stop_timeout=0
expect_ra 6 "parameter 'stop_timeout': '86401' is not" validate-all OCF_RESKEY_name=ns OCF_RESKEY_stop_timeout=86401
expect_ra 6 "parameter 'wait_ready': 'maybe' is not a boolean" start OCF_RESKEY_name=ns OCF_RESKEY_wait_ready=maybe
expect_ra 6 "parameter 'copy_storage': '2' is not a boolean" validate-all OCF_RESKEY_name=ns OCF_RESKEY_copy_storage=2
expect_ra 6 "parameter 'migration_target_format': 'tcp://%n' does not start with ssh://" \
	validate-all OCF_RESKEY_name=ns OCF_RESKEY_migration_target_format=tcp://%n
expect_ra 6 "use %n \(node\), %r \(root\) or %% only" \
	validate-all OCF_RESKEY_name=ns OCF_RESKEY_migration_target_format=ssh://%x
expect_ra 6 "parameter 'connect': 'host' is not ssh://" validate-all OCF_RESKEY_name=ns OCF_RESKEY_connect=host
# A stop with parameters that can never have named a VM has nothing to stop.
expect_ra 0 "" stop OCF_RESKEY_name=a/b
# qemuctl missing: OCF_ERR_INSTALLED, for probes too.
expect_ra 5 "qemuctl is not installed: '$SCRATCH/nope' is not an executable program on this node \(parameter 'binary'\)" \
	start OCF_RESKEY_name=ns OCF_RESKEY_binary="$SCRATCH/nope"
expect_ra 5 "qemuctl is not installed: 'qemuctl-nope' is not an executable" \
	monitor OCF_RESKEY_name=ns OCF_RESKEY_binary=qemuctl-nope OCF_RESKEY_CRM_meta_interval=0
# A qemuctl without --connect (an older one): a stand-in whose --help lacks it.
cat >"$SCRATCH/qemuctl-noconnect" <<EOS
#!/bin/sh
case "\$1" in --help) "$QC" --help | grep -v -- --connect; exit 0 ;; esac
exec "$QC" "\$@"
EOS
chmod 0755 "$SCRATCH/qemuctl-noconnect"
"$QC" --help | grep -q -- --connect || fail "qemuctl --help does not show --connect"
! "$SCRATCH/qemuctl-noconnect" --help | grep -q -- --connect || fail "the stand-in's --help shows --connect"
expect_ra 5 "parameter 'connect': the installed qemuctl \(qemuctl [0-9.]+\) has no --connect" \
	validate-all OCF_RESKEY_name=ns OCF_RESKEY_connect=ssh://node2 OCF_RESKEY_binary="$SCRATCH/qemuctl-noconnect"
expect_ra 5 "has no --connect" monitor OCF_RESKEY_name=ns OCF_RESKEY_connect=ssh://node2 \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-noconnect" OCF_RESKEY_CRM_meta_interval=0
# A VM defined nowhere: not running to a probe and a stop, misconfigured to
# validate-all, not startable on this node.
expect_ra 7 "" monitor OCF_RESKEY_name=ghost OCF_RESKEY_CRM_meta_interval=0
expect_ra 7 "" monitor OCF_RESKEY_name=ghost OCF_RESKEY_CRM_meta_interval=10000
expect_ra 0 "" stop OCF_RESKEY_name=ghost
expect_ra 6 "VM 'ghost' is not defined under $ROOT: create it with qemuctl create or qemuctl define" \
	validate-all OCF_RESKEY_name=ghost
expect_ra 5 "VM 'ghost' is not defined on this node under $ROOT: define it there" start OCF_RESKEY_name=ghost
# 'n.' is not 'ns' (a name is no pattern).
expect_ra 6 "VM 'n\.' is not defined" validate-all OCF_RESKEY_name=n.
expect_ra 7 "" monitor OCF_RESKEY_name=n.
# A state root missing on this node (shared storage not mounted).
expect_ra 7 "" monitor OCF_RESKEY_name=ns OCF_RESKEY_root="$SCRATCH/unmounted" OCF_RESKEY_CRM_meta_interval=0
expect_ra 5 "parameter 'root': $SCRATCH/unmounted is not a directory on this node" \
	validate-all OCF_RESKEY_name=ns OCF_RESKEY_root="$SCRATCH/unmounted"
assert_no_file "$SCRATCH/unmounted"
expect_ra 2 "^usage: " "" OCF_RESKEY_name=ns
expect_ra 3 "^usage: " reload OCF_RESKEY_name=ns
expect_ra 3 "" promote OCF_RESKEY_name=ns
expect_ra 0 "" validate-all OCF_RESKEY_name=ns
expect_ra 7 "" monitor OCF_RESKEY_name=ns
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "state root unchanged by the agent's refusals and probes"

# ---- ocf-tester: every check against a booting VM, in the background
# while the checks up to crm_resource's run (their VMs are others): its
# two boots overlap theirs.
qc create ot "${guest[@]}" >/dev/null
# ocf-tester gives every operation 20 s; a TCG boot on a busy machine takes
# longer: the operations get the 120 s a start of this VM is configured with.
(
	t0=$SECONDS rc=0
	ocf-tester -n ot -o name=ot -o root="$ROOT" -o binary="$QC" -o wait_ready=true \
		-o CRM_meta_timeout=120000 "$AGENT" >"$SCRATCH/tester.out" 2>&1 || rc=$?
	echo "$rc $((SECONDS - t0))" >"$SCRATCH/tester.rc"
) &
tester_pid=$!

# ---- a second node: this machine through an sshd of the test's own (host
# key pinned, key login, 127.0.0.1 of the private netns), a second state root
sshd_start
sshd_client_ssh # the user's ssh, as qemuctl runs it (--connect and migrate)
# with one connection per host that later sessions share (ControlMaster), as
# a cluster node's ssh config has it: each action of the agent with connect
# runs qemuctl --connect a few times.  The masters end with the test.
grep -q '^exec /usr/bin/ssh ' "$SCRATCH/bin/ssh" || fail "sshd_client_ssh: $(cat "$SCRATCH/bin/ssh")"
sed -i "s|^exec /usr/bin/ssh |&-o ControlMaster=auto -o ControlPath=$SCRATCH/cm-%C -o ControlPersist=30 |" "$SCRATCH/bin/ssh"
# shellcheck disable=SC2016 # expanded when the hook runs
on_exit 'for m in "$SCRATCH"/cm-*; do [ ! -S "$m" ] || /usr/bin/ssh -o ControlPath="$m" -O exit x 2>/dev/null; done'
# qemuctl as each node has it: this build's, with its monitor named (ssh
# gives the remote command a fresh environment)
printf '#!/bin/sh\nQEMUCTL_MONITOR=%s exec %s "$@"\n' "$QEMUCTL_MONITOR" "$QC" >"$SCRATCH/qemuctl-node"
chmod 0755 "$SCRATCH/qemuctl-node"
export QEMUCTL_REMOTE="$SCRATCH/qemuctl-node" # the qemuctl --connect runs there
ROOT2="$(mktemp -d "/tmp/qc-$TEST_NAME-node2.XXXXXX")"
chmod 0711 "$ROOT2"
# shellcheck disable=SC2016 # expanded when the hook runs
on_exit 'kill -9 $(procs_using "$ROOT2") 2>/dev/null; rm -rf "$ROOT2"'
qc2() { "$QC" --root "$ROOT2" "$@"; }
URL2="ssh://root@127.0.0.1:$SSHD_PORT$ROOT2"

# ---- connect, then live migration, on one boot: the agent with
# connect=URL2 (qemuctl --connect ssh://root@127.0.0.1:PORT/ROOT2) starts mv
# on the second root, migrate_to/migrate_from move it to $ROOT, and the
# agent with connect=URL1 stops it there
qc create lonly "${guest[@]}" --no-seed >/dev/null # defined here only
qc2 create mv "${guest[@]}" >/dev/null
URL1="ssh://root@127.0.0.1:$SSHD_PORT$ROOT"
rconn=(OCF_RESKEY_root= OCF_RESKEY_connect="$URL2")
expect_ra 0 "" validate-all OCF_RESKEY_name=mv "${rconn[@]}"
expect_ra 7 "" monitor OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_interval=0 "${rconn[@]}"
# The start through --connect boots mv in the background of the checks up
# to crm_resource's.
(
	RA=$SCRATCH/ra-mv t0=$SECONDS
	ra start OCF_RESKEY_name=mv OCF_RESKEY_wait_ready=true OCF_RESKEY_CRM_meta_timeout=120000 "${rconn[@]}"
	echo "$ra_rc $((SECONDS - t0))" >"$SCRATCH/mv-start.rc"
) &
mv_start_pid=$!

# ---- migration: a qemuctl without 'migrate' (an older one, a stand-in here)
cat >"$SCRATCH/qemuctl-nomigrate" <<EOS
#!/bin/sh
for a in "\$@"; do
	[ "\$a" != migrate ] || { echo "qemuctl: error: unknown command 'migrate'" >&2; exit 2; }
done
exec "$QC" "\$@"
EOS
chmod 0755 "$SCRATCH/qemuctl-nomigrate"
expect_ra 3 "migrate_to: the installed qemuctl \(qemuctl [0-9.]+\) has no 'migrate' command; live migration needs" \
	migrate_to OCF_RESKEY_name=ns OCF_RESKEY_CRM_meta_migrate_target=node2 OCF_RESKEY_binary="$SCRATCH/qemuctl-nomigrate"
expect_ra 3 "migrate_from: the installed qemuctl .* has no 'migrate' command" \
	migrate_from OCF_RESKEY_name=ns OCF_RESKEY_CRM_meta_migrate_source=node1 OCF_RESKEY_binary="$SCRATCH/qemuctl-nomigrate"
# The arguments the agent gives qemuctl migrate: a wrapper around the real
# qemuctl whose migrate records them and refuses (or hangs for MIG_HANG
# seconds), so nothing pretends a migration happened; its --help offers
# --copy-storage.
cat >"$SCRATCH/qemuctl-migrate" <<EOS
#!/bin/sh
for a in "\$@"; do [ "\$a" = migrate ] && break; done
if [ "\$a" = migrate ]; then
	if [ "\$*" = "migrate --help" ]; then
		"$QC" migrate --help
		echo "  --copy-storage       copy the VM's disks"
		exit 0
	fi
	printf '%s\n' "\$*" >"$SCRATCH/migrate.args"
	[ -z "\${MIG_HANG:-}" ] || exec sleep "\$MIG_HANG"
	echo "qemuctl: error: migrate: target refused" >&2
	exit 1
fi
exec "$QC" "\$@"
EOS
chmod 0755 "$SCRATCH/qemuctl-migrate"

# ---- a VM without a ready marker (--no-seed): wait_ready and depth 10 refuse it
expect_ra 1 "ns: the guest was not ready within [0-9]+ s: .*has no ready marker" \
	start OCF_RESKEY_name=ns OCF_RESKEY_wait_ready=true OCF_RESKEY_CRM_meta_timeout=60000
assert_match "$(qc info ns)" 'State: +running' "the VM runs (Pacemaker stops it after the failed start)"
expect_ra 0 "" monitor OCF_RESKEY_name=ns
expect_ra 1 "ns runs but its guest has not announced the end of its boot" monitor OCF_RESKEY_name=ns OCF_CHECK_LEVEL=10
expect_ra 0 "" start OCF_RESKEY_name=ns
expect_ra 1 "ns: live migration to node2 failed: qemuctl: error: migrate: target refused" \
	migrate_to OCF_RESKEY_name=ns OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" \
	OCF_RESKEY_CRM_meta_migrate_target=node2 OCF_RESKEY_copy_storage=true
assert_eq "$(cat "$SCRATCH/migrate.args")" \
	"--root $ROOT migrate ns ssh://node2$ROOT --remote-qemuctl $SCRATCH/qemuctl-migrate --copy-storage" \
	"migrate_to: qemuctl migrate NAME ssh://NODE/ROOT --remote-qemuctl BINARY --copy-storage"
expect_ra 1 "" migrate_to OCF_RESKEY_name=ns OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" \
	OCF_RESKEY_CRM_meta_migrate_target=node-3 OCF_RESKEY_migration_target_format='ssh://qemu@%n.mig:2222/srv/%%r'
assert_eq "$(cat "$SCRATCH/migrate.args")" \
	"--root $ROOT migrate ns ssh://qemu@node-3.mig:2222/srv/%r --remote-qemuctl $SCRATCH/qemuctl-migrate" \
	"migration_target_format: %n, %%, no --copy-storage"
# A migration that hangs ends within the operation's timeout less 10 s.
t0=$SECONDS
expect_ra 1 "ns: live migration to node2 did not finish within 1 s \(the migrate_to operation's timeout less 10 s\)" \
	migrate_to OCF_RESKEY_name=ns OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" MIG_HANG=60 \
	OCF_RESKEY_CRM_meta_migrate_target=node2 OCF_RESKEY_CRM_meta_timeout=11000
[ $((SECONDS - t0)) -lt 11 ] || fail "the hanging migration took $((SECONDS - t0)) s, not about 1"
ok "the hanging migration was ended after $((SECONDS - t0)) s"
expect_ra 1 "bad or missing target node '-x'" migrate_to OCF_RESKEY_name=ns \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" OCF_RESKEY_CRM_meta_migrate_target=-x
expect_ra 0 "live migration from node1 succeeded" migrate_from OCF_RESKEY_name=ns \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" OCF_RESKEY_CRM_meta_migrate_source=node1
# A VM whose state was migrated away and whose CPUs stay stopped (a
# migration that ended halfway) does not run here: QEMU's own migration to
# a socket that reads and drops it leaves it so.  (QEMU runs as another
# user: the socket's directory is open to it.)
migdir=$(mktemp -d /tmp/qc-ocf-mig.XXXXXX)
on_exit "rm -rf '$migdir'"
chmod 0777 "$migdir"
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
while c.recv(65536):
    pass
' "$migdir/sink.sock" >"$SCRATCH/sink.out" &
sink_pid=$!
wait_for_text "$SCRATCH/sink.out" '^listening' 10
qc qmp ns "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:$migdir/sink.sock\"}}" >/dev/null
postmigrate() { qc qmp ns '{"execute":"query-status"}' | grep -q '"status": *"postmigrate"'; }
wait_until 60 postmigrate
wait "$sink_pid"
expect_ra 1 "ns: QEMU reports run state 'postmigrate': its CPUs stopped after a migration; it does not run here" \
	monitor OCF_RESKEY_name=ns
qc qmp ns '{"execute":"cont"}' >/dev/null
assert_match "$(qc qmp ns '{"execute":"query-status"}')" '"status": *"running"' "ns resumed"
expect_ra 0 "" monitor OCF_RESKEY_name=ns
# stop_timeout capped by the stop operation's timeout (11 s less 10 s).
expect_ra 0 "ns: stop_timeout 60 s capped at 1 s" stop OCF_RESKEY_name=ns OCF_RESKEY_CRM_meta_timeout=11000
assert_match "$(qc info ns)" 'State: +stopped' "stop stopped it"
expect_ra 1 "migrate_from node1: the VM is not running on this node" migrate_from OCF_RESKEY_name=ns \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" OCF_RESKEY_CRM_meta_migrate_source=node1
expect_ra 1 "migrate_to node2: the VM is not running on this node" migrate_to OCF_RESKEY_name=ns \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" OCF_RESKEY_CRM_meta_migrate_target=node2
qc delete ns >/dev/null

# ---- crm_resource without a cluster: a primitive in a CIB file
cat >"$SCRATCH/cib.xml" <<EOC
<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources>
      <primitive id="vm-cr" class="ocf" provider="qemuctl" type="qemuctl">
        <instance_attributes id="vm-cr-params">
          <nvpair id="vm-cr-name" name="name" value="cr"/>
          <nvpair id="vm-cr-root" name="root" value="$ROOT"/>
          <nvpair id="vm-cr-binary" name="binary" value="$QC"/>
          <nvpair id="vm-cr-wait" name="wait_ready" value="true"/>
          <nvpair id="vm-cr-stop" name="stop_timeout" value="60"/>
        </instance_attributes>
        <meta_attributes id="vm-cr-meta">
          <nvpair id="vm-cr-migrate" name="allow-migrate" value="true"/>
        </meta_attributes>
        <operations>
          <op id="vm-cr-start" name="start" interval="0" timeout="120s"/>
          <op id="vm-cr-stop-op" name="stop" interval="0" timeout="90s"/>
          <op id="vm-cr-monitor" name="monitor" interval="10s" timeout="30s"/>
        </operations>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
EOC
export CIB_file="$SCRATCH/cib.xml"
# cr_op CODE ARGS...: crm_resource ARGS must exit CODE (its own: 0 ok, 7 not running).
cr_op() {
	local want="$1" rc=0
	shift
	crm_resource "$@" >"$SCRATCH/cr.out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || fail "crm_resource $*: exit $rc, expected $want: $(cat "$SCRATCH/cr.out")"
	ok "crm_resource $*: exit $want: $(head -n 1 "$SCRATCH/cr.out")"
}
cr_op 0 --show-metadata ocf:qemuctl:qemuctl
valid_xml "$SCRATCH/cr.out" || fail "crm_resource --show-metadata does not validate: $(cat "$SCRATCH/xmllint.err")"
ok "crm_resource --show-metadata validates against ra-api-1.dtd"
cr_op 6 --validate --class ocf --provider qemuctl --agent qemuctl --option root="$ROOT" --option binary="$QC"
assert_match "$(cat "$SCRATCH/cr.out")" "returned 6 \(not configured: parameter 'name' is required" "crm_resource --validate: no name"
cr_op 6 --validate --class ocf --provider qemuctl --agent qemuctl --option name=vm/1
assert_match "$(cat "$SCRATCH/cr.out")" "not configured: parameter 'name': 'vm/1' is not a qemuctl VM name" \
	"crm_resource --validate: a slash in the name"
cr_op 6 --validate --class ocf --provider qemuctl --agent qemuctl --option name=cr --option root="$ROOT" --option binary="$QC"
assert_match "$(cat "$SCRATCH/cr.out")" "not configured: VM 'cr' is not defined" "crm_resource --validate: VM not defined"
cr_op 7 -r vm-cr --force-check

qc create cr "${guest[@]}" >/dev/null
cr_op 0 --validate --class ocf --provider qemuctl --agent qemuctl --option name=cr --option root="$ROOT" --option binary="$QC"
cr_op 7 -r vm-cr --force-check
# Started outside the cluster (no boot awaited), its QEMU killed: running,
# then not running, and a stop succeeds.
qc start cr >/dev/null
cr_op 0 -r vm-cr --force-check
cr_pid=$(qc --json info cr | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
{ [ -n "$cr_pid" ] && [ -d "/proc/$cr_pid" ]; } || fail "cr: no QEMU pid '$cr_pid'"
kill -9 "$cr_pid"
wait_until 30 bash -c "! '$QC' --root '$ROOT' info cr | grep -Eq 'State: +(running|paused)'"
cr_op 7 -r vm-cr --force-check
assert_match "$(qc --json info cr)" '"detail": "signal 9 \(Killed\)"' "cr was killed"
cr_op 0 -r vm-cr --force-stop
# crm_resource starts it again: it boots (wait_ready) with a new console
# log, in the background of the checks up to ocf-tester's result.
(
	t0=$SECONDS rc=0
	crm_resource -r vm-cr --force-start >"$SCRATCH/cr-start.out" 2>&1 || rc=$?
	echo "$rc $((SECONDS - t0))" >"$SCRATCH/cr-start.rc"
) &
cr_start_pid=$!

# ---- the second node's VM: its start through --connect
wait "$mv_start_pid"
read -r rc t <"$SCRATCH/mv-start.rc"
[ "$rc" -eq 0 ] || fail "agent start mv through --connect: exit $rc, expected 0; stderr: $(cat "$SCRATCH/ra-mv.err")"
ok "agent start OCF_RESKEY_name=mv OCF_RESKEY_wait_ready=true OCF_RESKEY_CRM_meta_timeout=120000 ${rconn[*]}: exit 0"
assert_match "$(qc2 info mv)" 'State: +running' "start through --connect: mv runs on the second root"
assert_eq "$(grep -ac '^QEMUCTL-READY' "$ROOT2/vms/mv/console.log")" 1 \
	"mv booted on the second root: its console shows the ready marker ($t s)"
assert_no_file "$ROOT/vms/mv"
expect_ra 0 "" monitor OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_interval=10000 "${rconn[@]}"
expect_ra 0 "" monitor OCF_RESKEY_name=mv OCF_CHECK_LEVEL=10 "${rconn[@]}"
# A VM missing there (though defined here): not running, not configured, not startable.
expect_ra 7 "" monitor OCF_RESKEY_name=lonly OCF_RESKEY_CRM_meta_interval=0 "${rconn[@]}"
expect_ra 6 "VM 'lonly' is not defined: create it" validate-all OCF_RESKEY_name=lonly "${rconn[@]}"
expect_ra 5 "VM 'lonly' is not defined on this node" start OCF_RESKEY_name=lonly "${rconn[@]}"
assert_eq "$(ls "$ROOT2/vms")" mv "nothing made on the second root"
# The remote host unreachable: an error, never "not running".
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_ra 1 "qemuctl info mv failed: .*(refused|Connection)" monitor OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_interval=0 OCF_RESKEY_root= OCF_RESKEY_connect="ssh://root@127.0.0.1:$closed$ROOT2"
# With connect the VM runs on that host whatever the node: no migration
# between nodes, refused before any qemuctl migrate (the recording stand-in).
rm -f "$SCRATCH/migrate.args"
expect_ra 3 "mv: migrate_to: not with parameter 'connect' \(ssh://root@127\.0\.0\.1:$SSHD_PORT$ROOT2\): .*set the meta attribute allow-migrate=false" \
	migrate_to OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1 \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" "${rconn[@]}"
expect_ra 3 "mv: migrate_from: not with parameter 'connect'" migrate_from OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_migrate_source=127.0.0.1 OCF_RESKEY_binary="$SCRATCH/qemuctl-migrate" "${rconn[@]}"
assert_no_file "$SCRATCH/migrate.args"
assert_match "$(qc2 info mv)" 'State: +running' "refused: mv runs on the second root"

# ---- live migration from $ROOT2 (node2) to $ROOT (node1), both with this
# qemuctl (binary: run on the target too)
"$QC" migrate --help >/dev/null 2>&1 ||
	fail "this qemuctl has no 'migrate': the agent's migrate_to/migrate_from run 'qemuctl migrate'"
node1=(OCF_RESKEY_binary="$SCRATCH/qemuctl-node")
node2=(OCF_RESKEY_binary="$SCRATCH/qemuctl-node" OCF_RESKEY_root="$ROOT2")
mig=(OCF_RESKEY_migration_target_format="ssh://root@%n:$SSHD_PORT$ROOT" OCF_RESKEY_copy_storage=true)
qemu_pid=$(qc2 --json info mv | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
expect_ra 0 "" monitor OCF_RESKEY_name=mv "${node2[@]}"
expect_ra 7 "" monitor OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_interval=0 "${node1[@]}"
# A target nobody listens on: fails, the VM runs on here.
expect_ra 1 "mv: live migration to 127.0.0.1 failed: .*(refused|Connection)" migrate_to OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1 OCF_RESKEY_migration_target_format="ssh://root@%n:$closed$ROOT" \
	OCF_RESKEY_CRM_meta_timeout=600000 "${node2[@]}"
expect_ra 0 "" monitor OCF_RESKEY_name=mv "${node2[@]}"
# A real move that outlives the operation: 11 s less the agent's 10 s leave
# qemuctl migrate 1 s, then timeout's SIGTERM cancels it.  A quiet machine
# moves this guest in about 1 s, so the target's qemuctl (the agent's binary
# runs on both ends) answers only once the source has closed its end of the
# connection (its input hung up: the source gave up): the signal lands
# while the source waits for it.  The guest runs on here, unpaused, in the
# same QEMU, and the target keeps nothing.
cat >"$SCRATCH/qemuctl-slow" <<EOS
#!/bin/sh
for a in "\$@"; do
	[ "\$a" != migrate-receive ] || python3 -c '
import select
p = select.poll()
p.register(0, select.POLLRDHUP)
while not any(e & (select.POLLHUP | select.POLLRDHUP | select.POLLERR) for _, e in p.poll()):
    pass
'
done
exec "$SCRATCH/qemuctl-node" "\$@"
EOS
chmod 0755 "$SCRATCH/qemuctl-slow"
expect_ra 1 "mv: live migration to 127.0.0.1 did not finish within 1 s" migrate_to OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1 OCF_RESKEY_CRM_meta_timeout=11000 "${mig[@]}" \
	OCF_RESKEY_binary="$SCRATCH/qemuctl-slow" OCF_RESKEY_root="$ROOT2"
expect_ra 0 "" monitor OCF_RESKEY_name=mv "${node2[@]}"
assert_match "$(qc2 info mv)" 'State: +running' "after the interrupted move mv runs on node2, not paused"
assert_eq "$(qc2 --json info mv | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')" "$qemu_pid" \
	"after the interrupted move: the same QEMU"
wait_until 15 sh -c "! ls -A '$ROOT/vms' | grep -Eq '^(mv|\.migrate-)'"
ok "the interrupted move left nothing on node1"
t0=$SECONDS
expect_ra 0 "mv: live migration to 127.0.0.1 succeeded" migrate_to OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_migrate_target=127.0.0.1 OCF_RESKEY_CRM_meta_timeout=600000 "${mig[@]}" "${node2[@]}"
ok "migrate_to took $((SECONDS - t0)) s"
expect_ra 0 "mv: live migration from node2 succeeded" migrate_from OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_migrate_source=node2 OCF_RESKEY_CRM_meta_timeout=60000 "${node1[@]}"
assert_match "$(qc info mv)" 'State: +running' "mv runs on node1's root"
expect_ra 0 "" monitor OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_interval=10000 "${node1[@]}"
expect_ra 7 "" monitor OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_interval=0 "${node2[@]}"
assert_no_file "$ROOT2/vms/mv"
[ ! -d "/proc/$qemu_pid" ] || fail "mv's QEMU on node2 ($qemu_pid) still runs"
ok "mv's QEMU on node2 ended"
# migrate_from where the VM does not run: an error
expect_ra 1 "migrate_from node1: the VM is not running on this node" migrate_from OCF_RESKEY_name=mv \
	OCF_RESKEY_CRM_meta_migrate_source=node1 "${node2[@]}"
# stop through --connect, on the root it moved to: gracefully
rconn1=(OCF_RESKEY_root= OCF_RESKEY_connect="$URL1")
expect_ra 0 "" stop OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_timeout=90000 "${rconn1[@]}"
assert_match "$(qc info mv)" 'State: +stopped' "stop through --connect stopped mv"
assert_match "$(qc --json info mv)" '"reason": "poweroff"' "gracefully: the migrated mv powered off"
expect_ra 7 "" monitor OCF_RESKEY_name=mv OCF_RESKEY_CRM_meta_interval=0 "${rconn1[@]}"
expect_ra 0 "" stop OCF_RESKEY_name=mv "${rconn1[@]}"
qc delete mv >/dev/null
qc delete lonly >/dev/null


# ---- ocf-tester's result
wait "$tester_pid"
read -r rc t <"$SCRATCH/tester.rc"
[ "$rc" -eq 0 ] || fail "ocf-tester exited $rc: $(cat "$SCRATCH/tester.out")"
grep -q "^$AGENT passed all tests" "$SCRATCH/tester.out" || fail "ocf-tester: $(cat "$SCRATCH/tester.out")"
! grep -q '^\* rc=' "$SCRATCH/tester.out" || fail "ocf-tester reported failures: $(cat "$SCRATCH/tester.out")"
ok "ocf-tester: passed all tests in $t s ($(grep -c '^\*' "$SCRATCH/tester.out") optional actions unsupported)"
assert_eq "$(grep -ac '^QEMUCTL-READY' "$ROOT/vms/ot/console.log")" 1 "the last boot of ocf-tester's VM was ready"
assert_match "$(qc --json info ot)" '"reason": "poweroff"' "ocf-tester's last stop was an ACPI poweroff"
qc delete ot >/dev/null

# ---- crm_resource's start: its result
wait "$cr_start_pid"
read -r rc t <"$SCRATCH/cr-start.rc"
[ "$rc" -eq 0 ] || fail "crm_resource -r vm-cr --force-start: exit $rc, expected 0: $(cat "$SCRATCH/cr-start.out")"
ok "crm_resource -r vm-cr --force-start: exit 0: $(head -n 1 "$SCRATCH/cr-start.out")"
assert_match "$(grep -a '^QEMUCTL-READY' "$ROOT/vms/cr/console.log")" '^QEMUCTL-READY iid-' \
	"the VM booted: its console shows the ready marker ($t s)"
grep -aq '^GUEST-READY' "$ROOT/vms/cr/console.log" || fail "no GUEST-READY on cr's console"
cr_op 0 -r vm-cr --force-check
assert_eq "$(grep -ac '^QEMUCTL-READY' "$ROOT/vms/cr/console.log")" 1 "started again: ready (a new console log)"
t0=$SECONDS
cr_op 0 -r vm-cr --force-stop
assert_match "$(qc info cr)" 'State: +stopped' "crm_resource --force-stop stopped cr"
assert_match "$(qc --json info cr)" '"reason": "poweroff"' "gracefully: the guest powered off ($((SECONDS - t0)) s)"
cr_op 7 -r vm-cr --force-check
cr_op 0 -r vm-cr --force-stop
