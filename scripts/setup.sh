# Sourced by the scripts in this folder: idempotent installation steps.

setup_python() {  # setup_python EXTRA: a virtual environment in .venv with ugc_guard[EXTRA] installed
    local extra="$1"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    # shellcheck disable=SC1091
    . .venv/bin/activate
    local stamp=".venv/.installed-$extra"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        python -m pip install --quiet --upgrade pip
        python -m pip install --quiet -e ".[$extra]"
        touch "$stamp"
    fi
}

setup_system_packages() {  # libmagic always; chromium + chromedriver unless --no-browser
    local wanted=()
    python - <<'PY' 2>/dev/null || wanted+=(libmagic1)
import magic
PY
    if [ "${1:-}" != "--no-browser" ]; then
        command -v chromium >/dev/null 2>&1 || wanted+=(chromium)
        command -v chromedriver >/dev/null 2>&1 || wanted+=(chromium-driver)
    fi
    if [ ${#wanted[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "installing ${wanted[*]} from Debian's packages" >&2
            apt-get update -qq >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >/dev/null
        else
            echo "missing system packages: ${wanted[*]} (install them with apt-get); tests needing them will skip" >&2
        fi
    fi
}

start_services() {  # start the machine's PostgreSQL and Redis if they are installed but not running
    if command -v pg_ctlcluster >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    if command -v redis-server >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no || true
    fi
}
