#!/usr/bin/env bash
# Run the whole test suite from a fresh clone: installs what it needs, then runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k ledger).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
setup_python test
setup_system_packages
start_services
exec python -m pytest "$@"
