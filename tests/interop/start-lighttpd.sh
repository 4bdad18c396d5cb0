#!/usr/bin/env bash
# lighttpd 1.4.69 (Debian) mod_auth + mod_authn_file, private foreground
# instance (lighttpd -D) with its own config in the run dir.
#
#   /digest-md5/         algorithm MD5          htdigest backend
#   /digest-sha256/      algorithm SHA-256      htdigest backend
#   /digest-sha512-256/  algorithm SHA-512-256  htdigest backend
#   /digest-userhash/    algorithm SHA-256, "userhash" => "enable" (htdigest
#                        backend; 4th field of the user file = H(user:realm))
#   /digest-multi/       "SHA-512-256|SHA-256|MD5": one WWW-Authenticate header
#                        per algorithm (plain backend: the htdigest backend
#                        cannot hold SHA-256 and SHA-512-256 hashes for the
#                        same user+realm, both are 64 hex chars)
#   /server-status       mod_status, unprotected ("Total Accesses" counts every
#                        request answered)
#
# qop is always "auth" (auth-int -> 400). The -sess variant of any configured
# algorithm is accepted from clients but never offered in challenges.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=lighttpd
PORT=$PORT_LIGHTTPD
URL="http://127.0.0.1:$PORT/"
D="$RUN_DIR/$NAME"

ensure_run_dir
ensure_pkgs lighttpd curl openssl

if running "$NAME"; then
    wait_http "$URL" "$NAME"
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

rm -rf "$D"
mkdir -p "$D/htdocs"
echo "lighttpd root (unprotected)" >"$D/htdocs/index.html"
for loc in digest-md5 digest-sha256 digest-sha512-256 digest-userhash digest-multi; do
    mkdir -p "$D/htdocs/$loc"
    echo "lighttpd $loc ok" >"$D/htdocs/$loc/index.html"
done

# htdigest files: user:realm:H(user:realm:password)[:H(user:realm)]
htline() { # algo user pass
    printf '%s:%s:%s:%s\n' "$2" "$LAB_REALM" "$(hash_hex "$1" "$2:$LAB_REALM:$3")" "$(hash_hex "$1" "$2:$LAB_REALM")"
}
for algo in md5 sha256 sha512-256; do
    { htline "$algo" "$LAB_USER" "$LAB_PASS"; htline "$algo" "$LAB_UTF8_USER" "$LAB_UTF8_PASS"; } >"$D/htdigest-$algo"
done
# plain backend: user:password
printf '%s:%s\n%s:%s\n' "$LAB_USER" "$LAB_PASS" "$LAB_UTF8_USER" "$LAB_UTF8_PASS" >"$D/plain-users"

cat >"$D/lighttpd.conf" <<EOF
server.modules = ( "mod_auth", "mod_authn_file", "mod_accesslog", "mod_status" )
server.document-root = "$D/htdocs"
server.bind = "127.0.0.1"
server.port = $PORT
server.username = "www-data"
server.groupname = "www-data"
server.errorlog = "$RUN_DIR/logs/$NAME-error.log"
accesslog.filename = "$RUN_DIR/logs/$NAME-access.log"
server.max-worker = 0
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
debug.log-request-header-on-error = "enable"
# Counts every request answered ("Total Accesses" in /server-status?auto): the throughput
# benchmark's HTTP exchanges per request.
status.status-url = "/server-status"

auth.backend = "htdigest"
auth.backend.htdigest.userfile = "$D/htdigest-md5"
auth.backend.plain.userfile = "$D/plain-users"

\$HTTP["url"] =~ "^/digest-sha256/" { auth.backend.htdigest.userfile = "$D/htdigest-sha256" }
\$HTTP["url"] =~ "^/digest-userhash/" { auth.backend.htdigest.userfile = "$D/htdigest-sha256" }
\$HTTP["url"] =~ "^/digest-sha512-256/" { auth.backend.htdigest.userfile = "$D/htdigest-sha512-256" }
\$HTTP["url"] =~ "^/digest-multi/" { auth.backend = "plain" }

auth.require = (
  "/digest-md5/" => ( "method" => "digest", "realm" => "$LAB_REALM", "require" => "valid-user", "algorithm" => "MD5" ),
  "/digest-sha256/" => ( "method" => "digest", "realm" => "$LAB_REALM", "require" => "valid-user", "algorithm" => "SHA-256" ),
  "/digest-sha512-256/" => ( "method" => "digest", "realm" => "$LAB_REALM", "require" => "valid-user", "algorithm" => "SHA-512-256" ),
  "/digest-userhash/" => ( "method" => "digest", "realm" => "$LAB_REALM", "require" => "valid-user", "algorithm" => "SHA-256", "userhash" => "enable" ),
  "/digest-multi/" => ( "method" => "digest", "realm" => "$LAB_REALM", "require" => "valid-user", "algorithm" => "SHA-512-256|SHA-256|MD5" ),
)
EOF
chmod -R a+rX "$D"
# lighttpd opens its log files after dropping privileges.
touch "$RUN_DIR/logs/$NAME-error.log" "$RUN_DIR/logs/$NAME-access.log"
chown www-data:www-data "$RUN_DIR/logs/$NAME-error.log" "$RUN_DIR/logs/$NAME-access.log"

/usr/sbin/lighttpd -tt -f "$D/lighttpd.conf" >"$RUN_DIR/logs/$NAME.log" 2>&1 \
    || die "lighttpd config test failed: $(cat "$RUN_DIR/logs/$NAME.log")"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" /usr/sbin/lighttpd -D -f "$D/lighttpd.conf"
wait_http "$URL" "$NAME"
echo "READY $NAME $URL"
