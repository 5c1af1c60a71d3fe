#!/usr/bin/env bash
# The test command: set up (with the dev lock), then run the whole suite, slow tests included (a plain
# `pytest` leaves them out). Uses DATABASE_URL's server when set (each run creates and drops its own
# databases there), otherwise an embedded PostgreSQL in a temporary folder.
set -euo pipefail
VOICEBOT_LOCK="requirements-dev.lock" EXTRA_DEBIAN_PACKAGES="chromium" \
  source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

.venv/bin/python scripts/lock.py --check
.venv/bin/ruff check voicebot tests scenarios
.venv/bin/ruff format --check voicebot tests scenarios
# Two workers (pytest-xdist), each file on one of them: most of the suite waits on real-time audio, real
# PostgreSQL and subprocesses, so two share the 2-core machine well. VOICEBOT_TEST_WORKERS=0: one process.
exec .venv/bin/pytest -m "slow or not slow" -n "${VOICEBOT_TEST_WORKERS:-2}" --dist loadfile "$@"
