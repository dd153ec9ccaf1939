#!/usr/bin/env bash
# Run the example campaign site (Starlette) on http://127.0.0.1:8000 with a SQLite ledger file
# (./ugc-ledger.sqlite3) and in-memory rate limits. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
setup_python examples
setup_system_packages --no-browser
# A development secret, so cookies survive restarts of the example; never use it in production.
export UGC_GUARD_SECRET="${UGC_GUARD_SECRET:-example-only-secret-$(whoami)-do-not-deploy}"
export UGC_GUARD_LEDGER="${UGC_GUARD_LEDGER:-sqlite:///ugc-ledger.sqlite3}"
ugc-guard db upgrade >/dev/null  # create or migrate the ledger tables (UGC_GUARD_LEDGER)
exec python -m uvicorn examples.starlette_site.app:app --host 127.0.0.1 --port 8000 "$@"
