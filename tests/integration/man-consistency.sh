#!/bin/bash
# man/qemuctl.1 against the CLI: every command of `qemuctl --help` (and every
# subcommand of the image/net/seed groups) has a .SS heading under COMMANDS,
# and every heading is a command; per command, every --option its --help
# shows is in its section and every --option of the section is in its --help.
# Also: both pages render without groff warnings.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

page1="$QC_SRCDIR/man/qemuctl.1"
page5="$QC_SRCDIR/man/qemuctl-domain.5"
assert_file "$page1"
assert_file "$page5"

if command -v groff >/dev/null; then
	for p in "$page1" "$page5"; do
		w=$(groff -man -Tutf8 -ww -z "$p" 2>&1) || fail "groff $p: $w"
		[ -z "$w" ] || fail "groff warnings for $p: $w"
		ok "$(basename "$p") renders without warnings"
	done
else
	log "groff not installed: rendering not checked"
fi

# Commands the CLI knows ("image sync", "net rm", "start", ...).
# A group (image, net, seed, ...) is a command whose --help shows
# "qemuctl GROUP SUBCOMMAND" usage lines; its subcommands are the commands.
cli_cmds() {
	local c subs
	# "attach-disk|detach-disk|... NAME ARG" lists several commands on one line
	"$QC" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}' | tr '|' '\n' |
		while read -r c; do
			subs=$("$QC" "$c" --help | grep -Eo "qemuctl $c [a-z][a-z-]*" | awk '{print $2 " " $3}' || true)
			if [ -n "$subs" ]; then echo "$subs"; else echo "$c"; fi
		done | sort -u
}
# The .SS headings of the COMMANDS section.
man_cmds() {
	awk '/^\.SH/ {on = ($2 == "COMMANDS"); next}
	     on && /^\.SS/ {sub(/^\.SS +/, ""); gsub(/"/, ""); print}' "$page1" | sort -u
}
# The --options of one section of the page (\-\- unescaped).
man_opts() {
	awk -v want="$1" '/^\.SH/ {on = 0; next}
	     /^\.SS/ {s = $0; sub(/^\.SS +/, "", s); gsub(/"/, "", s); on = (s == want); next}
	     on {print}' "$page1" | sed 's/\\-/-/g' | grep -Eo -- '--[a-z][a-z0-9-]*' | sort -u || true
}
# The --options the CLI's help shows for a command (groups: that subcommand's usage).
cli_opts() {
	local c="$1"
	case "$c" in
	*" "*)
		"$QC" ${c%% *} --help | awk -v sub_="${c#* }" '
			/qemuctl [a-z]+ [a-z]+/ {for (i = 1; i < NF; i++) if ($i == "qemuctl") cur = $(i + 2); print cur "\t" $0; next}
			/^$/ {cur = ""}
			/^ / && cur != "" {print cur "\t" $0}' |
			awk -F'\t' -v want="${c#* }" '$1 == want {print $2}'
		;;
	*) "$QC" "$c" --help ;;
	esac | grep -Eo -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u || true
}

cli=$(cli_cmds)
man=$(man_cmds)
[ -n "$cli" ] || fail "no commands parsed from qemuctl --help"
missing=$(comm -23 <(echo "$cli") <(echo "$man"))
[ -z "$missing" ] || fail "commands missing from qemuctl.1: $(echo $missing)"
ok "all $(echo "$cli" | wc -l) CLI commands are in qemuctl.1"
extra=$(comm -13 <(echo "$cli") <(echo "$man"))
[ -z "$extra" ] || fail "qemuctl.1 documents commands the CLI does not know: $(echo $extra)"
ok "every command in qemuctl.1 is a CLI command"

# Options the help legitimately does not list (reason given).
allowed_extra=" ssh:--identity "	# long form of -i, which the usage line shows
# Options a help names without being the command's own (reason given).
not_own=" attach-disk:--net detach-disk:--net detach-net:--net "	# shared hot-plug help: "SPEC is as for --net"

while read -r c; do
	co=$(for o in $(cli_opts "$c"); do
		case "$not_own" in *" ${c// /-}:$o "*) ;; *) echo "$o" ;; esac
	done)
	mo=$(man_opts "$c")
	m=$(comm -23 <(echo "$co") <(echo "$mo") | sed '/^$/d')
	[ -z "$m" ] || fail "'$c': options of --help missing from its qemuctl.1 section: $(echo $m)"
	for o in $(comm -13 <(echo "$co") <(echo "$mo")); do
		case "$allowed_extra" in *" ${c// /-}:$o "*) continue ;; esac
		fail "'$c': qemuctl.1 documents $o, which '$c --help' does not show"
	done
	ok "'$c': options agree ($(echo $co))"
done <<<"$cli"

# Global options.
glob=$(awk '/^\.SH/ {on = ($2 == "GLOBAL")} on' "$page1" | sed 's/\\-/-/g')
for o in $("$QC" --help | sed -n '1,/^Commands:/p' | grep -Eo -- '(^| |\[)-{1,2}[a-z][a-z0-9-]*' | tr -d ' [' | sort -u); do
	grep -Eq -- "(^|[^a-z-])$o([^a-z0-9-]|$)" <<<"$glob" ||
		fail "global option $o missing from GLOBAL OPTIONS"
done
ok "global options documented"

# Exit codes and the state root are documented.
for s in "EXIT STATUS" "STATE ROOT" "EXAMPLES" "ENVIRONMENT"; do
	grep -q "^\.SH \"\?$s" "$page1" || fail "qemuctl.1 has no $s section"
done
ok "EXIT STATUS, STATE ROOT, EXAMPLES, ENVIRONMENT sections"

# qemuctl-domain(5) covers the --net kinds, --share, --disk and sizes.
for w in 'hostfwd' 'network=' 'bridge=' 'none' ':ro' 'SIZE' 'qemuctl:autostart' 'backingStore'; do
	grep -qF -- "$w" "$page5" || fail "qemuctl-domain.5 does not mention '$w'"
done
ok "qemuctl-domain.5 covers --net/--share/--disk/size syntax and metadata"
