#!/usr/bin/env bash
# Check that every interop server answers HTTP on its loopback port, and that the lab's
# Redis answers PING. Starts nothing, stops nothing, installs nothing.
#
#   tests/interop/wait-ready.sh            check once (about 0.1 s when all is up)
#   tests/interop/wait-ready.sh 30         keep polling for up to 30 s
#   tests/interop/wait-ready.sh -q [SECS]  no output, exit status only
#
# Prints "UP name url" / "DOWN name url" per server and exits 0 only if every
# server answered; otherwise exits 1 and names the servers that are down on
# stderr ("DOWN: squid tomcat"). Any HTTP status counts as an answer (Squid
# answers a non-proxy request with an error page; the protected locations
# are not touched). Redis is asked PING over bash's /dev/tcp (no redis-cli needed) and must
# answer +PONG.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

quiet=0
if [ "${1:-}" = -q ]; then quiet=1; shift; fi
wait_secs="${1:-0}"
[[ "$wait_secs" =~ ^[0-9]+$ ]] || { echo "usage: $0 [-q] [SECONDS]" >&2; exit 2; }
if ! command -v curl >/dev/null; then
    [ "$quiet" = 1 ] || echo "wait-ready: curl is not installed (start-all.sh installs it)" >&2
    exit 1
fi

# name url (the URL each start script waits for)
SERVERS=(
    "apache http://127.0.0.1:$PORT_APACHE/"
    "lighttpd http://127.0.0.1:$PORT_LIGHTTPD/"
    "httpbin http://127.0.0.1:$PORT_HTTPBIN/get"
    "squid http://127.0.0.1:$PORT_SQUID/"
    "origin http://127.0.0.1:$PORT_ORIGIN/hello.txt"
    "tomcat http://127.0.0.1:$PORT_TOMCAT/"
    "twisted http://127.0.0.1:$PORT_TWISTED/"
    "flask-httpauth http://127.0.0.1:$PORT_FLASK/"
    "http-auth http://127.0.0.1:$PORT_HTTPAUTH/"
    "http-auth-proxy http://127.0.0.1:$PORT_HTTPAUTH_PROXY/"
    "go-http-auth http://127.0.0.1:$PORT_GOAUTH/"
    "go-http-auth-proxy http://127.0.0.1:$PORT_GOAUTH_PROXY/"
    "cherrypy http://127.0.0.1:$PORT_CHERRYPY/"
    "redis redis://127.0.0.1:$PORT_REDIS/"
    "https https://127.0.0.1:$PORT_HTTPS/hello.txt"
)

answers() { # url
    local code
    if [[ "$1" =~ ^redis://127\.0\.0\.1:([0-9]+)/$ ]]; then
        redis_pong "${BASH_REMATCH[1]}"
        return
    fi
    # The https origin's certificate is verified against the lab's root, never skipped.
    local tls=()
    [[ "$1" =~ ^https:// ]] && tls=(--cacert "$RUN_DIR/https/ca.pem")
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' --noproxy '*' "${tls[@]}" "$1" 2>/dev/null || true)"
    [[ "$code" =~ ^[1-5][0-9][0-9]$ ]]
}

deadline=$(( $(date +%s) + wait_secs ))
while :; do
    down=(); report=()
    for s in "${SERVERS[@]}"; do
        name="${s%% *}"; url="${s#* }"
        if answers "$url"; then report+=("UP $name $url"); else report+=("DOWN $name $url"); down+=("$name"); fi
    done
    [ "${#down[@]}" -eq 0 ] && break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.5
done

[ "$quiet" = 1 ] || printf '%s\n' "${report[@]}"
if [ "${#down[@]}" -ne 0 ]; then
    [ "$quiet" = 1 ] || echo "DOWN: ${down[*]} (start them with $LAB_DIR/start-all.sh)" >&2
    exit 1
fi
