#!/usr/bin/env bash
# The first README command: set everything up on a fresh Debian 12 machine and run
# the server with the local Asterisk sandbox, Redis and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ivr prompts build
.venv/bin/ivr check
.venv/bin/ivr sandbox up
echo "== sandbox is up: call 1111 with a SIP phone at 127.0.0.1:5060, or: .venv/bin/ivr call 1111 --press 2"
exec .venv/bin/ivr serve
