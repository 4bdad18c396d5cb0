#!/usr/bin/env bash
# CherryPy (PyPI) with cherrypy.lib.auth_digest, in a venv under the run dir (server code:
# servers/cherrypy_digest.py).
#
#   /digest/  accept_charset UTF-8 (the default): the challenge says charset="UTF-8"
#   /latin1/  accept_charset ISO-8859-1: no charset parameter
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=cherrypy
PORT=$PORT_CHERRYPY
URL="http://127.0.0.1:$PORT/"
VENV="$RUN_DIR/venv-cherrypy"
REQS=(cherrypy==18.10.0)

ensure_run_dir
ensure_pkgs curl

if running "$NAME"; then
    wait_http "$URL" "$NAME" 200
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

ensure_venv "$VENV" "${REQS[@]}"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" "$VENV/bin/python" "$LAB_DIR/servers/cherrypy_digest.py" \
    "$PORT" "$LAB_REALM" "$LAB_USER" "$LAB_PASS" "$LAB_UTF8_USER" "$LAB_UTF8_PASS"
wait_http "$URL" "$NAME" 200
echo "READY $NAME $URL"
