#!/usr/bin/env bash
# Twisted Web (PyPI twisted) with twisted.web.guard.DigestCredentialFactory,
# in a venv under the run dir (server code: servers/twisted_digest.py).
#
#   /md5/       algorithm "md5"
#   /md5-sess/  algorithm "md5-sess"
#   /sha/       algorithm "sha" (SHA-1)
#
# Challenges use a lower-case scheme ("digest") and quote every value,
# including algorithm="md5" and qop="auth".
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=twisted
PORT=$PORT_TWISTED
URL="http://127.0.0.1:$PORT/"
VENV="$RUN_DIR/venv-twisted"
REQS=(twisted==26.10.0)

ensure_run_dir
ensure_pkgs curl

if running "$NAME"; then
    wait_http "$URL" "$NAME" 200
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

ensure_venv "$VENV" "${REQS[@]}"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" "$VENV/bin/python" "$LAB_DIR/servers/twisted_digest.py" \
    "$PORT" "$LAB_REALM" "$LAB_USER" "$LAB_PASS" "$LAB_UTF8_USER" "$LAB_UTF8_PASS"
wait_http "$URL" "$NAME" 200
echo "READY $NAME $URL"
