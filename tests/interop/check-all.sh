#!/usr/bin/env bash
# Start every lab server, exercise every protected location with curl, print
# a PASS/FAIL table, stop everything again (KEEP_RUNNING=1 leaves the servers
# up). Exit status is non-zero if any check failed.
#
# Check kinds:
#   challenge  unauthenticated request: expected status + WWW-Authenticate /
#              Proxy-Authenticate content
#   curl       curl --digest / --proxy-digest computes the response itself
#   manual     curl sends an Authorization header computed by
#              clients/manual_digest.py (reference RFC 7616 calculator) from the
#              challenge curl just received; used where curl 7.88 cannot
#              (SHA-512-256, SHA-512, username*, picking one of several
#              challenges) and for nonce-reuse / stale flows
#   INFO rows  known curl 7.88.1 limitations; shown, never counted as failures
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/lib/common.sh"

T="$(mktemp -d)"
cleanup() {
    if [ "${KEEP_RUNNING:-0}" != 1 ]; then "$HERE/stop-all.sh" >/dev/null 2>&1 || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

t0=$(date +%s.%N)
"$HERE/start-all.sh"
t1=$(date +%s.%N)

U="$LAB_USER"; P="$LAB_PASS"; U8="$LAB_UTF8_USER"; P8="$LAB_UTF8_PASS"
A=http://127.0.0.1:$PORT_APACHE
L=http://127.0.0.1:$PORT_LIGHTTPD
B=http://127.0.0.1:$PORT_HTTPBIN
S=http://127.0.0.1:$PORT_SQUID
O=http://127.0.0.1:$PORT_ORIGIN
TC=http://127.0.0.1:$PORT_TOMCAT
TW=http://127.0.0.1:$PORT_TWISTED
MD=("/usr/bin/python3" "$HERE/clients/manual_digest.py")
# No proxy from the environment: the squid checks set -x explicitly.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
CURL=(curl -s -m 10)

npass=0; nfail=0; ninfo=0
ROWS="$T/rows"; : >"$ROWS"
row() { # server location check expected got verdict
    printf '%-8s  %-44s  %-46s  %-8s  %-8s  %s\n' "$@" >>"$ROWS"
    case "$6" in PASS) npass=$((npass+1));; FAIL) nfail=$((nfail+1));; *) ninfo=$((ninfo+1));; esac
}
verdict() { [ "$1" = "$2" ] && echo PASS || echo FAIL; }

# challenge SERVER LOC URL EXPECT_CODE ERE [curl args...]
challenge() {
    local srv="$1" loc="$2" url="$3" want="$4" re="$5"; shift 5
    local code
    code=$("${CURL[@]}" -D "$T/h" -o /dev/null -w '%{http_code}' "$@" "$url" || echo 000)
    local v; v=$(verdict "$code" "$want")
    if [ "$v" = PASS ] && ! grep -Eiq "$re" "$T/h"; then v=FAIL; code="$code(hdr)"; fi
    row "$srv" "$loc" "challenge: header as documented" "$want" "$code" "$v"
}

# viacurl SERVER LOC DESC EXPECT URL [curl args...]   (INFO instead of PASS/FAIL if DESC starts with "INFO")
viacurl() {
    local srv="$1" loc="$2" desc="$3" want="$4" url="$5"; shift 5
    local code
    code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" "$url" || echo 000)
    if [[ "$desc" == INFO* ]]; then row "$srv" "$loc" "${desc#INFO }" "$want" "$code" INFO
    else row "$srv" "$loc" "$desc" "$want" "$code" "$(verdict "$code" "$want")"; fi
}

# getchal URL [curl args...] : fetch a fresh challenge into $T/h
getchal() { local url="$1"; shift; "${CURL[@]}" -D "$T/h" -o /dev/null "$@" "$url" >/dev/null || true; }

# sendauth URL HEADERNAME [manual_digest args...] -- [curl args...] : compute from $T/h, send; prints code
sendauth() {
    local url="$1" hname="$2"; shift 2
    local margs=() cargs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do margs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    cargs=("$@")
    local auth
    auth=$("${MD[@]}" --headers "$T/h" "${margs[@]}") || { echo ERR; return; }
    "${CURL[@]}" -D "$T/h2" -o /dev/null -w '%{http_code}' -H "$hname: $auth" "${cargs[@]}" "$url" || echo 000
}

# manual SERVER LOC DESC EXPECT URL URI [manual_digest args...] [-- curl args]
manual() {
    local srv="$1" loc="$2" desc="$3" want="$4" url="$5" uri="$6"; shift 6
    local margs=() cargs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do margs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    cargs=("$@")
    getchal "$url" "${cargs[@]}"
    local code; code=$(sendauth "$url" Authorization --uri "$uri" "${margs[@]}" -- "${cargs[@]}")
    row "$srv" "$loc" "$desc" "$want" "$code" "$(verdict "$code" "$want")"
}

# ---------------------------------------------------------------- apache
challenge apache /digest/ "$A/digest/" 401 'WWW-Authenticate: Digest realm="lab@example.org", nonce="[^"]+", algorithm=MD5, domain="/digest/", qop="auth"'
viacurl apache /digest/ "curl --digest $U" 200 "$A/digest/" --digest -u "$U:$P"
viacurl apache /digest/ "curl --digest (UTF-8 user)" 200 "$A/digest/" --digest -u "$U8:$P8"
viacurl apache /digest/ "curl --digest wrong password" 401 "$A/digest/" --digest -u "$U:wrong"
manual apache /digest/ "manual MD5 qop=auth" 200 "$A/digest/" /digest/ "$U" "$P"
manual apache /digest/ "manual uri=absolute-URI" 200 "$A/digest/" "$A/digest/" "$U" "$P"
manual apache /digest/ "manual MD5-sess (unsupported)" 401 "$A/digest/" /digest/ --use-algorithm MD5-sess "$U" "$P"
manual apache /digest/ "manual no qop (RFC 2069, unsupported)" 401 "$A/digest/" /digest/ --qop none "$U" "$P"
getchal "$A/digest/"
c1=$(sendauth "$A/digest/" Authorization --uri /digest/ "$U" "$P"); c2=$(sendauth "$A/digest/" Authorization --uri /digest/ --nc 00000002 "$U" "$P")
row apache /digest/ "nonce reuse nc=1 then nc=2" "200,200" "$c1,$c2" "$(verdict "$c1,$c2" 200,200)"
challenge apache /digest-stale/ "$A/digest-stale/" 401 'WWW-Authenticate: Digest realm="lab@example.org", nonce="[^"]+", algorithm=MD5, opaque="[0-9]+", qop="auth"'
viacurl apache /digest-stale/ "curl --digest $U" 200 "$A/digest-stale/" --digest -u "$U:$P"
getchal "$A/digest-stale/"
c1=$(sendauth "$A/digest-stale/" Authorization --uri /digest-stale/ "$U" "$P"); c2=$(sendauth "$A/digest-stale/" Authorization --uri /digest-stale/ "$U" "$P")
row apache /digest-stale/ "NcCheck: replay nc=1 -> 401" "200,401" "$c1,$c2" "$(verdict "$c1,$c2" 200,401)"
getchal "$A/digest-stale/"
c1=$(sendauth "$A/digest-stale/" Authorization --uri /digest-stale/ "$U" "$P"); sleep 4
c2=$(sendauth "$A/digest-stale/" Authorization --uri /digest-stale/ --nc 00000002 "$U" "$P")
grep -qi 'stale=true' "$T/h2" || c2="$c2(no stale)"
row apache /digest-stale/ "nonce after 4 s -> 401 stale=true" "200,401" "$c1,$c2" "$(verdict "$c1,$c2" 200,401)"

# ---------------------------------------------------------------- lighttpd
for loc in digest-md5:MD5 digest-sha256:SHA-256 digest-sha512-256:SHA-512-256; do
    l="/${loc%%:*}/"; alg="${loc#*:}"
    challenge lighttpd "$l" "$L$l" 401 "WWW-Authenticate: Digest realm=\"lab@example.org\", charset=\"UTF-8\", algorithm=$alg, nonce=\"[0-9a-f]+:[0-9a-f]+\", qop=\"auth\""
    manual lighttpd "$l" "manual $alg" 200 "$L$l" "$l" "$U" "$P"
    manual lighttpd "$l" "manual $alg username* (UTF-8 user)" 200 "$L$l" "$l" --username-star "$U8" "$P8"
    manual lighttpd "$l" "manual $alg-sess (accepted, not offered)" 200 "$L$l" "$l" --use-algorithm "$alg-sess" "$U" "$P"
    manual lighttpd "$l" "manual $alg qop=auth-int -> 400" 400 "$L$l" "$l" --qop auth-int "$U" "$P"
done
viacurl lighttpd /digest-md5/ "curl --digest $U" 200 "$L/digest-md5/" --digest -u "$U:$P"
viacurl lighttpd /digest-md5/ "curl --digest (UTF-8 user)" 200 "$L/digest-md5/" --digest -u "$U8:$P8"
viacurl lighttpd /digest-md5/ "curl --digest wrong password" 401 "$L/digest-md5/" --digest -u "$U:wrong"
viacurl lighttpd /digest-sha256/ "curl --digest $U" 200 "$L/digest-sha256/" --digest -u "$U:$P"
viacurl lighttpd /digest-sha256/ "curl --digest (UTF-8 user)" 200 "$L/digest-sha256/" --digest -u "$U8:$P8"
viacurl lighttpd /digest-sha512-256/ "INFO curl --digest (curl 7.88 hashes SHA-256)" 401 "$L/digest-sha512-256/" --digest -u "$U:$P"
challenge lighttpd /digest-userhash/ "$L/digest-userhash/" 401 'algorithm=SHA-256, nonce="[^"]+", qop="auth", userhash=true'
viacurl lighttpd /digest-userhash/ "curl --digest (sends userhash)" 200 "$L/digest-userhash/" --digest -u "$U:$P"
viacurl lighttpd /digest-userhash/ "curl --digest UTF-8 user (userhash)" 200 "$L/digest-userhash/" --digest -u "$U8:$P8"
manual lighttpd /digest-userhash/ "manual userhash=true" 200 "$L/digest-userhash/" /digest-userhash/ --userhash "$U" "$P"
manual lighttpd /digest-userhash/ "manual plain username (userhash optional)" 200 "$L/digest-userhash/" /digest-userhash/ "$U" "$P"
challenge lighttpd /digest-multi/ "$L/digest-multi/" 401 'algorithm=SHA-512-256.*'
n=$(grep -ci '^WWW-Authenticate: Digest' "$T/h" || true)
row lighttpd /digest-multi/ "challenge: 3 WWW-Authenticate headers" 3 "$n" "$(verdict "$n" 3)"
for alg in SHA-512-256 SHA-256 MD5; do
    manual lighttpd /digest-multi/ "manual pick $alg challenge" 200 "$L/digest-multi/" /digest-multi/ --algorithm "$alg" "$U" "$P"
done
viacurl lighttpd /digest-multi/ "INFO curl --digest (takes 1st = SHA-512-256)" 401 "$L/digest-multi/" --digest -u "$U:$P"

# ---------------------------------------------------------------- httpbin
hb() { echo "/digest-auth/$1/$U/$P/$2/${3:-never}"; }
for q in auth auth-int; do
    for alg in MD5 SHA-256 SHA-512; do
        p=$(hb $q $alg)
        challenge httpbin "$p" "$B$p" 401 "WWW-Authenticate: Digest realm=\"me@kennethreitz.com\", nonce=\"[0-9a-f]+\", opaque=\"[0-9a-f]+\", qop=\"$q\", algorithm=$alg, stale=False"
        if [ "$alg" = SHA-512 ]; then
            viacurl httpbin "$p" "INFO curl --digest (SHA-512 unknown to curl)" 401 "$B$p" --digest -u "$U:$P"
        else
            viacurl httpbin "$p" "curl --digest" 200 "$B$p" --digest -u "$U:$P"
        fi
        manual httpbin "$p" "manual $alg qop=$q" 200 "$B$p" "$p" "$U" "$P"
    done
done
p=$(hb auth-int MD5)
viacurl httpbin "$p" "POST -> 405 (route is GET-only)" 405 "$B$p" --data-binary 'hello=world'
p=$(hb auth MD5)
viacurl httpbin "$p" "curl --digest wrong password" 401 "$B$p" --digest -u "$U:wrong"
viacurl httpbin "$p?x=1" "quirk: query string -> 500 (httpbin bug)" 500 "$B$p?x=1" --digest -u "$U:$P"
p=$(hb none MD5)
challenge httpbin "$p" "$B$p" 401 'qop="auth, auth-int", algorithm=MD5, stale=False'
p=$(hb auth MD5 1)
rm -f "$T/jar"; getchal "$B$p" -c "$T/jar"
c1=$(sendauth "$B$p" Authorization --uri "$p" "$U" "$P" -- -b "$T/jar" -c "$T/jar")
c2=$(sendauth "$B$p" Authorization --uri "$p" --nc 00000002 "$U" "$P" -- -b "$T/jar" -c "$T/jar")
grep -q 'stale=True' "$T/h2" || c2="$c2(no stale)"
row httpbin "$p" "cookie jar: 2nd use of nonce -> stale=True" "200,401" "$c1,$c2" "$(verdict "$c1,$c2" 200,401)"

# ---------------------------------------------------------------- squid
OU="$O/hello.txt"
challenge squid "proxy -> $OU" "$OU" 407 'Proxy-Authenticate: Digest realm="lab@example.org", nonce="[0-9a-f]+", qop="auth", stale=false' -x "$S"
viacurl squid "proxy -> $OU" "curl --proxy-digest $U" 200 "$OU" -x "$S" --proxy-digest -U "$U:$P"
viacurl squid "proxy -> $OU" "curl --proxy-digest (UTF-8 user)" 200 "$OU" -x "$S" --proxy-digest -U "$U8:$P8"
viacurl squid "proxy -> $OU" "curl --proxy-digest wrong password" 407 "$OU" -x "$S" --proxy-digest -U "$U:wrong"
getchal "$OU" -x "$S"
c=$(sendauth "$OU" Proxy-Authorization --uri "$OU" "$U" "$P" -- -x "$S")
row squid "proxy -> $OU" "manual uri=absolute-URI" 200 "$c" "$(verdict "$c" 200)"
getchal "$OU" -x "$S"
c1=$(sendauth "$OU" Proxy-Authorization --uri /hello.txt "$U" "$P" -- -x "$S"); c2=$(sendauth "$OU" Proxy-Authorization --uri /hello.txt --nc 00000002 "$U" "$P" -- -x "$S")
row squid "proxy -> $OU" "nonce reuse nc=1 then nc=2" "200,200" "$c1,$c2" "$(verdict "$c1,$c2" 200,200)"
getchal "$OU" -x "$S"
c=$(sendauth "$OU" Proxy-Authorization --uri /hello.txt --use-algorithm MD5-sess "$U" "$P" -- -x "$S")
row squid "proxy -> $OU" "manual MD5-sess (accepted, not offered)" 200 "$c" "$(verdict "$c" 200)"
viacurl squid "proxy -> http://example.invalid/" "non-loopback host denied" 403 http://example.invalid/ -x "$S" --proxy-digest -U "$U:$P"
viacurl squid "proxy -> http://127.0.0.2:$PORT_ORIGIN/" "other loopback address denied" 403 "http://127.0.0.2:$PORT_ORIGIN/" -x "$S" --proxy-digest -U "$U:$P"
code=$("${CURL[@]}" -o /dev/null -w '%{http_connect}' -p -x "$S" --proxy-digest -U "$U:$P" "http://127.0.0.1:$PORT_ORIGIN/" 2>/dev/null || true)
row squid "proxy CONNECT 127.0.0.1:$PORT_ORIGIN" "CONNECT denied" 403 "$code" "$(verdict "$code" 403)"

# ---------------------------------------------------------------- tomcat
for loc in md5:MD5 sha256:SHA-256 sha512-256:SHA-512-256; do
    l="/${loc%%:*}/"; alg="${loc#*:}"
    challenge tomcat "$l" "$TC$l" 401 "WWW-Authenticate: Digest realm=\"lab@example.org\", qop=\"auth\", nonce=\"[0-9]+:[0-9a-f]+\", opaque=\"[0-9A-F]+\", algorithm=$alg"
    manual tomcat "$l" "manual $alg" 200 "$TC$l" "$l" "$U" "$P"
    manual tomcat "$l" "manual $alg UTF-8 user sent as ISO-8859-1" 200 "$TC$l" "$l" --wire-encoding latin-1 "$U8" "$P8"
done
viacurl tomcat /md5/ "curl --digest $U" 200 "$TC/md5/" --digest -u "$U:$P"
viacurl tomcat /md5/ "curl --digest wrong password" 401 "$TC/md5/" --digest -u "$U:wrong"
viacurl tomcat /md5/ "INFO curl --digest UTF-8 user (raw UTF-8)" 401 "$TC/md5/" --digest -u "$U8:$P8"
viacurl tomcat /sha256/ "curl --digest $U" 200 "$TC/sha256/" --digest -u "$U:$P"
viacurl tomcat /sha512-256/ "INFO curl --digest (curl 7.88 hashes SHA-256)" 401 "$TC/sha512-256/" --digest -u "$U:$P"
manual tomcat /md5/ "manual uri=absolute-URI" 200 "$TC/md5/" "$TC/md5/" "$U" "$P"
manual tomcat /md5/ "manual MD5-sess (unsupported)" 401 "$TC/md5/" /md5/ --use-algorithm MD5-sess "$U" "$P"
manual tomcat /md5/ "manual username* (unsupported)" 401 "$TC/md5/" /md5/ --username-star "$U8" "$P8"
challenge tomcat /multi/ "$TC/multi/" 401 'algorithm=SHA-512-256'
n=$(grep -ci '^WWW-Authenticate: Digest' "$T/h" || true)
row tomcat /multi/ "challenge: 3 WWW-Authenticate headers" 3 "$n" "$(verdict "$n" 3)"
for alg in SHA-512-256 SHA-256 MD5; do
    manual tomcat /multi/ "manual pick $alg challenge" 200 "$TC/multi/" /multi/ --algorithm "$alg" "$U" "$P"
done
viacurl tomcat /multi/ "INFO curl --digest (takes 1st = SHA-512-256)" 401 "$TC/multi/" --digest -u "$U:$P"
getchal "$TC/md5/"
c1=$(sendauth "$TC/md5/" Authorization --uri /md5/ "$U" "$P"); c2=$(sendauth "$TC/md5/" Authorization --uri /md5/ --nc 00000002 "$U" "$P"); c3=$(sendauth "$TC/md5/" Authorization --uri /md5/ --nc 00000002 "$U" "$P")
row tomcat /md5/ "nonce reuse nc=1, nc=2, replay nc=2" "200,200,401" "$c1,$c2,$c3" "$(verdict "$c1,$c2,$c3" 200,200,401)"
viacurl tomcat /stale/ "curl --digest $U" 200 "$TC/stale/" --digest -u "$U:$P"
getchal "$TC/stale/"
c1=$(sendauth "$TC/stale/" Authorization --uri /stale/ "$U" "$P"); sleep 3.5
c2=$(sendauth "$TC/stale/" Authorization --uri /stale/ --nc 00000002 "$U" "$P")
grep -qi 'stale=true' "$T/h2" || c2="$c2(no stale)"
row tomcat /stale/ "nonce after 3.5 s -> 401 stale=true" "200,401" "$c1,$c2" "$(verdict "$c1,$c2" 200,401)"

# ---------------------------------------------------------------- twisted
for loc in md5 md5-sess sha; do
    challenge twisted "/$loc/" "$TW/$loc/" 401 "WWW-Authenticate: digest nonce=\"[0-9a-f]+\", opaque=\"[0-9a-f]+-[A-Za-z0-9+/=]+\", qop=\"auth\", algorithm=\"$loc\", realm=\"lab@example.org\""
    manual twisted "/$loc/" "manual $loc" 200 "$TW/$loc/" "/$loc/" "$U" "$P"
    manual twisted "/$loc/" "manual $loc (UTF-8 user)" 200 "$TW/$loc/" "/$loc/" "$U8" "$P8"
done
viacurl twisted /md5/ "curl --digest $U" 200 "$TW/md5/" --digest -u "$U:$P"
viacurl twisted /md5/ "curl --digest (UTF-8 user)" 200 "$TW/md5/" --digest -u "$U8:$P8"
viacurl twisted /md5/ "curl --digest wrong password" 401 "$TW/md5/" --digest -u "$U:wrong"
viacurl twisted /md5-sess/ "curl --digest $U" 200 "$TW/md5-sess/" --digest -u "$U:$P"
viacurl twisted /sha/ "INFO curl --digest (SHA-1 'sha' unknown to curl)" 401 "$TW/sha/" --digest -u "$U:$P"
getchal "$TW/md5/"
c1=$(sendauth "$TW/md5/" Authorization --uri /md5/ "$U" "$P"); c2=$(sendauth "$TW/md5/" Authorization --uri /md5/ --nc 00000002 "$U" "$P")
row twisted /md5/ "nonce reuse nc=1 then nc=2" "200,200" "$c1,$c2" "$(verdict "$c1,$c2" 200,200)"

# ---------------------------------------------------------------- report
t2=$(date +%s.%N)
printf '%-8s  %-44s  %-46s  %-8s  %-8s  %s\n' SERVER LOCATION CHECK EXPECTED GOT RESULT
cat "$ROWS"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "\nstartup %.1f s, checks %.1f s\n", b - a, c - b }'
echo "$npass passed, $nfail failed, $ninfo info"
[ "$nfail" -eq 0 ]
