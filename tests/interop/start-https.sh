#!/usr/bin/env bash
# Apache httpd 2.4 (Debian apache2) + mod_ssl + mod_auth_digest: the lab's https origin,
# a private foreground instance with its own config in the run dir, on
#
#   https://127.0.0.1:18095/            unprotected (/hello.txt: "https origin ok")
#   https://127.0.0.1:18095/digest/     MD5, qop=auth, AuthDigestDomain /digest/
#
# Its certificate is made here at start with openssl (EC P-256 keys): a self-signed root,
# $RUN_DIR/https/ca.pem, and the server's certificate it signs (for 127.0.0.1 and
# localhost). Tests load ca.pem as the only root certificate; nothing skips verification.
# Squid (start-squid.sh) lets CONNECT through to this port only, and only with Digest proxy
# authentication.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=https
PORT=$PORT_HTTPS
URL="https://127.0.0.1:$PORT/hello.txt"
D="$RUN_DIR/$NAME"

ensure_run_dir
ensure_pkgs apache2 curl openssl

if running "$NAME"; then
    wait_https "$URL" "$NAME" "$D/ca.pem"
    echo "READY $NAME $URL (root certificate $D/ca.pem)"
    exit 0
fi
claim_ports "$NAME" "$PORT"

rm -rf "$D"
mkdir -p "$D/rt" "$D/htdocs/digest"
echo "https origin ok" >"$D/htdocs/hello.txt"
echo "https digest ok" >"$D/htdocs/digest/index.html"
echo "https root (unprotected)" >"$D/htdocs/index.html"

# A root of the lab's own (the file clients trust) and the server's certificate it signs:
# webpki-based clients (rustls) refuse a CA certificate used as the server's own.
ossl() { openssl "$@" >>"$RUN_DIR/logs/$NAME-openssl.log" 2>&1 \
    || die "openssl $1 failed: $(tail -5 "$RUN_DIR/logs/$NAME-openssl.log")"; }
: >"$RUN_DIR/logs/$NAME-openssl.log"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout "$D/ca-key.pem" -out "$D/ca.pem" -subj "/CN=httpdigest lab root" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$D/key.pem" -out "$D/server.csr" -subj "/CN=127.0.0.1"
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$D/server.ext"
ossl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca-key.pem" -CAcreateserial \
    -days 30 -extfile "$D/server.ext" -out "$D/cert.pem"

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
LoadModule socache_shmcb_module $M/mod_socache_shmcb.so
LoadModule ssl_module $M/mod_ssl.so
TypesConfig /etc/mime.types
User www-data
Group www-data
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
ErrorLog "$RUN_DIR/logs/$NAME-error.log"
LogLevel warn auth_digest:info
LogFormat "%h %u \"%r\" %>s" lab
CustomLog "$RUN_DIR/logs/$NAME-access.log" lab
SSLSessionCache "shmcb:$D/rt/ssl_scache(512000)"
SSLEngine on
SSLCertificateFile "$D/cert.pem"
SSLCertificateKeyFile "$D/key.pem"
SSLProtocol -all +TLSv1.2 +TLSv1.3
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
EOF
chmod -R a+rX "$D"
# The key is read by the parent (root) before it drops privileges.
chmod 600 "$D/key.pem" "$D/ca-key.pem"

/usr/sbin/apache2 -t -f "$D/httpd.conf" >"$RUN_DIR/logs/$NAME.log" 2>&1 \
    || die "apache (https) config test failed: $(cat "$RUN_DIR/logs/$NAME.log")"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" /usr/sbin/apache2 -f "$D/httpd.conf" -DFOREGROUND
wait_https "$URL" "$NAME" "$D/ca.pem"
echo "READY $NAME $URL (root certificate $D/ca.pem)"
