#!/usr/bin/env bash
# Start every lab server (idempotent: running ones are left alone), the lab's Redis, the
# Python client venv and the other client peers. Prints the READY lines and the elapsed time.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
start=$(date +%s.%N)
for s in start-apache.sh start-lighttpd.sh start-httpbin.sh start-https.sh start-squid.sh start-tomcat.sh start-twisted.sh \
    start-flask-httpauth.sh start-http-auth.sh start-go-http-auth.sh start-cherrypy.sh start-redis.sh; do
    "$HERE/$s"
done
"$HERE/clients-venv.sh" >/dev/null
# The other client peers: curl, wget, Chromium, HttpClient 5 (compiled), the npm clients.
"$HERE/clients-install.sh" >/dev/null
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "ALL READY in %.1f s\n", b - a }'
