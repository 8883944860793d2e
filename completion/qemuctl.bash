# bash completion for qemuctl                                -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Commands, options, and the names of VMs, images and networks read from the
# state root (--root DIR, else $QEMUCTL_ROOT, else the default) without
# running qemuctl: <root>/vms/*, <root>/images/*.qcow2, <root>/networks/*.json.
# Installed as $(datadir)/bash-completion/completions/qemuctl.

_qemuctl_root()
{
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case "${COMP_WORDS[i]}" in
		--root)
			printf '%s\n' "${COMP_WORDS[i + 1]/#\~/$HOME}"
			return
			;;
		--root=*)
			printf '%s\n' "${COMP_WORDS[i]#--root=}"
			return
			;;
		esac
	done
	if [[ -n ${QEMUCTL_ROOT-} ]]; then
		printf '%s\n' "$QEMUCTL_ROOT"
	elif [[ $EUID -eq 0 ]]; then
		printf '%s\n' /var/lib/qemuctl
	else
		printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/qemuctl"
	fi
}

# _qemuctl_names vms|images|networks: object names in the state root.
_qemuctl_names()
{
	local root f n
	root=$(_qemuctl_root)
	case "$1" in
	vms)
		for f in "$root"/vms/*/; do
			[[ -d $f ]] || continue
			n=${f%/}
			printf '%s\n' "${n##*/}"
		done
		;;
	images)
		for f in "$root"/images/*.qcow2; do
			[[ -e $f ]] || continue
			n=${f##*/}
			printf '%s\n' "${n%.qcow2}"
		done
		;;
	disks) # $2: the VM; its disks but the seed, from <alias name='ua-NAME'/> in <disk>
		[[ $2 != */* && -f $root/vms/$2/domain.xml ]] || return
		awk '/<disk[ >]/ {d = 1} /<\/disk>/ {d = 0}
		     d && match($0, /<alias name=.ua-[A-Za-z0-9._-]+/) {
			n = substr($0, RSTART + 16, RLENGTH - 16); if (n != "seed") print n }' \
			"$root/vms/$2/domain.xml"
		;;
	networks)
		for f in "$root"/networks/*.json; do
			[[ -e $f && $f != *.leases.json ]] || continue
			n=${f##*/}
			printf '%s\n' "${n%.json}"
		done
		;;
	esac
}

# _qemuctl_snapshots VM: the snapshot names recorded in VM's domain.xml.
_qemuctl_snapshots()
{
	local root
	root=$(_qemuctl_root)
	[[ -n $1 && $1 != */* && -r $root/vms/$1/domain.xml ]] || return
	sed -n 's/.*<qcsnap:snapshot name="\([^"]*\)".*/\1/p' "$root/vms/$1/domain.xml" 2>/dev/null
}

# Words are split on blanks and newlines (names never contain either).
_qemuctl_compgen()
{
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

# A NIC spec: after "network=" the networks by name, else the words in $2
# (a spec goes on after them: no space).
_qemuctl_net_spec()
{
	if [[ $1 == network=* ]]; then
		local n w=()
		for n in $(_qemuctl_names networks); do w+=("network=$n"); done
		_qemuctl_compgen "${w[*]}" "$1"
	else
		_qemuctl_compgen "$2" "$1"
		compopt -o nospace 2>/dev/null
	fi
}

_qemuctl_files()
{
	local IFS=$'\n'
	if [[ -n $2 ]]; then
		COMPREPLY=($(compgen -f -X "!*$2" -- "$1") $(compgen -d -- "$1"))
	else
		COMPREPLY=($(compgen -f -- "$1"))
	fi
	compopt -o filenames 2>/dev/null
}

_qemuctl()
{
	local cur prev cmd= sub= vm= i nargs=0
	local commands="create run define dumpxml undefine start stop destroy reboot pause
		resume save delete list info console log events qmp ssh ssh-config cp exec image net seed doctor
		autostart wait resize snapshot clone attach-disk detach-disk attach-net detach-net port stats
		screenshot vnc migrate"
	local global_opts="--root --connect --json -v -q --verbose --quiet --version --help"
	local create_opts="--image --disk-image --kernel --initrd --append --arch --accel --cpus
		--memory --disk-size --disk --net --share --hostname --ssh-key --user-data
		--network-config --no-seed --seed-bus --user --tpm --secure-boot --display"
	local vm_cmds=" dumpxml undefine start stop destroy reboot pause resume save delete info console "
	vm_cmds+="log events qmp ssh ssh-config exec autostart wait resize attach-disk detach-disk attach-net detach-net "
	vm_cmds+="screenshot snapshot port clone vnc migrate "

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	# Find the command (first word that is not a global option or its value).
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		--root | --connect) ((i++)) ;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	# aliases complete as the commands they name
	case "$cmd" in
	ls) cmd=list ;;
	rm) cmd=delete ;;
	shell) cmd=ssh ;;
	esac
	if [[ -z $cmd ]]; then
		case "$prev" in
		--root)
			COMPREPLY=($(compgen -d -- "$cur"))
			compopt -o filenames 2>/dev/null
			return
			;;
		--connect)
			COMPREPLY=($(compgen -W "ssh://" -- "$cur"))
			compopt -o nospace 2>/dev/null
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			_qemuctl_compgen "$global_opts" "$cur"
		else
			_qemuctl_compgen "$commands" "$cur"
		fi
		return
	fi
	# Subcommand of a group, and the number of positional words so far.
	local j
	for ((j = i + 1; j < COMP_CWORD; j++)); do
		case "${COMP_WORDS[j]}" in
		--) break ;;
		--image | --disk-image | --kernel | --initrd | --append | --arch | --accel | --cpus | \
			--memory | --disk-size | --disk | --net | --share | --hostname | --ssh-key | \
			--user-data | --network-config | --timeout | --stream | --name | --sha256 | --max-size | \
			--subnet | --bridge | --mtu | --meta-data | --instance-id | --user | -i | --identity | -L | -R | -D | -o | \
			--seed-bus | --nic | --watch | --snapshot)
			((j++))
			;;
		-*) ;;
		*)
			[[ -z $sub && " image net seed snapshot port " == *" $cmd "* ]] && sub=${COMP_WORDS[j]} && continue
			((nargs == 0)) && vm=${COMP_WORDS[j]}
			((nargs++))
			;;
		esac
	done

	# Values of options.
	case "$prev" in
	--image)
		_qemuctl_compgen "$(_qemuctl_names images)" "$cur"
		return
		;;
	--arch)
		_qemuctl_compgen "x86_64 aarch64 ppc64le" "$cur"
		return
		;;
	--accel)
		_qemuctl_compgen "auto kvm tcg" "$cur"
		return
		;;
	--seed-bus)
		_qemuctl_compgen "cdrom virtio" "$cur"
		return
		;;
	--via)
		_qemuctl_compgen "agent ssh" "$cur"
		return
		;;
	--display)
		_qemuctl_compgen "none vnc vnc=127.0.0.1" "$cur"
		return
		;;
	--listen)
		return
		;;
	--snapshot)
		# clone NAME NEW --snapshot SNAP: the snapshots of NAME
		local w k
		for ((k = i + 1; k < COMP_CWORD - 1; k++)); do
			w=${COMP_WORDS[k]}
			[[ $w == --snapshot ]] && ((k++)) && continue
			[[ $w == -* ]] && continue
			_qemuctl_compgen "$(_qemuctl_snapshots "$w")" "$cur"
			break
		done
		return
		;;
	--net)
		_qemuctl_net_spec "$cur" "user user,hostfwd=tcp: network= bridge= none"
		return
		;;
	--disk-image | --kernel | --initrd | --user-data | --network-config | --disk | --meta-data)
		_qemuctl_files "$cur"
		return
		;;
	--ssh-key)
		_qemuctl_files "$cur" .pub
		return
		;;
	-i | --identity)
		_qemuctl_files "$cur"
		return
		;;
	--share)
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames -o nospace 2>/dev/null
		return
		;;
	--append | --cpus | --memory | --disk-size | --hostname | --timeout | --stream | --name | \
		--sha256 | --max-size | --subnet | --bridge | --mtu | --instance-id | --user | --nic | --watch)
		return
		;;
	esac

	case "$cmd" in
	create | run)
		local o="$create_opts"
		[[ $cmd == run ]] && o="$o --console --rm --wait --timeout"
		[[ $cur == -* ]] && _qemuctl_compgen "$o --help" "$cur"
		return
		;;
	define)
		if [[ $cur == -* ]]; then
			_qemuctl_compgen "--help" "$cur"
		elif ((nargs == 0)); then
			_qemuctl_files "$cur" .xml
		fi
		return
		;;
	image)
		if [[ -z $sub ]]; then
			_qemuctl_compgen "sync import list rm" "$cur"
			return
		fi
		case "$sub" in
		sync)
			if [[ $cur == -* ]]; then
				_qemuctl_compgen "--arch --stream --name --max-size --help" "$cur"
			elif ((nargs == 0)) && [[ $cur != *:* ]]; then
				_qemuctl_compgen "ubuntu:24.04 ubuntu:22.04 debian:12 debian:13 \
					debian:12-genericcloud debian:13-genericcloud" "$cur"
			fi
			;;
		import)
			if [[ $cur == -* ]]; then
				_qemuctl_compgen "--sha256 --arch --max-size --help" "$cur"
			elif ((nargs == 1)); then
				_qemuctl_files "$cur"
			fi
			;;
		rm) ((nargs == 0)) && _qemuctl_compgen "$(_qemuctl_names images)" "$cur" ;;
		esac
		return
		;;
	net)
		if [[ -z $sub ]]; then
			_qemuctl_compgen "create list rm" "$cur"
			return
		fi
		case "$sub" in
		create) [[ $cur == -* ]] && _qemuctl_compgen "--subnet --bridge --mtu --help" "$cur" ;;
		rm) ((nargs == 0)) && _qemuctl_compgen "$(_qemuctl_names networks)" "$cur" ;;
		esac
		return
		;;
	snapshot | port)
		# the subcommand; after it, a VM command (below)
		if [[ -z $sub ]]; then
			[[ $cmd == snapshot ]] && _qemuctl_compgen "create list revert rm" "$cur"
			[[ $cmd == port ]] && _qemuctl_compgen "add rm list" "$cur"
			return
		fi
		;;
	seed)
		if [[ -z $sub ]]; then
			_qemuctl_compgen "build" "$cur"
		elif [[ $cur == -* ]]; then
			_qemuctl_compgen "--hostname --user-data --meta-data --network-config --ssh-key
				--instance-id --user --no-default-keys --no-qemuctl-key --help" "$cur"
		else
			_qemuctl_files "$cur" .iso
		fi
		return
		;;
	doctor)
		[[ $cur == -* ]] && _qemuctl_compgen "--arch --accel --help" "$cur"
		return
		;;
	list)
		[[ $cur == -* ]] && _qemuctl_compgen "--help" "$cur"
		return
		;;
	stats)
		if [[ $cur == -* ]]; then
			_qemuctl_compgen "--watch --json --help" "$cur"
		else
			_qemuctl_compgen "$(_qemuctl_names vms)" "$cur"
		fi
		return
		;;
	cp)
		# options, else the guest's side (NAME: of each VM) and host files
		if [[ $cur == -* ]]; then
			_qemuctl_compgen "-r --no-wait --timeout --help" "$cur"
		elif [[ $cur != */* && $cur != *:* ]]; then
			local n w=()
			for n in $(_qemuctl_names vms); do w+=("$n:"); done
			COMPREPLY=($(compgen -W "${w[*]}" -- "$cur") $(compgen -f -- "$cur"))
			compopt -o nospace 2>/dev/null
		else
			[[ $cur == *:* ]] || _qemuctl_files "$cur"
		fi
		return
		;;
	esac
	if [[ $vm_cmds == *" $cmd "* ]]; then
		if [[ $cur == -* ]]; then
			local o="--help"
			case "$cmd${sub:+ $sub}" in
			start) o="--paused --fresh --wait --timeout --help" ;;
			wait) o="--timeout --help" ;;
			stop) o="--timeout --force --help" ;;
			delete) o="--force --help" ;;
			log) o="--follow --raw --help" ;;
			events) o="--follow --help" ;;
			ssh) o="-i --identity --no-wait --timeout -L -R -D -o -A -t -T -N --help" ;;
			ssh-config) o="--json --help" ;;
			exec) o="--via --no-wait --timeout --help" ;;
			vnc) o="--listen --json --help" ;;
			autostart) o="--disable --run --shutdown --timeout --help" ;;
			clone) o="--snapshot --help" ;;
			migrate) o="--offline --copy-storage --ssh-option --remote-qemuctl --json --help" ;;
			"snapshot create") o="--no-quiesce --memory --help" ;;
			"snapshot revert") o="--force --fresh --help" ;;
			snapshot\ *) o= ;;
			"port add") o="--persist --nic --json --help" ;;
			port\ *) o="--json --help" ;;
			esac
			_qemuctl_compgen "$o" "$cur"
		elif ((nargs == 0)); then
			_qemuctl_compgen "$(_qemuctl_names vms)" "$cur"
		elif ((nargs == 1)) && [[ $cmd == attach-net ]]; then
			_qemuctl_net_spec "$cur" "user user,hostfwd=tcp: network= bridge="
		elif ((nargs == 1)) && [[ $cmd == screenshot ]]; then
			_qemuctl_files "$cur" .png
		elif ((nargs == 1)) && [[ $cmd == attach-disk ]]; then
			_qemuctl_files "$cur"
		elif ((nargs == 1)) && [[ $cmd == resize || $cmd == detach-disk ]]; then
			_qemuctl_compgen "$(_qemuctl_names disks "$vm")" "$cur"
		fi
	fi
}
complete -F _qemuctl qemuctl
