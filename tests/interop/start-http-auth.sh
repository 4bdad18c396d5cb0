#!/usr/bin/env bash
# The npm package http-auth (digest) on Node.js, as an origin and as a forward proxy that
# asks for Digest with 407 (http-auth's proxy option in front of the npm package
# http-proxy). Server code and pinned dependencies: servers/http-auth/ (package.json,
# package-lock.json, server.js); they are copied into the run dir, where `npm ci` installs
# node_modules.
#
#   origin 18089: /digest/ (qop auth), /qop-none/ (qop=""), /md5-sess/ (MD5-sess)
#   proxy  18090: forwards http://127.0.0.1:<port>/... only (403 otherwise, CONNECT too)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=http-auth
PORT=$PORT_HTTPAUTH
PPORT=$PORT_HTTPAUTH_PROXY
URL="http://127.0.0.1:$PORT/"
PROXY="http://127.0.0.1:$PPORT"
D="$RUN_DIR/$NAME"
SRC="$LAB_DIR/servers/http-auth"

ensure_run_dir
ensure_pkgs curl
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    ensure_pkgs nodejs npm
fi

ready() {
    wait_http "$URL" "$NAME" 200
    wait_http "$PROXY/" "$NAME" 403
    echo "READY $NAME $URL"
    echo "READY $NAME-proxy $PROXY (forward proxy, Proxy-Authorization: Digest)"
}
if running "$NAME"; then ready; exit 0; fi
claim_ports "$NAME" "$PORT" "$PPORT"

mkdir -p "$D"
# node_modules are installed again only when the lock file changed.
if ! cmp -s "$SRC/package-lock.json" "$D/package-lock.json" || [ ! -d "$D/node_modules" ]; then
    log "npm ci in $D"
    rm -rf "$D/node_modules"
    cp "$SRC/package.json" "$SRC/package-lock.json" "$D/"
    (cd "$D" && timeout 600 npm ci --no-audit --no-fund --omit=dev) >"$RUN_DIR/logs/npm-$NAME.log" 2>&1 \
        || die "npm ci failed (see $RUN_DIR/logs/npm-$NAME.log)"
fi
cp "$SRC/server.js" "$D/server.js"
# htdigest file: user:realm:MD5(user:realm:password), read by http-auth as UTF-8.
{
    printf '%s:%s:%s\n' "$LAB_USER" "$LAB_REALM" "$(hash_hex md5 "$LAB_USER:$LAB_REALM:$LAB_PASS")"
    printf '%s:%s:%s\n' "$LAB_UTF8_USER" "$LAB_REALM" "$(hash_hex md5 "$LAB_UTF8_USER:$LAB_REALM:$LAB_UTF8_PASS")"
} >"$D/users.htdigest"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" node "$D/server.js" "$PORT" "$PPORT" "$D/users.htdigest" "$LAB_REALM"
ready
