#!/usr/bin/env bash
# Stop every process the lab's start-*.sh scripts started, using the pidfiles
# in the run dir (never by process name). Safe to run when nothing runs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[ -d "$RUN_DIR/pids" ] || { log "nothing to stop ($RUN_DIR/pids does not exist)"; exit 0; }
# Known servers first, in reverse start order, then anything else recorded.
for name in redis cherrypy go-http-auth http-auth flask-httpauth twisted tomcat squid https origin httpbin lighttpd apache; do
    stop_pid "$name"
done
for pf in "$RUN_DIR"/pids/*.pid; do
    [ -e "$pf" ] || continue
    stop_pid "$(basename "$pf" .pid)"
done
echo "STOPPED all lab servers (run dir $RUN_DIR)"
