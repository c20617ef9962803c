#!/usr/bin/env bash
# The fail-over proofs (README "Fail-over"): each test kills one real part with
# SIGKILL while calls are in progress and prints what the citizens lost. Installs
# what they need, starts the sandbox, and stops what it started. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages of the parts under test (added by each fail-over proof)
FAILOVER_PACKAGES=()
FAILOVER_PACKAGES+=(redis-sentinel)  # test_redis_sentinel.py: the HA Redis's three sentinels
# FastAGI fail-over: the SRV records Asterisk's hagi:// looks up (ivr/sandbox/dns.py)
FAILOVER_PACKAGES+=(dnsmasq-base)
# test_asterisk_nodes.py: two Asterisk nodes behind Kamailio (ivr/sandbox/kamailio.py);
# test_pair_on_two_nodes.py needs it and dnsmasq-base (two instances on both nodes)
FAILOVER_PACKAGES+=(kamailio)
scripts/bootstrap.sh "${FAILOVER_PACKAGES[@]}"
# Debian's kamailio package may start a system Kamailio on port 5060, the sandbox
# Asterisk's; the proof runs its own on 5070
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet kamailio 2>/dev/null; then
  systemctl stop kamailio || true
fi
export IVR_CONFIG=${IVR_CONFIG:-deploy/sandbox/ivr.toml}
.venv/bin/ivr prompts build

started=$(.venv/bin/ivr sandbox up --print-started)
cleanup() { [ -n "$started" ] && .venv/bin/ivr sandbox down --only "$started" || true; }
trap cleanup EXIT
# the test command leaves tests/failover out (tests/conftest.py); this one runs only it,
# or the proofs named first (scripts/failover.sh tests/failover/test_agi_instances.py)
paths=(tests/failover)
if [ $# -gt 0 ] && [ -e "${1%%::*}" ]; then paths=(); fi
IVR_FAILOVER=1 .venv/bin/pytest -q -p no:cacheprovider -s "${paths[@]}" "$@"
