#!/usr/bin/env bash
# Quick start: set up, load the demo company on first run, and serve on http://localhost:8000.
# With no DATABASE_URL the service runs its own PostgreSQL in ./var (VOICEBOT_DATA_DIR).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

DATA_DIR="${VOICEBOT_DATA_DIR:-./var}"
if [ ! -f "$DATA_DIR/.demo-loaded" ] && [ -z "${DATABASE_URL:-}" ]; then
  .venv/bin/voicebot demo-data
  mkdir -p "$DATA_DIR" && touch "$DATA_DIR/.demo-loaded"
fi
exec .venv/bin/voicebot serve "$@"
