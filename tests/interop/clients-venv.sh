#!/usr/bin/env bash
# Create (idempotently) the venv holding the Python Digest client peers:
# requests (HTTPDigestAuth), httpx (DigestAuth), aiohttp (DigestAuthMiddleware).
# Prints the path of the venv's python on stdout.
#
#   "$(./clients-venv.sh)" clients/digest_client.py --client httpx URL USER PASS
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

VENV="$RUN_DIR/venv-clients"
REQS=(requests==2.34.2 httpx==0.28.1 aiohttp==3.14.5)

ensure_run_dir
ensure_venv "$VENV" "${REQS[@]}"
"$VENV/bin/python" -c 'import requests, httpx, aiohttp; aiohttp.DigestAuthMiddleware' \
    || die "client venv $VENV is broken; delete it and rerun"
echo "$VENV/bin/python"
