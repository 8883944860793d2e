#!/usr/bin/env bash
# qemuctl log (and events) on a terminal show the guest's control sequences
# instead of passing them to the terminal: OSC 52 (clipboard), OSC 0/2
# (title), DCS, CSI, C1 controls.  --raw, or output to a pipe, keeps the
# bytes.  The terminal is a pty: util-linux `script` and lib.sh's on_pty.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
head -c 4096 /dev/urandom >"$SCRATCH/vmlinuz"
qc create vm1 --kernel "$SCRATCH/vmlinuz" --no-seed >/dev/null
LOG="$ROOT/vms/vm1/console.log"
# What a hostile guest prints: clipboard, title, DCS, screen clear, a C1 CSI
# (raw byte and UTF-8), a lone CR hiding the start of a line.
printf 'boot ok\r\n\033]52;c;cm0gLXJmIH4K\a\033]0;pwned\a\033]2;t2\033\\\033Pq#0\033\\\033[2J\233%s\302\2330m\r\nrm -rf /\rls\nutf8: caf\303\251\n' 1m >"$LOG"

# 1. on a terminal (util-linux script gives it a pty)
script -qec "$QC --root $ROOT log vm1" /dev/null >"$SCRATCH/tty.out" </dev/null
out="$(cat "$SCRATCH/tty.out")"
if grep -q $'\033' "$SCRATCH/tty.out"; then
	fail "raw ESC reached the terminal: $(od -c "$SCRATCH/tty.out" | head)"
fi
ok "no raw ESC on the terminal"
if LC_ALL=C grep -q $'[\x80-\x9f]' <(LC_ALL=C sed $'s/\xc3\xa9//g' "$SCRATCH/tty.out"); then
	fail "a raw C1 byte reached the terminal: $(od -c "$SCRATCH/tty.out" | head)"
fi
ok "no raw C1 byte on the terminal"
assert_match "$out" '\^\[\]52;c;cm0gLXJmIH4K\^G' "OSC 52 (clipboard) shown"
assert_match "$out" '\^\[\]0;pwned\^G' "OSC 0 (title) shown"
assert_match "$out" '\^\[\]2;t2\^\[\\' "OSC 2 with ST shown"
assert_match "$out" '\^\[Pq#0\^\[\\' "DCS shown"
assert_match "$out" '\^\[\[2J\\x9b1m\\u009b0m' "CSI, raw C1 and UTF-8 C1 shown"
assert_match "$out" 'rm -rf /\^Mls' "a lone CR shown"
assert_match "$out" 'boot ok' "text passes"
assert_match "$out" $'caf\303\251' "UTF-8 text passes"

# 2. --raw on a terminal: the bytes as they are (script turns LF into CRLF)
script -qec "$QC --root $ROOT log vm1 --raw" /dev/null >"$SCRATCH/raw.out" </dev/null
grep -q $'\033]52;c;cm0gLXJmIH4K\a' "$SCRATCH/raw.out" || fail "--raw lost the OSC 52 bytes: $(od -c "$SCRATCH/raw.out" | head)"
ok "--raw passes the bytes to the terminal"
# 3. to a pipe or a file: unchanged by default
qc log vm1 >"$SCRATCH/pipe.out"
cmp "$SCRATCH/pipe.out" "$LOG" || fail "log to a file changed the bytes"
ok "log to a file is byte-identical to console.log"
# 4. lib.sh's pty helper: the same with --follow's path (VM not running: one pass)
on_pty "$SCRATCH/pty.out" "$QC" --root "$ROOT" log vm1 --follow
assert_eq "$(sed -n 2p "$SCRATCH/pty.out")" 0 "log --follow on a pty: exit code"
if grep -q '<ESC>' "$SCRATCH/pty.out"; then
	fail "log --follow passed ESC: $(head -c 300 "$SCRATCH/pty.out")"
fi
ok "log --follow on a pty shows no ESC"

# 5. events: guest-influenced strings from events.jsonl are escaped on a terminal too
printf '%s\n' '{"timestamp":"2026-01-01T00:00:00Z","event":"X","data":{"s":"\u001b]52;c;eA==\u0007"}}' \
	$'not json \033]0;t\a' >"$ROOT/vms/vm1/events.jsonl"
script -qec "$QC --root $ROOT events vm1" /dev/null >"$SCRATCH/ev.out" </dev/null
if grep -q $'\033' "$SCRATCH/ev.out"; then
	fail "events passed ESC: $(od -c "$SCRATCH/ev.out" | head)"
fi
assert_match "$(cat "$SCRATCH/ev.out")" 'not json \^\[\]0;t\^G' "events: a raw line is escaped"
qc events vm1 >"$SCRATCH/ev.pipe"
grep -q $'\033]0;t\a' "$SCRATCH/ev.pipe" || fail "events to a file changed the bytes"
ok "events to a file unchanged"
