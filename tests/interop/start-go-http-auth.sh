#!/usr/bin/env bash
# github.com/abbot/go-http-auth from Debian (golang-github-abbot-go-http-auth-dev, built
# with Debian's golang-go in GOPATH mode from /usr/share/gocode, offline) as an origin and
# as a forward proxy that asks for Digest with 407 (auth.ProxyHeaders in front of
# net/http/httputil). Program: servers/go-http-auth/main.go, built into the run dir.
#
#   origin 18091: /digest/ (MD5, qop auth, opaque, nonce counts, uri compared)
#   proxy  18092: forwards http://127.0.0.1:<port>/... only (403 otherwise, CONNECT too)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=go-http-auth
PORT=$PORT_GOAUTH
PPORT=$PORT_GOAUTH_PROXY
URL="http://127.0.0.1:$PORT/"
PROXY="http://127.0.0.1:$PPORT"
D="$RUN_DIR/$NAME"
SRC="$LAB_DIR/servers/go-http-auth/main.go"
BIN="$D/go-http-auth-lab"

ensure_run_dir
ensure_pkgs curl golang-go golang-github-abbot-go-http-auth-dev

ready() {
    wait_http "$URL" "$NAME" 200
    wait_http "$PROXY/" "$NAME" 403
    echo "READY $NAME $URL"
    echo "READY $NAME-proxy $PROXY (forward proxy, Proxy-Authorization: Digest)"
}
if running "$NAME"; then ready; exit 0; fi
claim_ports "$NAME" "$PORT" "$PPORT"

mkdir -p "$D"
# Rebuilt when the source or the Debian package changed.
stamp="$(sha256sum "$SRC" | cut -d' ' -f1) $(dpkg-query -W -f='${Version}' golang-github-abbot-go-http-auth-dev golang-go)"
if [ ! -x "$BIN" ] || [ "$(cat "$D/.build-stamp" 2>/dev/null)" != "$stamp" ]; then
    log "building $BIN"
    cp "$SRC" "$D/main.go"
    (cd "$D" && env GO111MODULE=off GOPATH="/usr/share/gocode:$D/gopath" GOCACHE="$D/gocache" \
        GOFLAGS= GOPROXY=off GOTOOLCHAIN=local timeout 600 go build -o "$BIN" main.go) \
        >"$RUN_DIR/logs/build-$NAME.log" 2>&1 || die "go build failed (see $RUN_DIR/logs/build-$NAME.log)"
    printf '%s' "$stamp" >"$D/.build-stamp"
fi
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" "$BIN" "$PORT" "$PPORT" "$LAB_REALM" \
    "$LAB_USER" "$LAB_PASS" "$LAB_UTF8_USER" "$LAB_UTF8_PASS"
ready
