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
FL=http://127.0.0.1:$PORT_FLASK
HA=http://127.0.0.1:$PORT_HTTPAUTH
HP=http://127.0.0.1:$PORT_HTTPAUTH_PROXY
GA=http://127.0.0.1:$PORT_GOAUTH
GP=http://127.0.0.1:$PORT_GOAUTH_PROXY
CP=http://127.0.0.1:$PORT_CHERRYPY
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
# https through Squid to the https origin (start-https.sh), its certificate verified.
HS=https://127.0.0.1:$PORT_HTTPS
CA=(--cacert "$RUN_DIR/https/ca.pem")
code=$("${CURL[@]}" -o /dev/null -w '%{http_connect}' "${CA[@]}" -x "$S" "$HS/hello.txt" 2>/dev/null || true)
row squid "proxy CONNECT 127.0.0.1:$PORT_HTTPS" "CONNECT without credentials" 407 "$code" "$(verdict "$code" 407)"
viacurl squid "proxy CONNECT -> $HS/hello.txt" "curl --proxy-digest $U" 200 "$HS/hello.txt" "${CA[@]}" -x "$S" --proxy-digest -U "$U:$P"
code=$("${CURL[@]}" -o /dev/null -w '%{http_connect}' "${CA[@]}" -x "$S" --proxy-digest -U "$U:wrong" "$HS/hello.txt" 2>/dev/null || true)
row squid "proxy CONNECT 127.0.0.1:$PORT_HTTPS" "curl --proxy-digest wrong password" 407 "$code" "$(verdict "$code" 407)"
viacurl squid "proxy CONNECT -> $HS/digest/" "curl --proxy-digest + --digest (origin)" 200 "$HS/digest/" "${CA[@]}" -x "$S" --proxy-digest -U "$U:$P" --digest -u "$U:$P"

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

# latin1 USER PASS : manual_digest arguments for the name as ISO-8859-1 bytes (UTF-8 hash)
L1=(--wire-encoding latin-1)
L1ALL=(--wire-encoding latin-1 --hash-encoding latin-1)

# ncseq URL PATH HEADERNAME [curl args] : one challenge, then nc 1,2,2,4,3; prints the codes
ncseq() {
    local url="$1" path="$2" hname="$3"; shift 3
    local out="" nc
    getchal "$url" "$@"
    for nc in 00000001 00000002 00000002 00000004 00000003; do
        out="$out,$(sendauth "$url" "$hname" --uri "$path" --nc "$nc" "$U" "$P" -- "$@")"
    done
    echo "${out#,}"
}

# originchal URL PROXY : the origin's challenge through PROXY (curl answers the 407) in $T/h
originchal() {
    "${CURL[@]}" -D "$T/h0" -o /dev/null -x "$2" --proxy-digest -U "$U:$P" "$1" >/dev/null || true
    grep -vi '^proxy-authenticate' "$T/h0" >"$T/h"
}

# viaproxy SERVER LOC DESC EXPECT URL PROXY URI [manual_digest args] : origin credentials
# computed by manual_digest from the origin's challenge, proxy credentials by curl
viaproxy() {
    local srv="$1" loc="$2" desc="$3" want="$4" url="$5" proxy="$6" uri="$7"; shift 7
    originchal "$url" "$proxy"
    local code; code=$(sendauth "$url" Authorization --uri "$uri" "$@" "$U" "$P" -- -x "$proxy" --proxy-digest -U "$U:$P")
    row "$srv" "$loc" "$desc" "$want" "$code" "$(verdict "$code" "$want")"
}

# ---------------------------------------------------------------- flask-httpauth
FC=(-b "$T/jar" -c "$T/jar")
fl() { rm -f "$T/jar"; manual flask "$@"; }
challenge flask /session/ "$FL/session/" 401 'WWW-Authenticate: Digest realm="lab@example.org",nonce="[0-9a-f]{32}",opaque="[0-9a-f]{32}",algorithm="MD5",qop="auth"'
grep -qi '^Set-Cookie: session=' "$T/h" && c=yes || c=no
row flask /session/ "challenge: 401 sets the session cookie" yes "$c" "$(verdict "$c" yes)"
rm -f "$T/jar"; viacurl flask /session/ "curl --digest $U (cookie jar)" 200 "$FL/session/" --digest -u "$U:$P" "${FC[@]}"
viacurl flask /session/ "curl --digest wrong password" 401 "$FL/session/" --digest -u "$U:wrong" -b "$T/none" -c "$T/jar"
fl /session/ "manual $U, cookie sent back" 200 "$FL/session/" /session/ "$U" "$P" -- "${FC[@]}"
fl /session/ "manual $U, cookie not sent back" 401 "$FL/session/" /session/ "$U" "$P"
fl /session/ "manual UTF-8 user as ISO-8859-1" 200 "$FL/session/" /session/ "${L1[@]}" "$U8" "$P8" -- "${FC[@]}"
for loc in server-nonce ha1; do
    challenge flask "/$loc/" "$FL/$loc/" 401 'WWW-Authenticate: Digest realm="lab@example.org",nonce="[0-9a-f]{32}",opaque="[0-9a-f]{32}",algorithm="MD5",qop="auth"'
    grep -qi '^Set-Cookie' "$T/h" && c=yes || c=no
    row flask "/$loc/" "challenge: no cookie" no "$c" "$(verdict "$c" no)"
    viacurl flask "/$loc/" "curl --digest $U (no cookie jar)" 200 "$FL/$loc/" --digest -u "$U:$P"
    fl "/$loc/" "manual $U" 200 "$FL/$loc/" "/$loc/" "$U" "$P"
    fl "/$loc/" "manual UTF-8 user raw UTF-8 -> 401" 401 "$FL/$loc/" "/$loc/" "$U8" "$P8"
    fl "/$loc/" "manual UTF-8 user as ISO-8859-1" 200 "$FL/$loc/" "/$loc/" "${L1[@]}" "$U8" "$P8"
    fl "/$loc/" "manual UTF-8 user ISO-8859-1 hash too -> 401" 401 "$FL/$loc/" "/$loc/" "${L1ALL[@]}" "$U8" "$P8"
    fl "/$loc/" "manual username* (UTF-8 user)" 200 "$FL/$loc/" "/$loc/" --username-star "$U8" "$P8"
    fl "/$loc/" "manual no qop (RFC 2069)" 200 "$FL/$loc/" "/$loc/" --qop none "$U" "$P"
    fl "/$loc/" "manual uri=another path (not compared)" 200 "$FL/$loc/" /elsewhere/ "$U" "$P"
done
viacurl flask /server-nonce/ "INFO curl --digest UTF-8 user (raw UTF-8)" 401 "$FL/server-nonce/" --digest -u "$U8:$P8"
c=$(ncseq "$FL/server-nonce/" /server-nonce/ Authorization)
row flask /server-nonce/ "nc 1,2,2,4,3 (no nonce-count check)" "200,200,200,200,200" "$c" "$(verdict "$c" 200,200,200,200,200)"
getchal "$FL/server-nonce/"; auth=$("${MD[@]}" --headers "$T/h" --uri /server-nonce/ "$U" "$P" | sed -E 's/, opaque="[^"]*"//')
c=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: $auth" "$FL/server-nonce/")
row flask /server-nonce/ "manual opaque left out -> 401" 401 "$c" "$(verdict "$c" 401)"
challenge flask /md5-sess/ "$FL/md5-sess/" 401 'algorithm="MD5-Sess",qop="auth"'
fl /md5-sess/ "manual MD5-Sess" 200 "$FL/md5-sess/" /md5-sess/ "$U" "$P"
viacurl flask /md5-sess/ "curl --digest $U" 200 "$FL/md5-sess/" --digest -u "$U:$P"
challenge flask /no-qop/ "$FL/no-qop/" 401 'WWW-Authenticate: Digest realm="lab@example.org",nonce="[0-9a-f]{32}",opaque="[0-9a-f]{32}"\s*$'
fl /no-qop/ "manual RFC 2069" 200 "$FL/no-qop/" /no-qop/ "$U" "$P"
viacurl flask /no-qop/ "curl --digest $U" 200 "$FL/no-qop/" --digest -u "$U:$P"
challenge flask /qop-empty/ "$FL/qop-empty/" 401 'algorithm="MD5",qop=""'
fl /qop-empty/ "manual RFC 2069" 200 "$FL/qop-empty/" /qop-empty/ "$U" "$P"
fl /qop-empty/ "manual qop=auth -> 401" 401 "$FL/qop-empty/" /qop-empty/ --qop auth "$U" "$P"
viacurl flask /qop-empty/ "curl --digest $U" 200 "$FL/qop-empty/" --digest -u "$U:$P"

# ---------------------------------------------------------------- http-auth
for loc in digest:auth qop-none: md5-sess:auth; do
    l="/${loc%%:*}/"; q="${loc#*:}"; alg=MD5; [ "$l" = /md5-sess/ ] && alg=MD5-sess
    challenge http-auth "$l" "$HA$l" 401 "WWW-Authenticate: Digest realm=\"lab@example.org\", qop=\"$q\", nonce=\"[0-9a-f]{32}\", algorithm=\"$alg\", stale=\"false\""
    viacurl http-auth "$l" "curl --digest $U" 200 "$HA$l" --digest -u "$U:$P"
    manual http-auth "$l" "manual $U" 200 "$HA$l" "$l" "$U" "$P"
    manual http-auth "$l" "manual UTF-8 user raw UTF-8 -> 401" 401 "$HA$l" "$l" "$U8" "$P8"
    manual http-auth "$l" "manual UTF-8 user as ISO-8859-1" 200 "$HA$l" "$l" "${L1[@]}" "$U8" "$P8"
    manual http-auth "$l" "manual username* (not read) -> 401" 401 "$HA$l" "$l" --username-star "$U8" "$P8"
done
viacurl http-auth /digest/ "curl --digest wrong password" 401 "$HA/digest/" --digest -u "$U:wrong"
viacurl http-auth /digest/ "INFO curl --digest UTF-8 user (raw UTF-8)" 401 "$HA/digest/" --digest -u "$U8:$P8"
manual http-auth /digest/ "manual no qop (RFC 2069)" 200 "$HA/digest/" /digest/ --qop none "$U" "$P"
manual http-auth /digest/ "manual MD5-sess (accepted, not offered)" 200 "$HA/digest/" /digest/ --use-algorithm MD5-sess "$U" "$P"
manual http-auth /digest/ "manual uri=another path (not compared)" 200 "$HA/digest/" /elsewhere/ "$U" "$P"
manual http-auth /qop-none/ "manual qop=auth (accepted)" 200 "$HA/qop-none/" /qop-none/ --qop auth "$U" "$P"
c=$(ncseq "$HA/digest/" /digest/ Authorization)
grep -q 'stale="true"' "$T/h2" || c="$c(no stale)"
row http-auth /digest/ "nc 1,2,2,4,3 (each above the last)" "200,200,401,200,401" "$c" "$(verdict "$c" 200,200,401,200,401)"
OU="$O/hello.txt"
challenge http-auth-proxy "proxy -> $OU" "$OU" 407 'Proxy-Authenticate: Digest realm="lab@example.org", qop="auth", nonce="[0-9a-f]{32}", algorithm="MD5", stale="false"' -x "$HP"
viacurl http-auth-proxy "proxy -> $OU" "curl --proxy-digest $U" 200 "$OU" -x "$HP" --proxy-digest -U "$U:$P"
viacurl http-auth-proxy "proxy -> $OU" "curl --proxy-digest wrong password" 407 "$OU" -x "$HP" --proxy-digest -U "$U:wrong"
getchal "$OU" -x "$HP"; c=$(sendauth "$OU" Proxy-Authorization --uri /hello.txt "${L1[@]}" "$U8" "$P8" -- -x "$HP")
row http-auth-proxy "proxy -> $OU" "manual UTF-8 user as ISO-8859-1" 200 "$c" "$(verdict "$c" 200)"
getchal "$OU" -x "$HP"; c=$(sendauth "$OU" Proxy-Authorization --uri "$OU" "$U" "$P" -- -x "$HP")
row http-auth-proxy "proxy -> $OU" "manual uri=absolute-URI" 200 "$c" "$(verdict "$c" 200)"
viacurl http-auth-proxy "proxy -> http://example.invalid/" "non-loopback host denied" 403 http://example.invalid/ -x "$HP" --proxy-digest -U "$U:$P"
code=$("${CURL[@]}" -o /dev/null -w '%{http_connect}' -p -x "$HP" --proxy-digest -U "$U:$P" "$OU" 2>/dev/null || true)
row http-auth-proxy "proxy CONNECT" "CONNECT denied" 403 "$code" "$(verdict "$code" 403)"

# ---------------------------------------------------------------- go-http-auth
challenge go-http-auth /digest/ "$GA/digest/" 401 'WWW-Authenticate: Digest realm="lab@example.org", nonce="[A-Za-z0-9+/]{16}", opaque="[A-Za-z0-9+/]{16}", algorithm="MD5", qop="auth"'
viacurl go-http-auth /digest/ "curl --digest $U" 200 "$GA/digest/" --digest -u "$U:$P"
viacurl go-http-auth /digest/ "curl --digest (UTF-8 user)" 200 "$GA/digest/" --digest -u "$U8:$P8"
viacurl go-http-auth /digest/ "curl --digest wrong password" 401 "$GA/digest/" --digest -u "$U:wrong"
viacurl go-http-auth "/digest/?page=1" "curl --digest $U" 200 "$GA/digest/?page=1" --digest -u "$U:$P"
manual go-http-auth /digest/ "manual UTF-8 user as ISO-8859-1 -> 401" 401 "$GA/digest/" /digest/ "${L1[@]}" "$U8" "$P8"
manual go-http-auth /digest/ "manual username* -> 401" 401 "$GA/digest/" /digest/ --username-star "$U8" "$P8"
manual go-http-auth /digest/ "manual no qop (RFC 2069) -> 401" 401 "$GA/digest/" /digest/ --qop none "$U" "$P"
manual go-http-auth /digest/ "manual uri=absolute-URI (its path matches)" 200 "$GA/digest/" "$GA/digest/" "$U" "$P"
manual go-http-auth /digest/ "manual uri=another path -> 401" 401 "$GA/digest/" /elsewhere/ "$U" "$P"
manual go-http-auth "/digest/?page=1" "manual uri without the query (a prefix)" 200 "$GA/digest/?page=1" /digest/ "$U" "$P"
c=$(ncseq "$GA/digest/" /digest/ Authorization)
row go-http-auth /digest/ "nc 1,2,2,4,3 (each above the last)" "200,200,401,200,401" "$c" "$(verdict "$c" 200,200,401,200,401)"
challenge go-http-auth-proxy "proxy -> $OU" "$OU" 407 'Proxy-Authenticate: Digest realm="lab@example.org", nonce="[^"]+", opaque="[^"]+", algorithm="MD5", qop="auth"' -x "$GP"
viacurl go-http-auth-proxy "proxy -> $OU" "curl --proxy-digest $U" 200 "$OU" -x "$GP" --proxy-digest -U "$U:$P"
viacurl go-http-auth-proxy "proxy -> $OU" "curl --proxy-digest (UTF-8 user)" 200 "$OU" -x "$GP" --proxy-digest -U "$U8:$P8"
viacurl go-http-auth-proxy "proxy -> $OU" "curl --proxy-digest wrong password" 407 "$OU" -x "$GP" --proxy-digest -U "$U:wrong"
getchal "$OU" -x "$GP"; c=$(sendauth "$OU" Proxy-Authorization --uri "$OU" "$U" "$P" -- -x "$GP")
row go-http-auth-proxy "proxy -> $OU" "manual uri=absolute-URI" 200 "$c" "$(verdict "$c" 200)"
viacurl go-http-auth-proxy "proxy -> http://example.invalid/" "non-loopback host denied" 403 http://example.invalid/ -x "$GP" --proxy-digest -U "$U:$P"

# ---------------------------------------------------------------- cherrypy
challenge cherrypy /digest/ "$CP/digest/" 401 'WWW-Authenticate: Digest realm="lab@example.org", nonce="[0-9]+:[0-9a-f]{32}", algorithm="MD5", qop="auth", charset="UTF-8"'
challenge cherrypy /latin1/ "$CP/latin1/" 401 'WWW-Authenticate: Digest realm="lab@example.org", nonce="[0-9]+:[0-9a-f]{32}", algorithm="MD5", qop="auth"\s*$'
viacurl cherrypy /digest/ "curl --digest $U" 200 "$CP/digest/" --digest -u "$U:$P"
viacurl cherrypy /digest/ "curl --digest (UTF-8 user)" 200 "$CP/digest/" --digest -u "$U8:$P8"
viacurl cherrypy /digest/ "curl --digest wrong password" 401 "$CP/digest/" --digest -u "$U:wrong"
manual cherrypy /digest/ "manual UTF-8 user as ISO-8859-1 (fallback)" 200 "$CP/digest/" /digest/ "${L1[@]}" "$U8" "$P8"
manual cherrypy /digest/ "manual username* -> 400" 400 "$CP/digest/" /digest/ --username-star "$U8" "$P8"
manual cherrypy /digest/ "manual no qop (RFC 2069)" 200 "$CP/digest/" /digest/ --qop none "$U" "$P"
manual cherrypy /digest/ "manual uri=another path (not compared)" 200 "$CP/digest/" /elsewhere/ "$U" "$P"
manual cherrypy /digest/ "manual algorithm=MD5-sess -> 400 (upper-cased)" 400 "$CP/digest/" /digest/ --use-algorithm MD5-sess "$U" "$P"
c=$(ncseq "$CP/digest/" /digest/ Authorization)
row cherrypy /digest/ "nc 1,2,2,4,3 (no nonce-count check)" "200,200,200,200,200" "$c" "$(verdict "$c" 200,200,200,200,200)"
viacurl cherrypy /latin1/ "curl --digest $U" 200 "$CP/latin1/" --digest -u "$U:$P"
viacurl cherrypy /latin1/ "INFO curl --digest UTF-8 user (raw UTF-8)" 401 "$CP/latin1/" --digest -u "$U8:$P8"
manual cherrypy /latin1/ "manual UTF-8 user as ISO-8859-1" 200 "$CP/latin1/" /latin1/ "${L1[@]}" "$U8" "$P8"

# ---------------------------------------------------------------- Digest origins behind the proxies
for px in "squid:$S" "http-auth-proxy:$HP" "go-http-auth-proxy:$GP"; do
    pn="${px%%:*}"; pu="${px#*:}"
    viacurl "$pn" "-> lighttpd /digest-md5/" "curl both credentials (uri origin-form)" 200 "$L/digest-md5/" -x "$pu" --proxy-digest -U "$U:$P" --digest -u "$U:$P"
    viaproxy "$pn" "-> lighttpd /digest-md5/" "manual uri=absolute-URI -> 400 (origin-form sent)" 400 "$L/digest-md5/" "$pu" "$L/digest-md5/"
    viacurl "$pn" "-> go-http-auth /digest/" "curl both credentials" 200 "$GA/digest/" -x "$pu" --proxy-digest -U "$U:$P" --digest -u "$U:$P"
done

# ---------------------------------------------------------------- report
t2=$(date +%s.%N)
printf '%-8s  %-44s  %-46s  %-8s  %-8s  %s\n' SERVER LOCATION CHECK EXPECTED GOT RESULT
cat "$ROWS"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "\nstartup %.1f s, checks %.1f s\n", b - a, c - b }'
echo "$npass passed, $nfail failed, $ninfo info"
[ "$nfail" -eq 0 ]
