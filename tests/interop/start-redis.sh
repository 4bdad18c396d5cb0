#!/usr/bin/env bash
# Redis (Debian's redis-server) on 127.0.0.1:18094: not a Digest server, but the real Redis
# that the server side's Redis-backed stores (feature `redis` of httpdigest-hyper) are
# tested against. Never mocked: a test that needs it fails when it does not answer.
#
#   no config file (so /etc/redis/redis.conf and a system redis on 6379 play no part),
#   no persistence (--save "" --appendonly no: data lives as long as the process),
#   bound to 127.0.0.1 only (which is the protection, so protected mode is off),
#   working dir <run dir>/redis, log <run dir>/logs/redis.log, in the foreground under
#   start_bg like every lab server.
#
# The package's maintainer scripts may start the system service on 6379 unless
# /usr/sbin/policy-rc.d forbids it (as for apache2, lighttpd and squid): the lab neither
# uses nor stops it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAME=redis
PORT=$PORT_REDIS
URL="redis://127.0.0.1:$PORT/"
D="$RUN_DIR/redis"

ensure_run_dir
ensure_pkgs redis-server redis-tools

# wait_pong : until redis-cli's PING gets PONG, or die after STARTUP_TIMEOUT seconds.
wait_pong() {
    local deadline reply
    deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
    while :; do
        reply="$(timeout 5 redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null || true)"
        [ "$reply" = PONG ] && return 0
        running "$NAME" || die_startup "$NAME" "$NAME exited during startup (see $RUN_DIR/logs/$NAME.log)"
        [ "$(date +%s)" -ge "$deadline" ] \
            && die_startup "$NAME" "$NAME did not answer PING on 127.0.0.1:$PORT within ${STARTUP_TIMEOUT}s (last reply: ${reply:-none})"
        sleep 0.1
    done
}

if running "$NAME"; then
    wait_pong
    echo "READY $NAME $URL"
    exit 0
fi
claim_ports "$NAME" "$PORT"

# A fresh start is an empty Redis: nothing is persisted, and nothing old is left to load.
rm -rf "$D"
mkdir -p "$D"
start_bg "$NAME" "$RUN_DIR/logs/$NAME.log" /usr/bin/redis-server \
    --port "$PORT" --bind 127.0.0.1 --protected-mode no \
    --save "" --appendonly no --dir "$D" \
    --daemonize no --supervised no --logfile ""
wait_pong
echo "READY $NAME $URL"
