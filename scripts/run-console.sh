#!/usr/bin/env bash
# Run the ledger console for legal and privacy staff (examples/console_site) on http://127.0.0.1:8001/console/,
# reading the example site's ledger (./ugc-ledger.sqlite3, which scripts/run-example.sh creates).
# The login is user "legal" (UGC_GUARD_CONSOLE_USER) with UGC_GUARD_CONSOLE_PASSWORD, or a random password
# printed at start. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
setup_python examples
export UGC_GUARD_SECRET="${UGC_GUARD_SECRET:-example-only-secret-$(whoami)-do-not-deploy}"
export UGC_GUARD_LEDGER="${UGC_GUARD_LEDGER:-sqlite:///ugc-ledger.sqlite3}"
exec python -m uvicorn examples.console_site.app:app --host 127.0.0.1 --port 8001 "$@"
