#!/usr/bin/env bash
# Install (idempotently) the client peers that are not in the Python venv of
# clients-venv.sh, and prepare them in the run dir:
#
#   curl, wget              Debian packages
#   chromium                Debian package, driven by clients/chromium_client.py (DevTools
#                           protocol on a pipe, standard library only)
#   Apache HttpClient 5     Debian libhttpclient5-java + libhttpcore5-java (and slf4j);
#                           clients/HttpClient5Digest.java compiled with javac into
#                           $RUN_DIR/clients-java
#   digest-fetch, urllib    npm packages (exact versions below) in $RUN_DIR/clients-node,
#                           driven by clients/digest_client.mjs with the machine's node
#
# Prints, on stdout, what the tests need to run them, one KEY=VALUE a line:
#   JAVA_CLASSPATH=...   the classpath for `java -cp "$JAVA_CLASSPATH" HttpClient5Digest`
#   NODE_MODULES=...     the directory for `node clients/digest_client.mjs --modules ...`
#   VERSION=NAME VERSION one line per client peer
# Everything else goes to stderr. Exits non-zero, naming what failed, when a peer cannot be
# installed or does not run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

JAVA_SRC="$LAB_DIR/clients/HttpClient5Digest.java"
JAVA_DIR="$RUN_DIR/clients-java"
NODE_DIR="$RUN_DIR/clients-node"
NODE_PACKAGES=(digest-fetch@3.1.1 urllib@4.9.1)
# The jars of Debian's packages (unversioned links in /usr/share/java).
JARS=(httpclient5 httpcore5 httpcore5-h2 slf4j-api slf4j-nop)

ensure_run_dir
start=$(date +%s.%N)

# Debian packages. javac and node are on the machine's image; their packages are installed
# only where they are missing.
pkgs=(curl wget chromium libhttpclient5-java libhttpcore5-java libslf4j-java)
command -v javac >/dev/null || pkgs+=(default-jdk-headless)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
ensure_pkgs "${pkgs[@]}"

# HttpClient 5: compiled again when the source or the jars change.
classpath=""
for jar in "${JARS[@]}"; do
    [ -f "/usr/share/java/$jar.jar" ] || die "/usr/share/java/$jar.jar is missing (Debian libhttpclient5-java, libhttpcore5-java, libslf4j-java)"
    classpath="$classpath:/usr/share/java/$jar.jar"
done
stamp="$(sha256sum "$JAVA_SRC" | cut -d' ' -f1) $(readlink -f /usr/share/java/httpclient5.jar)"
if [ ! -f "$JAVA_DIR/HttpClient5Digest.class" ] || [ "$(cat "$JAVA_DIR/.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "compiling $JAVA_SRC"
    rm -rf "$JAVA_DIR"
    mkdir -p "$JAVA_DIR"
    javac -nowarn -d "$JAVA_DIR" -cp "${classpath#:}" "$JAVA_SRC" >"$RUN_DIR/logs/javac.log" 2>&1 \
        || die "javac failed (see $RUN_DIR/logs/javac.log)"
    printf '%s' "$stamp" >"$JAVA_DIR/.stamp"
fi
classpath="$JAVA_DIR$classpath"

# Node packages: exact versions, installed again when the list changes.
want="${NODE_PACKAGES[*]}"
if [ ! -d "$NODE_DIR/node_modules" ] || [ "$(cat "$NODE_DIR/.lab-reqs" 2>/dev/null)" != "$want" ]; then
    log "installing npm packages into $NODE_DIR: $want"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    printf '{"name": "lab-clients", "private": true}\n' >"$NODE_DIR/package.json"
    (cd "$NODE_DIR" && timeout 900 npm install --no-audit --no-fund --save-exact "${NODE_PACKAGES[@]}") \
        >"$RUN_DIR/logs/npm-clients.log" 2>&1 \
        || die "npm install ${NODE_PACKAGES[*]} failed (see $RUN_DIR/logs/npm-clients.log)"
    printf '%s' "$want" >"$NODE_DIR/.lab-reqs"
fi

# Each peer runs (a broken install fails here, not in the middle of the tests).
curl --version >/dev/null || die "curl does not run"
wget --version >/dev/null || die "wget does not run"
chromium --version >/dev/null 2>&1 || die "chromium does not run"
# Without arguments the program prints its usage and exits 64.
java_rc=0
java -cp "$classpath" HttpClient5Digest 2>/dev/null || java_rc=$?
[ "$java_rc" -eq 64 ] || die "HttpClient5Digest does not run (java -cp $classpath: exit $java_rc)"
node -e "require('$NODE_DIR/node_modules/urllib'); import('$NODE_DIR/node_modules/digest-fetch/digest-fetch-src.js')" \
    || die "the npm packages in $NODE_DIR do not load"

echo "JAVA_CLASSPATH=$classpath"
echo "NODE_MODULES=$NODE_DIR"
deb_version() { dpkg-query -W -f='${Version}' "$1"; }
npm_version() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$NODE_DIR/node_modules/$1/package.json"; }
echo "VERSION=curl $(deb_version curl)"
echo "VERSION=wget $(deb_version wget)"
echo "VERSION=chromium $(deb_version chromium)"
echo "VERSION=httpclient5 $(deb_version libhttpclient5-java) (httpcore5 $(deb_version libhttpcore5-java), $(java -version 2>&1 | head -n 1))"
echo "VERSION=digest-fetch $(npm_version digest-fetch) (node $(node --version))"
echo "VERSION=node-urllib $(npm_version urllib) (node $(node --version))"
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "client peers ready in %.1f s\n", b - a }' >&2
