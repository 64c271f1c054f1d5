#!/usr/bin/env bash
# The system packages (Debian) that `make demo`, `make test` and `.ci/run` need.
#
#   scripts/bootstrap.sh [postgresql] [chromium] [java] [maven]
#
# Checks each named part (and always a Python that can make the project's venv). As root,
# installs what is missing with apt-get (one `apt-get update` first), saying what it is
# doing. Otherwise stops at once with ONE line naming the command to run, exit code 1.
# Nothing is installed from anywhere but Debian; Maven jars and Python packages are not
# this script's business (the Makefile's other targets).
#
# PYTHON (default python3) is the interpreter the Makefile makes the venv with.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
cd "$here/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# part -> Debian package, what it is, and how we know it is there.
have_postgresql() {
  command -v initdb >/dev/null 2>&1 && return 0
  local f
  for f in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$f" ] && return 0
  done
  return 1
}
# The dashboard's browser test drives Debian's chromium at this path.
have_chromium() { [ -x /usr/bin/chromium ]; }
have_java() { command -v java >/dev/null 2>&1; }
# Maven resolves the Apache Spark engine's pinned jars once (make jars).
have_maven() { command -v mvn >/dev/null 2>&1; }
# Debian's python3 makes venvs only with python3-venv (ensurepip); 3.11 or 3.12.
have_python_venv() {
  [ -x "$VENV/bin/python" ] && return 0
  command -v "$PYTHON" >/dev/null 2>&1 || return 1
  "$PYTHON" -c 'import sys, ensurepip, venv; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))' \
    >/dev/null 2>&1
}

declare -A PACKAGE=([python_venv]="python3 python3-venv" [postgresql]=postgresql
                    [chromium]=chromium [java]=openjdk-17-jre-headless [maven]=maven)
declare -A LABEL=([python_venv]="Python 3.11 venv support" [postgresql]="PostgreSQL server binaries"
                  [chromium]="Chromium (the dashboard's browser test)" [java]="Java 17 (the Apache Spark engine)"
                  [maven]="Maven (resolves the Spark engine's jars once)")

parts=(python_venv)
for arg in "$@"; do
  case "$arg" in
    postgresql|chromium|java|maven) parts+=("$arg") ;;
    *) echo "bootstrap: unknown part '$arg' (known: postgresql chromium java maven)" >&2; exit 2 ;;
  esac
done

missing_parts=()
missing_packages=()
for part in "${parts[@]}"; do
  if ! "have_$part"; then
    missing_parts+=("$part")
    # shellcheck disable=SC2206 - a part may need two packages
    missing_packages+=(${PACKAGE[$part]})
  fi
done
[ "${#missing_parts[@]}" -eq 0 ] && exit 0

labels=""
for part in "${missing_parts[@]}"; do
  labels="${labels:+$labels, }${LABEL[$part]}"
done
install_cmd="sudo apt-get update && sudo apt-get install -y ${missing_packages[*]}"

if [ "$EUID" -ne 0 ]; then
  echo "bootstrap: missing ${labels}; run: ${install_cmd}  (or run the same make command as root)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: missing ${labels} and there is no apt-get here; install the equivalent of Debian's ${missing_packages[*]}" >&2
  exit 1
fi

# apt's own output goes to a log, shown only when it fails.
log="$(mktemp -t subway-bootstrap.XXXXXX.log)"
quietly() {
  if ! DEBIAN_FRONTEND=noninteractive "$@" >>"$log" 2>&1; then
    echo "bootstrap: '$*' failed; its output:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}
started=$SECONDS
echo "bootstrap: updating Debian's package lists (apt-get update)…"
quietly apt-get update -q
echo "bootstrap: installing ${labels} (apt-get install ${missing_packages[*]}; a minute or two)…"
quietly apt-get install -y -q "${missing_packages[@]}"
for part in "${missing_parts[@]}"; do
  if ! "have_$part"; then
    echo "bootstrap: ${LABEL[$part]} still missing after installing ${PACKAGE[$part]} (log: $log)" >&2
    exit 1
  fi
done
rm -f "$log"
echo "bootstrap: installed ${labels} in $((SECONDS - started)) s"
