# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Common helpers for the digest interop lab. Sourced by the start-*.sh scripts.
# Not meant to be executed directly.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything the lab creates at run time (configs, logs, pidfiles, venvs) lives
# in RUN_DIR. It is outside the lab folder on purpose (venvs are large).
RUN_DIR="${INTEROP_RUN_DIR:-${TMPDIR:-/tmp}/digest-interop-lab}"

# Lab credentials (RFC 7616 section 3.9.2 provides the non-ASCII pair).
LAB_REALM="lab@example.org"
LAB_USER="alice"
LAB_PASS="s3cret"
LAB_UTF8_USER="Jäsøn Doe"
LAB_UTF8_PASS="Secret, or not?"

# Fixed loopback ports.
PORT_APACHE=18081
PORT_LIGHTTPD=18082
PORT_HTTPBIN=18083
PORT_SQUID=18084
PORT_ORIGIN=18085
PORT_TOMCAT=18086
PORT_TWISTED=18087
PORT_FLASK=18088
PORT_HTTPAUTH=18089
PORT_HTTPAUTH_PROXY=18090
PORT_GOAUTH=18091
PORT_GOAUTH_PROXY=18092
PORT_CHERRYPY=18093
# Not a Digest server: the Redis the server side's Redis-backed stores are tested against.
PORT_REDIS=18094
# The https origin (Apache with mod_ssl, a certificate made at start), reached through Squid.
PORT_HTTPS=18095

STARTUP_TIMEOUT="${INTEROP_STARTUP_TIMEOUT:-60}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# die_startup NAME MESSAGE : die, showing the end of NAME's log (a CI log is all there is).
die_startup() {
    local logf="$RUN_DIR/logs/$1.log"
    if [ -s "$logf" ]; then
        log "last lines of $logf:"
        tail -n 20 "$logf" | sed 's/^/    /' >&2
    fi
    die "$2"
}

ensure_run_dir() {
    mkdir -p "$RUN_DIR/pids" "$RUN_DIR/logs"
    # Servers that drop privileges (apache children, squid) must be able to
    # traverse and read their config under RUN_DIR.
    chmod 755 "$RUN_DIR" "$RUN_DIR/pids" "$RUN_DIR/logs"
}

_apt_updated=0
# Wait for the dpkg/apt locks (another install, unattended-upgrades, a second
# lab script) instead of failing at once.
APT_LOCK_OPTS=(-o DPkg::Lock::Timeout=600)
# ensure_pkgs PKG... : install missing Debian packages. On a fresh machine
# (empty package lists) the first install fails with "Unable to locate
# package"; that failure triggers one apt-get update and a second attempt.
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 900 apt-get "${APT_LOCK_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >"$RUN_DIR/logs/apt-install.log" 2>&1; then
        if [ "$_apt_updated" -eq 0 ]; then
            timeout 900 apt-get "${APT_LOCK_OPTS[@]}" update >>"$RUN_DIR/logs/apt-install.log" 2>&1 || true
            _apt_updated=1
        fi
        timeout 900 apt-get "${APT_LOCK_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >>"$RUN_DIR/logs/apt-install.log" 2>&1 \
            || die "apt-get install ${missing[*]} failed (see $RUN_DIR/logs/apt-install.log)"
    fi
}

# ensure_venv DIR PIP_ARGS... : create a venv at DIR (if missing) and pip
# install the given requirements into it. A marker file records the
# requirement list so a changed list triggers a reinstall.
ensure_venv() {
    local dir="$1"; shift
    local want="$*"
    if [ -x "$dir/bin/python" ] && [ -f "$dir/.lab-reqs" ] && [ "$(cat "$dir/.lab-reqs")" = "$want" ]; then
        return 0
    fi
    # Always Debian's python3 so every machine gets the same interpreter.
    ensure_pkgs python3 python3-venv
    local py=/usr/bin/python3
    log "creating venv $dir ($want)"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    timeout 900 "$dir/bin/pip" install -q --disable-pip-version-check "$@" >"$RUN_DIR/logs/pip-$(basename "$dir").log" 2>&1 \
        || die "pip install into $dir failed (see $RUN_DIR/logs/pip-$(basename "$dir").log)"
    printf '%s' "$want" >"$dir/.lab-reqs"
}

pidfile_of() { printf '%s/pids/%s.pid' "$RUN_DIR" "$1"; }

# proc_stamp PID : prints what tells this process from every other one that had or will
# have its PID: its start time (clock ticks since boot, field 22 of /proc/PID/stat) and the
# boot's id. A PID alone is not enough: a pidfile left by an earlier boot or run can name a
# PID that now belongs to another of the lab's own processes (an apache worker, say).
proc_stamp() {
    local st boot
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
    st="${st##*) }"
    # shellcheck disable=SC2086  # split the fields on purpose
    set -- $st
    { read -r boot </proc/sys/kernel/random/boot_id; } 2>/dev/null || boot=unknown
    printf '%s@%s' "${20}" "$boot"
}

# is_ours PIDFILE : true if the process the pidfile records ("PID STAMP") is alive and is
# the very process that was started (same PID and same stamp), so a recycled PID is never
# mistaken for ours.
is_ours() {
    local pid stamp now
    { read -r pid stamp <"$1"; } 2>/dev/null || return 1
    [ -n "$pid" ] && [ -n "$stamp" ] && alive "$pid" || return 1
    now="$(proc_stamp "$pid")" || return 1
    [ "$now" = "$stamp" ]
}

# running NAME : true if the process recorded for NAME is alive and ours.
running() {
    is_ours "$(pidfile_of "$1")"
}

# start_bg NAME LOGFILE CMD... : start CMD in the background in its own
# session, record its PID and stamp.
start_bg() {
    local name="$1" logf="$2" pid
    shift 2
    setsid "$@" </dev/null >>"$logf" 2>&1 &
    pid=$!
    # The stamp of a process that already exited is empty: then it is not running.
    printf '%s %s\n' "$pid" "$(proc_stamp "$pid" || true)" >"$(pidfile_of "$name")"
}

# _stat PID : set _ST_STATE and _ST_PGRP from /proc/PID/stat (builtins only;
# the comm field may contain spaces, so cut after its closing parenthesis).
_stat() {
    local st _ppid
    _ST_STATE=""; _ST_PGRP=""
    { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
    st="${st##*) }"
    read -r _ST_STATE _ppid _ST_PGRP _ <<<"$st"
    [ -n "$_ST_STATE" ]
}

# alive PID : true if PID exists and is not a zombie (PID 1 here may reap
# orphans late; a zombie counts as stopped).
alive() {
    _stat "$1" && [ "$_ST_STATE" != Z ]
}

# group_alive PGID : true if a non-zombie process is left in process group PGID.
group_alive() {
    local d
    for d in /proc/[0-9]*; do
        _stat "${d#/proc/}" || continue
        [ "$_ST_PGRP" = "$1" ] && [ "$_ST_STATE" != Z ] && return 0
    done
    return 1
}

# stop_pid NAME : stop the process recorded in NAME's pidfile (TERM, then
# KILL after 10 s). Only touches the recorded PID (and, once it is gone, the
# leftover members of the process group it led: start_bg runs every server
# under setsid, so that group id is the recorded PID), and only if the
# recorded PID is still one of ours.
stop_pid() {
    local name="$1" pf pid i
    pf="$(pidfile_of "$name")"
    [ -f "$pf" ] || return 0
    read -r pid _ <"$pf" || true
    if is_ours "$pf"; then
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            log "$name (pid $pid) did not stop on TERM, sending KILL to its process group"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        # children (workers, helpers) normally exit with their parent; give
        # them a moment, then remove stragglers of that process group.
        for i in $(seq 1 50); do
            group_alive "$pid" || break
            sleep 0.1
        done
        if group_alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$pf"
}

# wait_http URL NAME [EXPECTED_CODE_REGEX] : poll until URL answers with an
# HTTP status (any status by default), or fail after STARTUP_TIMEOUT seconds.
wait_http() {
    local url="$1" name="$2" want="${3:-[1-5][0-9][0-9]}" code deadline
    deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
    while :; do
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' --noproxy '*' "$url" 2>/dev/null || true)"
        if [[ "$code" =~ ^$want$ ]]; then return 0; fi
        if ! running "$name"; then
            die_startup "$name" "$name exited during startup (see $RUN_DIR/logs/$name.log)"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            die_startup "$name" "$name did not answer on $url within ${STARTUP_TIMEOUT}s (last code: ${code:-none})"
        fi
        sleep 0.2
    done
}

# wait_https URL NAME CAFILE : wait_http for an https URL whose certificate CAFILE is
# (verified against it, never skipped).
wait_https() {
    local url="$1" name="$2" ca="$3" code deadline
    deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
    while :; do
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' --noproxy '*' --cacert "$ca" "$url" 2>/dev/null || true)"
        if [[ "$code" =~ ^[1-5][0-9][0-9]$ ]]; then return 0; fi
        if ! running "$name"; then
            die_startup "$name" "$name exited during startup (see $RUN_DIR/logs/$name.log)"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            die_startup "$name" "$name did not answer on $url within ${STARTUP_TIMEOUT}s (last code: ${code:-none})"
        fi
        sleep 0.2
    done
}

# wait_port PORT NAME : wait until something listens on 127.0.0.1:PORT.
wait_port() {
    local port="$1" name="$2" deadline
    deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        running "$name" || die_startup "$name" "$name exited during startup (see $RUN_DIR/logs/$name.log)"
        [ "$(date +%s)" -ge "$deadline" ] && die_startup "$name" "$name did not listen on 127.0.0.1:$port within ${STARTUP_TIMEOUT}s"
        sleep 0.2
    done
}

# redis_pong PORT : true if a Redis on 127.0.0.1:PORT answers PING with +PONG. Plain bash
# (/dev/tcp, the RESP form of PING), so it needs no redis-cli; at most 2 s.
redis_pong() {
    local reply
    # shellcheck disable=SC2016  # $1 is expanded by the inner shell
    reply="$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "*1\r\n\$4\r\nPING\r\n" >&3 && IFS= read -r line <&3 && printf "%s" "$line"' _ "$1" 2>/dev/null)" || return 1
    [ "${reply%$'\r'}" = "+PONG" ]
}

# port_busy PORT : true if something already listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# claim_ports NAME PORT...: before starting NAME, which is not running: drops its stale
# pidfile, and dies when one of the ports is taken by a process this lab did not start.
claim_ports() {
    local name=$1 port
    shift
    rm -f "$(pidfile_of "$name")"
    for port in "$@"; do
        port_busy "$port" && die "127.0.0.1:$port is already in use by a process this lab did not start"
    done
    return 0
}

# md5 / sha256 / sha512-256 hex of a string (for htdigest-style user files).
hash_hex() {
    local algo="$1" s="$2"
    case "$algo" in
        md5) printf '%s' "$s" | md5sum | cut -d' ' -f1 ;;
        sha256) printf '%s' "$s" | sha256sum | cut -d' ' -f1 ;;
        sha512-256) printf '%s' "$s" | openssl dgst -sha512-256 -r | cut -d' ' -f1 ;;
        *) die "unknown hash $algo" ;;
    esac
}
