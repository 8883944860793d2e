# shellcheck shell=bash
# For the tests of the Ansible collection (ansible.sh), sourced after
# lib.sh: skips (77) without ansible-core, needs the x86_64 test guest,
# serves the test image stream on the loopback (the test runs in a private
# network namespace), copies the collection to
# $SCRATCH/coll/ansible_collections/qemuctl/vm ($coll) where ansible finds
# it; ansible_vars writes the playbooks' variables (each host's qc_root is
# in the inventory), plays runs playbooks, in one ansible-playbook run.
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
	ANSIBLE_CONFIG="$SCRATCH/ansible.cfg" ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
	ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ANSIBLE_DISPLAY_OK_HOSTS=1 ANSIBLE_DISPLAY_SKIPPED_HOSTS=1
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

# plays ITEM... [-- ARGS...]: one ansible-playbook run of the inventory's
# hosts (ARGS: --limit HOST for one) through a playbook of its own that
# imports, in order, each ITEM: NAME:FIRST, playbook NAME of the collection
# with first=FIRST (true: its first run), or run:SCRIPT, a play on the
# controller that runs the shell script SCRIPT (between two playbooks: a
# digest of the state root, a wait).  One run instead of one per playbook:
# each costs seconds of Python start-up.  It must succeed on each host;
# sets changed[NAME:FIRST] and changed_h1[NAME:FIRST], the tasks that
# changed something on localhost and on h1 in that playbook (the recap's
# changed= had it run alone; h1's empty when it did not run there), their
# sums checked against the recap's; ignored, localhost's recap's ignored=;
# out, the output file.
play_n=0
declare -A changed changed_h1
# shellcheck disable=SC2034 # changed, changed_h1, ignored: read by the tests
plays() {
	local items=() item recap line t0=$SECONDS wrap n host count sum=0 sum_h1=0 total total_h1=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		items+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	play_n=$((play_n + 1))
	out="$SCRATCH/play$play_n.out"
	wrap="$SCRATCH/play$play_n.yml"
	: >"$wrap"
	for item in "${items[@]}"; do
		case "$item" in
		run:*) printf -- '- name: "run %s"\n  hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug:\n        msg: "{{ lookup('"'pipe', 'bash %s'"') }}"\n' \
			"${item#run:}" "${item#run:}" ;;
		*:true | *:false) printf -- '- import_playbook: %s\n  vars:\n    first: %s\n' \
			"$coll/tests/playbooks/${item%:*}.yml" "${item##*:}" ;;
		*) fail "plays: bad item '$item'" ;;
		esac
	done >>"$wrap"
	ansible-playbook -i "$SCRATCH/inventory.yml" "$wrap" -e "@$SCRATCH/vars.json" "$@" >"$out" 2>&1 ||
		fail "ansible-playbook ${items[*]} $*: $(sed -n '/^failed: /,+30p;/^fatal: /,+30p' "$out")$(tail -40 "$out")"
	grep -q Traceback "$out" && fail "${items[*]}: a traceback: $(cat "$out")"
	recap=$(grep -E '^[^ ]+ +: ok=' "$out") || fail "${items[*]}: no recap: $(tail "$out")"
	total="" ignored=""
	while read -r line; do
		[[ "$line" =~ failed=0 ]] && [[ "$line" =~ unreachable=0 ]] || fail "${items[*]}: $line"
		case "$line" in
		"localhost "*)
			total=$(sed -E 's/.* changed=([0-9]+).*/\1/' <<<"$line")
			ignored=$(sed -E 's/.* ignored=([0-9]+).*/\1/' <<<"$line")
			;;
		"h1 "*) total_h1=$(sed -E 's/.* changed=([0-9]+).*/\1/' <<<"$line") ;;
		esac
	done <<<"$recap"
	[ -n "$total" ] || fail "${items[*]}: localhost did not run: $recap"
	# Each play's changed tasks per host: the default output's "changed:
	# [HOST]" lines (one per host, or per item of a loop) of each TASK.
	for item in "${items[@]}"; do
		changed[$item]=0
		changed_h1[$item]=""
		[ -z "$total_h1" ] || changed_h1[$item]=0
	done
	while read -r n host count; do
		[ "$n" != plays ] || { [ "$host" -eq "${#items[@]}" ] || fail "${items[*]}: $host plays ran: $(cat "$out")"; continue; }
		item=${items[n - 1]}
		case "$host" in
		localhost) changed[$item]=$count sum=$((sum + count)) ;;
		h1) changed_h1[$item]=$count sum_h1=$((sum_h1 + count)) ;;
		*) fail "${items[*]}: changed on an unknown host '$host'" ;;
		esac
	done < <(awk '
		function flush(h) { for (h in cur) n[p, h]++; delete cur }
		/^PLAY RECAP/ { flush(); exit }
		/^PLAY \[/ { flush(); p++; next }
		/^TASK \[/ { flush(); next }
		/^changed: \[[^]]+\]/ { h = $0; sub(/^changed: \[/, "", h); sub(/\].*/, "", h); cur[h] = 1 }
		END { for (k in n) { split(k, a, SUBSEP); print a[1], a[2], n[k] }; print "plays", p, 0 }' "$out")
	[ "$sum" -eq "$total" ] || fail "${items[*]}: the plays changed $sum tasks on localhost, the recap says $total: $(cat "$out")"
	[ -z "$total_h1" ] || [ "$sum_h1" -eq "$total_h1" ] ||
		fail "${items[*]}: the plays changed $sum_h1 tasks on h1, the recap says $total_h1: $(cat "$out")"
	log "${items[*]} $*: $((SECONDS - t0)) s: $(tr -s ' \n' ' ' <<<"$recap")"
}
