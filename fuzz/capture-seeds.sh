#!/usr/bin/env bash
# Captures the lab servers' real headers as fuzz seeds: every challenge
# (WWW-Authenticate, Proxy-Authenticate), the credentials curl answers them with
# (Authorization, Proxy-Authorization) and the servers' Authentication-Info.
#
#   tests/interop/start-all.sh && fuzz/capture-seeds.sh
#
# Writes fuzz/seeds/{challenge,credentials,authentication_info}/lab-*; the seeds are
# committed, so the fuzz runs do not need the lab. Run again when the lab changes.
set -euo pipefail
cd "$(dirname "$0")"
seeds=$PWD/seeds

urls=(
    apache http://127.0.0.1:18081/digest/
    apache-stale http://127.0.0.1:18081/digest-stale/
    lighttpd-md5 http://127.0.0.1:18082/digest-md5/
    lighttpd-sha256 http://127.0.0.1:18082/digest-sha256/
    lighttpd-sha512-256 http://127.0.0.1:18082/digest-sha512-256/
    lighttpd-userhash http://127.0.0.1:18082/digest-userhash/
    lighttpd-multi http://127.0.0.1:18082/digest-multi/
    httpbin-auth-md5 http://127.0.0.1:18083/digest-auth/auth/alice/s3cret/MD5/never
    httpbin-auth-sha256 http://127.0.0.1:18083/digest-auth/auth/alice/s3cret/SHA-256/never
    httpbin-auth-sha512 http://127.0.0.1:18083/digest-auth/auth/alice/s3cret/SHA-512/never
    httpbin-auth-int http://127.0.0.1:18083/digest-auth/auth-int/alice/s3cret/MD5/never
    httpbin-both http://127.0.0.1:18083/digest-auth/both/alice/s3cret/MD5/never
    tomcat-md5 http://127.0.0.1:18086/md5/
    tomcat-sha256 http://127.0.0.1:18086/sha256/
    tomcat-multi http://127.0.0.1:18086/multi/
    twisted-md5 http://127.0.0.1:18087/md5/
    twisted-md5-sess http://127.0.0.1:18087/md5-sess/
    twisted-sha http://127.0.0.1:18087/sha/
)

# Header lines of `name` ("<" received, ">" sent) in curl's verbose output, one per file.
save() {
    local dir=$1 prefix=$2 direction=$3 name=$4 log=$5 n=0
    mkdir -p "$seeds/$dir"
    { grep -i "^$direction $name: " "$log" || true; } | sed -e "s/^$direction [^:]*: //I" -e 's/\r$//' |
        while IFS= read -r value; do
            n=$((n + 1))
            printf '%s' "$value" >"$seeds/$dir/lab-$prefix-$n"
        done
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((i = 0; i < ${#urls[@]}; i += 2)); do
    name=${urls[i]} url=${urls[i + 1]}
    curl -sv --digest -u alice:s3cret -o /dev/null "$url" 2>"$log" || true
    save challenge "$name" '<' WWW-Authenticate "$log"
    save credentials "$name" '>' Authorization "$log"
    save authentication_info "$name" '<' Authentication-Info "$log"
done
curl -sv --proxy-digest -x http://127.0.0.1:18084 -U alice:s3cret -o /dev/null \
    http://127.0.0.1:18085/hello.txt 2>"$log" || true
save challenge squid '<' Proxy-Authenticate "$log"
save credentials squid '>' Proxy-Authorization "$log"
save authentication_info squid '<' Proxy-Authentication-Info "$log"
# The state-machine targets' seeds (line format, see fuzz_targets/client.rs): each lab
# challenge answered, accepted, then a preemptive request to the same space.
mkdir -p "$seeds/client"
for file in "$seeds"/challenge/lab-*; do
    name=$(basename "$file")
    info=$seeds/authentication_info/$name
    if [[ $name == lab-squid-* ]]; then
        {
            echo "b0100http://127.0.0.1:18085/hello.txt"
            echo "p$(cat "$file")"
            echo "r0 407"
            echo "r0 200"
            echo "b0100http://127.0.0.1:18085/hello.txt"
            echo "r0 200"
        } >"$seeds/client/$name"
    else
        {
            echo "b0000/digest/"
            echo "w$(cat "$file")"
            echo "r0 401"
            [[ -f $info ]] && echo "i$(cat "$info")"
            echo "r0 200"
            echo "b0000/digest/"
            echo "r0 200"
        } >"$seeds/client/$name"
    fi
done

for dir in "$seeds"/*/; do
    echo "$(basename "$dir"): $(find "$dir" -name 'lab-*' | wc -l) lab seeds"
done
