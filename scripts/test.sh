#!/usr/bin/env bash
# The whole suite, on a fresh Debian or Ubuntu machine: installs RabbitMQ,
# PostgreSQL and Chromium (the tests start private instances of them), the
# pinned Python packages, then lints, type-checks and runs every test.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
command -v python3 >/dev/null || ensure_debian_packages python3 python3-venv
ensure_debian_packages rabbitmq-server postgresql chromium fonts-dejavu-core
ensure_virtualenv dev

.venv/bin/ruff check shared services cortesia tests bench
.venv/bin/ruff format --check shared services cortesia tests bench
.venv/bin/mypy shared services cortesia tests

status=0
.venv/bin/pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
