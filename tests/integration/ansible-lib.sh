# shellcheck shell=bash
# For the tests of the Ansible collection (ansible.sh), sourced after
# lib.sh: skips (77) without ansible-core, needs the x86_64 test guest,
# serves the test image stream on the loopback (the test runs in a private
# network namespace), copies the collection to
# $SCRATCH/coll/ansible_collections/qemuctl/vm ($coll) where ansible finds
# it; ansible_vars writes the playbooks' variables (each host's qc_root is
# in the inventory), play runs a playbook.
for t in ansible-playbook ansible-doc; do
	if ! command -v "$t" >/dev/null; then
		log "SKIP: $t is not installed: the Ansible collection is NOT tested (apt-get install ansible-core)"
		exit 77
	fi
done
need_guest x86_64
ip link set lo up
serve_stream

# The collection where ansible looks for it: ansible_collections/NS/NAME.
coll="$SCRATCH/coll/ansible_collections/qemuctl/vm"
mkdir -p "$(dirname "$coll")"
cp -a "$QC_SRCDIR/contrib/ansible" "$coll"
export ANSIBLE_COLLECTIONS_PATH="$SCRATCH/coll" ANSIBLE_LOCAL_TEMP="$SCRATCH/atmp" \
	ANSIBLE_REMOTE_TEMP="$SCRATCH/atmp" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1 \
	ANSIBLE_CONFIG="$SCRATCH/ansible.cfg" ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
: >"$SCRATCH/ansible.cfg"
cd "$SCRATCH" || fail "cd $SCRATCH"

# ansible_vars [EXTRA]: the playbooks' variables in $SCRATCH/vars.json
# (EXTRA: more JSON members, e.g. '"qc_env": {...}').
ansible_vars() {
	python3 - "$SCRATCH/vars.json" <<EOF
import json, sys
json.dump({"qc_bin": "$QC", "guest_kernel": "$GUEST_KERNEL",
           "guest_initrd": "$GUEST_INITRD", "guest_append": "$GUEST_APPEND",
           "guest_append_root": "$GUEST_APPEND_ROOT", "guest_root": "$GUEST_ROOT",
           "guest_root_sha256": "$(sha256sum <"$GUEST_ROOT" | cut -d' ' -f1)",
           "stream_url": "$URL", ${1:-}}, open(sys.argv[1], "w"))
EOF
}

# play NAME FIRST [ARGS...]: run playbook NAME (first run: FIRST=true) on
# the inventory's hosts (ARGS: --limit HOST for one); it must succeed on
# each; sets changed (localhost's recap's changed=), changed_h1 (h1's, empty
# when it did not run) and out (its output file).
play_n=0
# shellcheck disable=SC2034 # changed, changed_h1: read by the tests
play() {
	local pb="$1" first="$2" recap line t0=$SECONDS
	shift 2
	play_n=$((play_n + 1))
	out="$SCRATCH/play$play_n.out"
	ansible-playbook -i "$SCRATCH/inventory.yml" "$coll/tests/playbooks/$pb.yml" \
		-e "@$SCRATCH/vars.json" -e "{\"first\": $first}" "$@" >"$out" 2>&1 ||
		fail "ansible-playbook $pb.yml $*: $(sed -n '/^failed: /,+30p' "$out")$(tail -40 "$out")"
	grep -q Traceback "$out" && fail "$pb.yml: a traceback: $(cat "$out")"
	recap=$(grep -E '^[^ ]+ +: ok=' "$out") || fail "$pb.yml: no recap: $(tail "$out")"
	changed="" changed_h1=""
	while read -r line; do
		[[ "$line" =~ failed=0 ]] && [[ "$line" =~ unreachable=0 ]] || fail "$pb.yml: $line"
		case "$line" in
		"localhost "*) changed=$(sed -E 's/.* changed=([0-9]+).*/\1/' <<<"$line") ;;
		"h1 "*) changed_h1=$(sed -E 's/.* changed=([0-9]+).*/\1/' <<<"$line") ;;
		esac
	done <<<"$recap"
	[ -n "$changed" ] || fail "$pb.yml: localhost did not run: $recap"
	log "$pb.yml (first=$first $*): $((SECONDS - t0)) s: $(tr -s ' \n' ' ' <<<"$recap")"
}
