#!/usr/bin/env bash
# Measure the client x server matrix: curl --digest, Python requests
# (HTTPDigestAuth), httpx (DigestAuth) and aiohttp (DigestAuthMiddleware)
# against every lab location. Prints a Markdown table. A cell is "200" when
# every request of the row ended in 200, else the status codes seen, or the
# client's exception. This records reference behaviour; it does not judge, and
# exits 0 whatever the cells say. Servers are started if needed and left
# running (./stop-all.sh stops them).
#
# Rows marked "x3" send three requests with one auth state (nonce reuse /
# preemptive auth); rows marked "stale" wait past the nonce lifetime between
# two requests so the server answers 401 stale=true and the client must
# re-authenticate by itself.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/lib/common.sh"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

"$HERE/start-all.sh" >&2
PY="$("$HERE/clients-venv.sh")"

A=http://127.0.0.1:$PORT_APACHE
L=http://127.0.0.1:$PORT_LIGHTTPD
B=http://127.0.0.1:$PORT_HTTPBIN
S=http://127.0.0.1:$PORT_SQUID
O=http://127.0.0.1:$PORT_ORIGIN
TC=http://127.0.0.1:$PORT_TOMCAT
TW=http://127.0.0.1:$PORT_TWISTED
FL=http://127.0.0.1:$PORT_FLASK
HA=http://127.0.0.1:$PORT_HTTPAUTH
HP=http://127.0.0.1:$PORT_HTTPAUTH_PROXY
GA=http://127.0.0.1:$PORT_GOAUTH
GP=http://127.0.0.1:$PORT_GOAUTH_PROXY
CP=http://127.0.0.1:$PORT_CHERRYPY
U="$LAB_USER"; P="$LAB_PASS"; U8="$LAB_UTF8_USER"; P8="$LAB_UTF8_PASS"

# cell_curl USER PASS URL REPEAT SLEEP PROXY
cell_curl() {
    local user="$1" pass="$2" url="$3" rep="$4" slp="$5" proxy="$6" urls=() out
    for _ in $(seq 1 "$rep"); do urls+=(-o /dev/null "$url"); done
    local args=(-s -m 30 -w '%{http_code}\n')
    if [ -n "$proxy" ]; then args+=(-x "$proxy" --proxy-digest -U "$user:$pass")
    else args+=(--digest -u "$user:$pass"); fi
    # --rate 15/m = one transfer every 4 s (stale rows)
    [ "$slp" != 0 ] && args+=(--rate 15/m)
    out=$(curl "${args[@]}" "${urls[@]}" 2>/dev/null | paste -sd, - || true)
    summarize "$out"
}

# cell_py CLIENT USER PASS URL REPEAT SLEEP PROXY
cell_py() {
    local c="$1" user="$2" pass="$3" url="$4" rep="$5" slp="$6" proxy="$7" out
    local args=(--client "$c" --repeat "$rep" --sleep "$slp")
    [ -n "$proxy" ] && args+=(--proxy "$proxy")
    out=$("$PY" "$HERE/clients/digest_client.py" "${args[@]}" "$url" "$user" "$pass" 2>&1 || true)
    if grep -q -- '-> ERROR' <<<"$out"; then
        local e; e=$(grep -- '-> ERROR' <<<"$out" | head -1 | sed -E 's/.*-> ERROR //')
        echo "ERR ${e:0:60}" | tr '|' '/'
    else
        summarize "$(grep -oE -- '-> [0-9]+$' <<<"$out" | awk '{print $2}' | paste -sd, -)"
    fi
}

summarize() { # "200,200,200" -> 200 ; else as is
    local s="$1"
    [ -z "$s" ] && { echo "no response"; return; }
    if [[ "$s" =~ ^(200,)*200$ ]]; then echo 200; else echo "$s"; fi
}

printf '| server | location | user | curl 7.88.1 | requests 2.34.2 | httpx 0.28.1 | aiohttp 3.14.5 |\n'
printf '|---|---|---|---|---|---|---|\n'
# row SERVER LABEL URL USERKIND REPEAT SLEEP [PROXY]
row() {
    local srv="$1" label="$2" url="$3" uk="$4" rep="$5" slp="$6" proxy="${7:-}" user pass
    if [ "$uk" = utf8 ]; then user="$U8"; pass="$P8"; else user="$U"; pass="$P"; fi
    local c r h a
    c=$(cell_curl "$user" "$pass" "$url" "$rep" "$slp" "$proxy")
    r=$(cell_py requests "$user" "$pass" "$url" "$rep" "$slp" "$proxy")
    h=$(cell_py httpx "$user" "$pass" "$url" "$rep" "$slp" "$proxy")
    a=$(cell_py aiohttp "$user" "$pass" "$url" "$rep" "$slp" "$proxy")
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$srv" "$label" "$user" "$c" "$r" "$h" "$a"
}

row apache "/digest/ MD5 auth x3" "$A/digest/" ascii 3 0
row apache "/digest/ MD5 auth" "$A/digest/" utf8 1 0
row apache "/digest-stale/ MD5 auth, stale" "$A/digest-stale/" ascii 2 4
row lighttpd "/digest-md5/ x3" "$L/digest-md5/" ascii 3 0
row lighttpd "/digest-md5/" "$L/digest-md5/" utf8 1 0
row lighttpd "/digest-sha256/" "$L/digest-sha256/" ascii 1 0
row lighttpd "/digest-sha256/" "$L/digest-sha256/" utf8 1 0
row lighttpd "/digest-sha512-256/" "$L/digest-sha512-256/" ascii 1 0
row lighttpd "/digest-userhash/ SHA-256 userhash" "$L/digest-userhash/" ascii 1 0
row lighttpd "/digest-userhash/ SHA-256 userhash" "$L/digest-userhash/" utf8 1 0
row lighttpd "/digest-multi/ SHA-512-256,SHA-256,MD5" "$L/digest-multi/" ascii 1 0
for q in auth auth-int; do
    for alg in MD5 SHA-256 SHA-512; do
        row httpbin "/digest-auth/$q/…/$alg/never" "$B/digest-auth/$q/$U/$P/$alg/never" ascii 1 0
    done
done
row httpbin "/digest-auth/auth/…/MD5/never x3" "$B/digest-auth/auth/$U/$P/MD5/never" ascii 3 0
row httpbin "/digest-auth/auth/…/MD5/1 x3 (stale after 1)" "$B/digest-auth/auth/$U/$P/MD5/1" ascii 3 0
row squid "proxy $S -> $O/hello.txt" "$O/hello.txt" ascii 1 0 "$S"
row squid "proxy $S -> $O/hello.txt" "$O/hello.txt" utf8 1 0 "$S"
row tomcat "/md5/ x3" "$TC/md5/" ascii 3 0
row tomcat "/md5/" "$TC/md5/" utf8 1 0
row tomcat "/sha256/" "$TC/sha256/" ascii 1 0
row tomcat "/sha512-256/" "$TC/sha512-256/" ascii 1 0
row tomcat "/multi/ SHA-512-256,SHA-256,MD5" "$TC/multi/" ascii 1 0
row tomcat "/stale/ MD5, stale" "$TC/stale/" ascii 2 4
row twisted "/md5/ x3" "$TW/md5/" ascii 3 0
row twisted "/md5/" "$TW/md5/" utf8 1 0
row twisted "/md5-sess/ x3" "$TW/md5-sess/" ascii 3 0
row twisted "/sha/ (SHA-1)" "$TW/sha/" ascii 1 0
row flask-httpauth "/session/ (session cookie) x3" "$FL/session/" ascii 3 0
row flask-httpauth "/session/ (session cookie)" "$FL/session/" utf8 1 0
row flask-httpauth "/server-nonce/ x3" "$FL/server-nonce/" ascii 3 0
row flask-httpauth "/server-nonce/" "$FL/server-nonce/" utf8 1 0
row flask-httpauth "/md5-sess/" "$FL/md5-sess/" ascii 1 0
row flask-httpauth "/no-qop/ (no qop)" "$FL/no-qop/" ascii 1 0
row flask-httpauth "/qop-empty/ (qop=\"\")" "$FL/qop-empty/" ascii 1 0
row http-auth "/digest/ x3" "$HA/digest/" ascii 3 0
row http-auth "/digest/" "$HA/digest/" utf8 1 0
row http-auth "/qop-none/ (qop=\"\")" "$HA/qop-none/" ascii 1 0
row http-auth "/md5-sess/" "$HA/md5-sess/" ascii 1 0
row http-auth "proxy $HP -> $O/hello.txt" "$O/hello.txt" ascii 1 0 "$HP"
row go-http-auth "/digest/ x3" "$GA/digest/" ascii 3 0
row go-http-auth "/digest/" "$GA/digest/" utf8 1 0
row go-http-auth "proxy $GP -> $O/hello.txt" "$O/hello.txt" ascii 1 0 "$GP"
row cherrypy "/digest/ (charset=UTF-8) x3" "$CP/digest/" ascii 3 0
row cherrypy "/digest/ (charset=UTF-8)" "$CP/digest/" utf8 1 0
row cherrypy "/latin1/" "$CP/latin1/" utf8 1 0
