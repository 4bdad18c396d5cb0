#!/usr/bin/env bash
# Squid 5 (Debian squid) as a forward proxy on 127.0.0.1 that requires
# Proxy Digest auth (407 + Proxy-Authenticate: Digest) via digest_file_auth,
# plus a plain origin (python3 -m http.server) behind it.
#
#   proxy:  http://127.0.0.1:18084   (realm lab@example.org, MD5, qop=auth)
#   origin: http://127.0.0.1:18085/  (no auth; /hello.txt)
#
# Only requests for http://127.0.0.1:<port>/... and CONNECT to the lab's https
# origin, 127.0.0.1:18095 (start-https.sh), are allowed (checked before
# authentication, so no DNS lookup is ever needed), each with Digest proxy
# authentication; CONNECT to any other port (Squid's default allows only 443),
# other hosts and everything else are denied with 403. DNS is pointed at
# 127.0.0.1 and the pinger (ICMP) is disabled.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=squid
ORIGIN=origin
PORT=$PORT_SQUID
OPORT=$PORT_ORIGIN
D="$RUN_DIR/$NAME"
OD="$RUN_DIR/$ORIGIN"
PROXY="http://127.0.0.1:$PORT"
OURL="http://127.0.0.1:$OPORT/"

ensure_run_dir
ensure_pkgs squid python3 curl

# Squid answers a plain (non-proxy) request to itself with an HTTP error, which
# is enough to know it is up.
if running "$ORIGIN" && running "$NAME"; then
    wait_http "$OURL" "$ORIGIN"
    wait_http "$PROXY/" "$NAME"
    echo "READY $ORIGIN $OURL"
    echo "READY $NAME $PROXY (forward proxy, Proxy-Authorization: Digest)"
    exit 0
fi

# --- origin -----------------------------------------------------------------
if ! running "$ORIGIN"; then
    claim_ports "$ORIGIN" "$OPORT"
    rm -rf "$OD"
    mkdir -p "$OD"
    echo "origin ok" >"$OD/hello.txt"
    echo "origin root" >"$OD/index.html"
    start_bg "$ORIGIN" "$RUN_DIR/logs/$ORIGIN.log" \
        /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$OD" "$OPORT"
fi
wait_http "$OURL" "$ORIGIN" 200
echo "READY $ORIGIN $OURL"

# --- squid ------------------------------------------------------------------
if ! running "$NAME"; then
    claim_ports "$NAME" "$PORT"
    rm -rf "$D"
    mkdir -p "$D"
    # digest_file_auth -c: username:realm:HA1
    {
        printf '%s:%s:%s\n' "$LAB_USER" "$LAB_REALM" "$(hash_hex md5 "$LAB_USER:$LAB_REALM:$LAB_PASS")"
        printf '%s:%s:%s\n' "$LAB_UTF8_USER" "$LAB_REALM" "$(hash_hex md5 "$LAB_UTF8_USER:$LAB_REALM:$LAB_UTF8_PASS")"
    } >"$D/digest-users"

    cat >"$D/squid.conf" <<EOF
http_port 127.0.0.1:$PORT
pid_filename $D/squid.pid
cache_effective_user proxy
cache_log $RUN_DIR/logs/$NAME-cache.log
access_log stdio:$RUN_DIR/logs/$NAME-access.log
cache_store_log none
coredump_dir $D
cache deny all
cache_mem 8 MB
icp_port 0
htcp_port 0
pinger_enable off
netdb_filename none
dns_nameservers 127.0.0.1
udp_incoming_address 127.0.0.1
udp_outgoing_address 127.0.0.1
shutdown_lifetime 1 seconds
visible_hostname squid.lab.invalid

auth_param digest program /usr/lib/squid/digest_file_auth -c $D/digest-users
auth_param digest children 2 startup=1 idle=1
auth_param digest realm $LAB_REALM
auth_param digest nonce_garbage_interval 5 minutes
auth_param digest nonce_max_duration 30 minutes
auth_param digest nonce_max_count 50
auth_param digest check_nonce_count on

acl lab_dst url_regex ^http://127\.0\.0\.1:[0-9]+/
acl lab_src src 127.0.0.1/32
acl CONNECT method CONNECT
acl https_origin dst 127.0.0.1/32
acl https_port port $PORT_HTTPS
acl authed proxy_auth REQUIRED

http_access deny CONNECT !https_port
http_access deny CONNECT !https_origin
http_access allow CONNECT lab_src authed
http_access deny CONNECT
http_access deny !lab_dst
http_access deny !lab_src
http_access allow authed
http_access deny all
EOF
    touch "$RUN_DIR/logs/$NAME-cache.log" "$RUN_DIR/logs/$NAME-access.log"
    chown proxy:proxy "$RUN_DIR/logs/$NAME-cache.log" "$RUN_DIR/logs/$NAME-access.log"
    chown -R proxy:proxy "$D"
    /usr/sbin/squid -k parse -f "$D/squid.conf" >"$RUN_DIR/logs/$NAME.log" 2>&1 \
        || die "squid config parse failed: $(tail -5 "$RUN_DIR/logs/$NAME.log")"
    start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" /usr/sbin/squid -N -f "$D/squid.conf"
fi
wait_http "$PROXY/" "$NAME"
echo "READY $NAME $PROXY (forward proxy, Proxy-Authorization: Digest)"
