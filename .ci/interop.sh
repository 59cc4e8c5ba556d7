#!/usr/bin/env bash
# interop.sh installs every interop peer on a clean Debian machine (as root)
# and runs the interop matrix in interop/. With CI=true a peer that is
# missing fails its test instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# chromium: the browser peer; libnss3-tools: certutil, which puts the test
# CA in the NSS database chromium reads; python3-websockets: the Python
# peer, run with Debian's /usr/bin/python3.
apt-get install -y -q --no-install-recommends chromium libnss3-tools python3 python3-websockets
# The machine image ships Node with npm; Debian's npm conflicts with that
# build, so it is installed only where no npm exists.
command -v npm >/dev/null || apt-get install -y -q --no-install-recommends nodejs npm

(cd interop/node && npm ci --no-audit --no-fund)

cd interop
export CI="${CI:-true}"
go test -race -count=1 -timeout 20m ./...
