#!/usr/bin/env bash
# The test command: set up, then run the whole suite. Uses DATABASE_URL's server when set (each run
# creates and drops its own databases there), otherwise an embedded PostgreSQL in a temporary folder.
set -euo pipefail
EXTRA_DEBIAN_PACKAGES="chromium" source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

.venv/bin/ruff check voicebot tests scenarios
.venv/bin/ruff format --check voicebot tests scenarios
exec .venv/bin/pytest "$@"
