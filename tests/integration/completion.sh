#!/bin/bash
# Shell completion: bash (complete -p after sourcing; scripted completions of
# commands, options and VM/image/network names from the state root given by
# --root or $QEMUCTL_ROOT) and zsh (the name helpers against the same root).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

bashc="$QC_SRCDIR/completion/qemuctl.bash"
zshc="$QC_SRCDIR/completion/_qemuctl"
assert_file "$bashc"
assert_file "$zshc"

# A state root with two real VMs, a catalog image and a network with leases.
touch "$SCRATCH/vmlinuz"
for vm in alpha beta; do
	qc create "$vm" --kernel "$SCRATCH/vmlinuz" --no-seed --net none --accel tcg >/dev/null
done
mkdir -p "$ROOT/images" "$ROOT/networks"
touch "$ROOT/images/noble-amd64.qcow2" "$ROOT/images/noble-amd64.json"
echo '{}' >"$ROOT/networks/lan.json"
echo '{}' >"$ROOT/networks/lan.leases.json"
other="$SCRATCH/other"
mkdir -p "$other/vms/gamma"

# complete_bash WORD...: COMPREPLY (sorted, one per line) for the command line,
# the last word being the one completed.
complete_bash() {
	bash -c '
		set -u
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_qemuctl qemuctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$bashc" "$@"
}

out=$(bash -c '. "$1"; complete -p qemuctl' _ "$bashc")
assert_match "$out" '^complete -F _qemuctl qemuctl$' "bash: complete -p qemuctl"

assert_eq "$(complete_bash qemuctl --root "$ROOT" start a)" "alpha" "VM name from --root"
assert_eq "$(complete_bash qemuctl --conn)" "--connect" "bash: --connect"
assert_eq "$(complete_bash qemuctl --connect "")" "ssh://" "bash: --connect takes an ssh:// address"
assert_eq "$(complete_bash qemuctl --connect ssh://h li)" "list" "bash: the command after --connect URL"
assert_eq "$(complete_bash qemuctl --root="$ROOT" info "")" $'alpha\nbeta' "all VM names (--root=)"
assert_eq "$(QEMUCTL_ROOT=$ROOT complete_bash qemuctl stop b)" "beta" "VM name from \$QEMUCTL_ROOT"
assert_eq "$(QEMUCTL_ROOT=$ROOT complete_bash qemuctl --root "$other" delete "")" "gamma" \
	"--root wins over \$QEMUCTL_ROOT"
assert_eq "$(complete_bash qemuctl --root "$ROOT" stop alpha "")" "" "one VM name only"
assert_eq "$(complete_bash qemuctl --root "$ROOT" create x --image n)" "noble-amd64" "image names"
assert_eq "$(complete_bash qemuctl --root "$ROOT" image rm "")" "noble-amd64" "image rm"
assert_eq "$(complete_bash qemuctl --root "$ROOT" net rm "")" "lan" "network names (no leases file)"
assert_eq "$(complete_bash qemuctl --root "$ROOT" run x --net network=)" "network=lan" \
	"--net network=NAME"
assert_eq "$(complete_bash qemuctl --root "$ROOT" create x --arch a)" "aarch64" "--arch values"
assert_eq "$(complete_bash qemuctl stop x --f)" "--force" "stop options"
assert_match "$(complete_bash qemuctl create x --)" '--disk-image' "create options"
assert_eq "$(complete_bash qemuctl image "")" $'import\nlist\nrm\nsync' "image subcommands"
assert_eq "$(complete_bash qemuctl image sync deb)" \
	$'debian:12\ndebian:12-genericcloud\ndebian:13\ndebian:13-genericcloud' "image sync REFs"
assert_eq "$(complete_bash qemuctl image sync ubuntu:24.04 "")" "" "one image sync REF"
assert_eq "$(complete_bash qemuctl --root "$ROOT" snapshot list a)" "alpha" "snapshot: VM names"
assert_eq "$(complete_bash qemuctl --root "$ROOT" stats alpha b)" "beta" "stats: several VM names"
assert_eq "$(complete_bash qemuctl --root "$ROOT" stats --watch 2 a)" "alpha" "stats: --watch takes a value"
assert_eq "$(complete_bash qemuctl --root "$ROOT" screenshot a)" "alpha" "screenshot: VM names"
assert_eq "$(complete_bash qemuctl port "")" $'add\nlist\nrm' "port subcommands"
assert_eq "$(complete_bash qemuctl --root "$ROOT" port add a)" "alpha" "port add: VM names"
assert_eq "$(complete_bash qemuctl --root "$ROOT" port add alpha 8080:80 --p)" "--persist" "port add options"
assert_eq "$(complete_bash qemuctl --root "$ROOT" port add --nic net0 b)" "beta" "port add: --nic takes a value"
assert_eq "$(complete_bash qemuctl --root "$ROOT" attach-net b network=)" "network=lan" "attach-net SPEC"
assert_eq "$(complete_bash qemuctl --ro)" "--root" "global options"
# aliases complete as their commands
assert_eq "$(complete_bash qemuctl --root "$ROOT" rm a)" "alpha" "rm: VM names"
assert_eq "$(complete_bash qemuctl --root "$ROOT" shell b)" "beta" "shell: VM names"
assert_eq "$(complete_bash qemuctl ls --h)" "--help" "ls: list's options"
assert_eq "$(complete_bash qemuctl --root "$ROOT" snapshot ls a)" "alpha" "snapshot ls: VM names"
# resize and detach-disk: the VM's disks (not the seed)
third="$SCRATCH/third"
mkdir -m 0700 "$third"
"$QC" --root "$third" create delta --kernel "$SCRATCH/vmlinuz" --disk 1M --disk 1M --net none \
	--accel tcg >/dev/null
[ -e "$third/vms/delta/seed.iso" ] || fail "delta has no seed to leave out"
assert_eq "$(complete_bash qemuctl --root "$third" resize delta "")" $'disk1\ndisk2' "resize: disk names, not the seed"
assert_eq "$(complete_bash qemuctl --root "$third" detach-disk delta d)" $'disk1\ndisk2' "detach-disk: disk names"
assert_eq "$(complete_bash qemuctl --root "$ROOT" resize alpha "")" "" "resize: a VM without disks"
assert_eq "$(complete_bash qemuctl --root "$third" resize ../x "")" "" "resize: no path as a VM name"
assert_eq "$(complete_bash qemuctl --root "$ROOT" exec a)" "alpha" "exec: VM names"
assert_eq "$(complete_bash qemuctl exec x --no)" "--no-wait" "exec options"
assert_eq "$(cd "$SCRATCH" && complete_bash qemuctl --root "$ROOT" cp be)" "beta:" "cp: NAME: of a VM"
assert_eq "$(cd "$SCRATCH" && complete_bash qemuctl --root "$ROOT" cp vml)" "vmlinuz" "cp: a host file"
assert_eq "$(complete_bash qemuctl cp -)" $'--help\n--no-wait\n--timeout\n-r' "cp options"
assert_eq "$(complete_bash qemuctl --root "$ROOT" clone b)" "beta" "clone: VM names"
assert_eq "$(complete_bash qemuctl clone x y --sn)" "--snapshot" "clone options"
assert_eq "$(complete_bash qemuctl snapshot create x y --no)" "--no-quiesce" "snapshot create --no-quiesce"
# one record per line, as qemuctl writes them
sed -i 's|</metadata>|<qcsnap:snapshots xmlns:qcsnap="x">\n<qcsnap:snapshot name="snapa" created="1"/>\n<qcsnap:snapshot name="snapb" created="2"/>\n</qcsnap:snapshots></metadata>|' \
	"$ROOT/vms/alpha/domain.xml"
grep -q snapa "$ROOT/vms/alpha/domain.xml" || fail "no snapshot records planted"
assert_eq "$(complete_bash qemuctl --root "$ROOT" clone alpha new --snapshot snap)" $'snapa\nsnapb' \
	"clone --snapshot: the source's snapshots"

# The command list is the CLI's.
cli=$("$QC" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}' |
	tr '|' '\n' | sort -u)
comp=$(complete_bash qemuctl "")
assert_eq "$comp" "$cli" "bash completes exactly the CLI's commands"
# Every option of each VM command's --help is completed.
for c in create run start stop delete log events doctor autostart wait exec; do
	for o in $("$QC" "$c" --help | grep -Eo -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u); do
		[ "$o" = --json ] && continue
		complete_bash qemuctl "$c" x "$o" | grep -qx -- "$o" || fail "bash: '$c $o' not completed"
	done
done
ok "bash completes every option of create/start/stop/delete/log/events/doctor/autostart"

if command -v zsh >/dev/null; then
	zsh -n "$zshc" || fail "zsh -n $zshc"
	ok "zsh: _qemuctl parses"
	# The name helpers with compsys stubbed: _describe prints its candidates.
	zname() {
		zsh -f -c '
			_describe() { shift 3; print -l ${(P)1}; }
			_arguments() { :; }
			words=("${@:2}")
			source "$1" >/dev/null
			'"$1"' | sort' _ "$zshc" "${@:2}"
	}
	assert_eq "$(zname _qemuctl_vms qemuctl --root "$ROOT" start '')" $'alpha\nbeta' "zsh: VM names"
	assert_eq "$(QEMUCTL_ROOT=$ROOT zname _qemuctl_images qemuctl create)" "noble-amd64" \
		"zsh: image names from \$QEMUCTL_ROOT"
	assert_eq "$(zname _qemuctl_networks qemuctl --root "$ROOT" net rm '')" "lan" "zsh: networks"
	assert_eq "$(zname _qemuctl_disks qemuctl --root "$third" resize delta '')" $'disk1\ndisk2' \
		"zsh: disk names, not the seed"
	assert_eq "$(zname _qemuctl_disks qemuctl --root "$ROOT" detach-disk alpha '')" "" \
		"zsh: a VM without disks"
	zcmds=$(sed -n '/^_qemuctl() {/,/^}/p' "$zshc" | grep -Eo "'[a-z-]+:" | tr -d "':" | sort -u)
	assert_eq "$zcmds" "$cli" "zsh completes exactly the CLI's commands"
else
	fail "zsh is not installed: the zsh completion cannot be checked (apt-get install zsh)"
fi
