#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh on Debian or Ubuntu:
# the Debian packages asked for, and a virtualenv with the pinned Python packages.
# Usage: source scripts/setup.sh; ensure_debian_packages PKG...; ensure_virtualenv [EXTRAS]
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

package_missing() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" != "install ok installed" ]
}

ensure_debian_packages() {
  local missing=() package
  for package in "$@"; do
    if package_missing "$package"; then missing+=("$package"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  # Installing a server package would start a system-wide instance; the tests start
  # private ones on free ports, so keep the system services stopped during install.
  local policy=/usr/sbin/policy-rc.d added_policy=no
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    added_policy=yes
  fi
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "$added_policy" = yes ]; then as_root rm -f "$policy"; fi
}

ensure_virtualenv() {
  local extras="${1:-}" spec="." stamp
  [ -n "$extras" ] && spec=".[$extras]"
  stamp=.venv/.installed-"${extras:-base}"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    ensure_debian_packages python3-venv
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # Reinstall only when the pinned dependencies change.
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e "$spec"
    touch "$stamp"
  fi
}
