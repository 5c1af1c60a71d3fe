#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine: system packages, a virtualenv at .venv from the lock file.
# Sourced by scripts/start.sh and scripts/test.sh; safe to run again (it skips what is done).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Runtime packages; scripts/test.sh adds chromium (browser tests) through EXTRA_DEBIAN_PACKAGES.
DEBIAN_PACKAGES=(espeak-ng ffmpeg sox ${EXTRA_DEBIAN_PACKAGES:-})
PYTHON="${PYTHON:-python3}"

install_debian_packages() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "setup: please install the Debian packages: ${missing[*]}" >&2; return 1
    fi
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# requirements.lock: what the service needs (also the Docker image's); scripts/test.sh sets
# VOICEBOT_LOCK=requirements-dev.lock for the test tools (pytest, playwright, the small test model …).
LOCK="${VOICEBOT_LOCK:-requirements.lock}"

install_python_packages() {
  local stamp=".venv/.lock-installed"
  if [ -f "$stamp" ] && cmp -s "$LOCK" "$stamp"; then return 0; fi
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  echo "setup: installing Python packages from $LOCK" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --require-hashes -r "$LOCK"
  .venv/bin/python -m pip install -q --no-deps -e .
  cp "$LOCK" "$stamp"
}

install_debian_packages
install_python_packages
