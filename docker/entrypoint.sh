#!/bin/sh
# Runs `parley` from the compiled output. On first start (`init`), generates the secrets the
# deployment shares: the XMPP component secret, the Matrix application-service registration with
# fresh as_token/hs_token, and the admin token, into /data (a volume), never into the image.
set -eu
cd /app
if [ "${1:-}" = "init" ]; then
  shift
  exec node dist/bin/parley.js docker-init --dir /data "$@"
fi
exec node dist/bin/parley.js "$@"
