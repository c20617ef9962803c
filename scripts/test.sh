#!/usr/bin/env bash
# The second README command: lint, type-check and run every test. Starts the
# Asterisk sandbox, Redis and PostgreSQL it needs, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# the wallboard's browser test: headless Chromium, its WebDriver, and a Thai font;
# the report test turns the PDF's first page into a PNG with pdftoppm (poppler-utils);
# deploy/production/'s unit and log rotation are checked by systemd-analyze and logrotate
scripts/bootstrap.sh chromium chromium-driver fonts-tlwg-loma-otf poppler-utils systemd logrotate
export IVR_CONFIG=${IVR_CONFIG:-deploy/sandbox/ivr.toml}

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== prompts and hotline files"
.venv/bin/ivr prompts build
.venv/bin/ivr check

started=$(.venv/bin/ivr sandbox up --print-started)
cleanup() { [ -n "$started" ] && .venv/bin/ivr sandbox down --only "$started" || true; }
trap cleanup EXIT
echo "== pytest"
# Each test has its own limit (pyproject: timeout); this one bounds the whole run,
# well inside CI's hour and a half: pytest is interrupted and still prints its summary.
limit=(timeout --signal=INT --kill-after=60 "${IVR_TEST_LIMIT:-40m}")
if [ $# -gt 0 ]; then  # the tests named: one run
  "${limit[@]}" .venv/bin/pytest -q -p no:cacheprovider --durations=15 "$@"
  exit
fi
# The unit tests (pure: tests/unit/conftest.py refuses any server) run beside the
# tests on real servers, which mostly wait for Asterisk's timers, at a lower CPU
# priority so as not to slow Asterisk; their output follows.
unit_log=$(mktemp)
"${limit[@]}" nice -n 10 .venv/bin/pytest -q -p no:cacheprovider tests/unit >"$unit_log" 2>&1 &
unit=$!
rc=0
"${limit[@]}" .venv/bin/pytest -q -p no:cacheprovider --durations=15 --ignore=tests/unit || rc=$?
unit_rc=0
wait "$unit" || unit_rc=$?
echo "== unit tests (run beside the others)"
cat "$unit_log"
rm -f "$unit_log"
[ "$rc" -eq 0 ] && [ "$unit_rc" -eq 0 ]
