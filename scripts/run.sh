#!/usr/bin/env bash
# Start Cortesia in embedded mode: all four services and their workers in one
# process, data in ./var (or $CORTESIA_DATA). Extra arguments go to `cortesia run`,
# e.g. ./scripts/run.sh --port 9000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
command -v python3 >/dev/null || ensure_debian_packages python3 python3-venv
ensure_debian_packages fonts-dejavu-core
ensure_virtualenv
exec .venv/bin/cortesia run "$@"
