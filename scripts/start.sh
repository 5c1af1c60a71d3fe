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
# The demo runs with the repository's example secrets (telephony/*.conf): development mode, said out loud.
# A real deployment sets its own secrets and leaves VOICEBOT_DEV_MODE unset (docs/security.md).
export VOICEBOT_DEV_MODE="${VOICEBOT_DEV_MODE:-1}"
if [ "$VOICEBOT_DEV_MODE" = "1" ]; then
  echo "start.sh: DEVELOPMENT MODE (VOICEBOT_DEV_MODE=1): shipped example secrets are accepted." >&2
  echo "start.sh: never expose this to residents' calls; see docs/security.md to deploy." >&2
fi
exec .venv/bin/voicebot serve "$@"
