#!/bin/sh
# Installs nodemailer's smtp-server, at the version package-lock.json
# pins, into tests/servers/node_modules (git-ignored) for
# nodemailer-server.js. Does nothing when that version is there already.
# Needs node 20 or later and npm, and the npm registry.
set -eu

cd "$(dirname "$0")"
for cmd in node npm; do
    command -v "$cmd" >/dev/null || {
        echo "install-node-deps.sh: $cmd is missing; as root run" \
            "apt-get install -y nodejs npm" >&2
        exit 1
    }
done
wanted=$(node -p 'require("./package-lock.json")
    .packages["node_modules/smtp-server"].version')
have=$(node -p 'try { require("./node_modules/smtp-server/package.json")
    .version } catch (e) { "none" }')
if [ "$have" != "$wanted" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
node -p '"smtp-server " + require("smtp-server/package.json").version'
