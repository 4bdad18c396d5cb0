#!/usr/bin/env bash
# Apache httpd 2.4 (Debian apache2) + mod_auth_digest, private foreground
# instance with its own config in the run dir (the system service is not used).
#
#   /digest/        MD5, qop=auth, AuthDigestDomain /digest/
#   /digest-stale/  MD5, qop=auth, AuthDigestNonceLifetime 3 + AuthDigestNcCheck On
#                   (nonces go stale after 3 s -> 401 with stale=true;
#                    nonce-count replays are rejected)
#
# mod_auth_digest in 2.4.71 refuses MD5-sess, SHA-256 and qop auth-int at
# config-parse time, so no such locations exist.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=apache
PORT=$PORT_APACHE
URL="http://127.0.0.1:$PORT/"
D="$RUN_DIR/$NAME"

ensure_run_dir
ensure_pkgs apache2 apache2-utils curl

if running "$NAME"; then
    wait_http "$URL" "$NAME"
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

rm -rf "$D"
mkdir -p "$D/rt" "$D/htdocs/digest" "$D/htdocs/digest-stale"
echo "apache digest ok" >"$D/htdocs/digest/index.html"
echo "apache digest-stale ok" >"$D/htdocs/digest-stale/index.html"
echo "apache root (unprotected)" >"$D/htdocs/index.html"

# htdigest file: user:realm:MD5(user:realm:password)
{
    printf '%s:%s:%s\n' "$LAB_USER" "$LAB_REALM" "$(hash_hex md5 "$LAB_USER:$LAB_REALM:$LAB_PASS")"
    printf '%s:%s:%s\n' "$LAB_UTF8_USER" "$LAB_REALM" "$(hash_hex md5 "$LAB_UTF8_USER:$LAB_REALM:$LAB_UTF8_PASS")"
} >"$D/htdigest"

M=/usr/lib/apache2/modules
cat >"$D/httpd.conf" <<EOF
ServerRoot "$D"
ServerName 127.0.0.1
DefaultRuntimeDir "$D/rt"
PidFile "$D/rt/httpd.pid"
Mutex file:$D/rt default
Listen 127.0.0.1:$PORT
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authn_core_module $M/mod_authn_core.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule authn_file_module $M/mod_authn_file.so
LoadModule authz_user_module $M/mod_authz_user.so
LoadModule auth_digest_module $M/mod_auth_digest.so
LoadModule dir_module $M/mod_dir.so
LoadModule mime_module $M/mod_mime.so
TypesConfig /etc/mime.types
User www-data
Group www-data
# Room for the concurrency tests (16 requests in flight, several clients): at the
# worker limit, mpm_event closes idle keep-alive connections that clients are about to
# reuse, which shows up as transport errors unrelated to Digest.
StartServers 1
ServerLimit 4
ThreadsPerChild 16
MaxRequestWorkers 64
ErrorLog "$RUN_DIR/logs/$NAME-error.log"
LogLevel warn auth_digest:info
LogFormat "%h %u \"%r\" %>s" lab
CustomLog "$RUN_DIR/logs/$NAME-access.log" lab
DocumentRoot "$D/htdocs"
DirectoryIndex index.html
<Directory "$D/htdocs">
    Require all granted
</Directory>
<Location "/digest/">
    AuthType Digest
    AuthName "$LAB_REALM"
    AuthDigestProvider file
    AuthUserFile "$D/htdigest"
    AuthDigestDomain /digest/
    Require valid-user
</Location>
<Location "/digest-stale/">
    AuthType Digest
    AuthName "$LAB_REALM"
    AuthDigestProvider file
    AuthUserFile "$D/htdigest"
    AuthDigestNonceLifetime 3
    AuthDigestNcCheck On
    Require valid-user
</Location>
EOF
chmod -R a+rX "$D"

/usr/sbin/apache2 -t -f "$D/httpd.conf" >"$RUN_DIR/logs/$NAME.log" 2>&1 \
    || die "apache config test failed: $(cat "$RUN_DIR/logs/$NAME.log")"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" /usr/sbin/apache2 -f "$D/httpd.conf" -DFOREGROUND
wait_http "$URL" "$NAME"
echo "READY $NAME $URL"
