#!/usr/bin/env bash
# Python httpbin (PyPI) under gunicorn, in a venv under the run dir.
#
#   /digest-auth/{qop}/{user}/{passwd}/{algorithm}/{stale_after}
#     qop:        auth | auth-int | (anything else = no qop, RFC 2069 style)
#     algorithm:  MD5 | SHA-256 | SHA-512
#     stale_after: number of requests after which the nonce is reported
#                  stale (401 with stale=true), or "never"
#
# Credentials come from the URL; realm is fixed by httpbin to me@kennethreitz.com.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=httpbin
PORT=$PORT_HTTPBIN
URL="http://127.0.0.1:$PORT/"
VENV="$RUN_DIR/venv-httpbin"
REQS=(httpbin==0.10.4 gunicorn==23.0.0)

ensure_run_dir
ensure_pkgs curl

if running "$NAME"; then
    wait_http "${URL}get" "$NAME" 200
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

ensure_venv "$VENV" "${REQS[@]}"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" \
    "$VENV/bin/python" "$VENV/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers 2 \
    --access-logfile "$RUN_DIR/logs/$NAME-access.log" httpbin:app
wait_http "${URL}get" "$NAME" 200
echo "READY $NAME $URL"
