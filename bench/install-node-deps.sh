#!/bin/bash
# Installs nodemailer, at the version package.json pins, into
# bench/node_modules for nodemailer-bench.js. Needs node 20 or later.
set -euo pipefail

cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
    echo "install-node-deps.sh: npm is missing; as root run" \
         "apt-get install -y nodejs npm" >&2
    exit 1
fi
if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
else
    npm install --no-audit --no-fund
fi
node -p '"nodemailer " + require("nodemailer/package.json").version'
