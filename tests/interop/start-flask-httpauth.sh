#!/usr/bin/env bash
# Flask-HTTPAuth (PyPI) HTTPDigestAuth under gunicorn, in a venv under the run dir (server
# code: servers/flask_httpauth_digest.py). One gunicorn worker: the server-side nonce sets
# live in its memory.
#
#   /session/       the default: nonce and opaque in Flask's session cookie (set by the 401)
#   /server-nonce/  nonce and opaque in server-side sets (generate_/verify_ callbacks)
#   /ha1/           use_ha1_pw=True
#   /md5-sess/      algorithm MD5-Sess
#   /no-qop/        qop=None (no qop parameter)
#   /qop-empty/     qop="" (the challenge says qop="")
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=flask-httpauth
PORT=$PORT_FLASK
URL="http://127.0.0.1:$PORT/"
VENV="$RUN_DIR/venv-flask-httpauth"
REQS=(flask-httpauth==4.8.1 flask==3.1.3 werkzeug==3.1.9 gunicorn==23.0.0)

ensure_run_dir
ensure_pkgs curl

if running "$NAME"; then
    wait_http "$URL" "$NAME" 200
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

ensure_venv "$VENV" "${REQS[@]}"
LAB_REALM="$LAB_REALM" LAB_USERS="$(printf '%s\n' "$LAB_USER" "$LAB_PASS" "$LAB_UTF8_USER" "$LAB_UTF8_PASS")" \
    start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" \
    "$VENV/bin/python" "$VENV/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers 1 --threads 4 \
    --chdir "$LAB_DIR/servers" --access-logfile "$RUN_DIR/logs/$NAME-access.log" \
    'flask_httpauth_digest:create_app()'
wait_http "$URL" "$NAME" 200
echo "READY $NAME $URL"
