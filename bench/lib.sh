# shellcheck shell=bash
# Sourced by the bench/*.sh scripts, which set BENCH (bench/NAME) first.

# die MESSAGE: "BENCH: MESSAGE" on stderr, exit 1
die() {
	echo "$BENCH: $*" >&2
	exit 1
}

# need_built FILE [HOW]: FILE must be an executable, else "FILE not built (HOW)"
need_built() {
	[ -x "$1" ] || die "$1 not built${2:+ ($2)}"
}

# need_program NAME: NAME must be on PATH
need_program() {
	command -v "$1" >/dev/null || die "$1 not installed"
}
