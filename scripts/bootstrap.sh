#!/usr/bin/env bash
# Installs what the project needs on Debian 12 (as root): Debian packages and the
# Python environment in .venv. Safe to run again; does nothing that is already done.
# Arguments name more Debian packages to install (scripts/test.sh: the browser tests').
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-tlwg-laksaman-otf (a Sarabun-style Thai font) and Pango: `ivr report` draws its
# PDF with WeasyPrint, which lays out and shapes Thai through Pango and HarfBuzz.
DEB_PACKAGES=(debootstrap redis-server postgresql sip-tester espeak-ng sox ca-certificates
  fonts-tlwg-laksaman-otf libpango-1.0-0 libpangoft2-1.0-0 "$@")
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian's redis-server package may start a system Redis; the sandbox runs its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  systemctl stop redis-server || true
fi
# Likewise Debian's postgresql package may start a cluster on 5432; the sandbox runs
# its own on 5433 (ivr.sandbox.postgres_server) and leaves that one alone.

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  if ! "$PY" -m venv .venv 2>/dev/null; then
    apt-get install -y -q python3-venv
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "== installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
