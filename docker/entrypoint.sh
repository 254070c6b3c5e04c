#!/bin/sh
# The image's entry point: runs `parley` from the compiled output.
#   init [OPTIONS]   first start (the compose file's parley-init service): `parley docker-init`
#                    generates the shared secrets, the Matrix registration, parley.yaml and a
#                    Synapse config into the volumes; it never overwrites an existing file.
#   anything else    passed to `parley` (start, doctor, config check, dlq, …).
set -eu
cd /app
if [ "${1:-}" = "init" ]; then
  shift
  exec node dist/bin/parley.js docker-init --dir /data "$@"
fi
exec node dist/bin/parley.js "$@"
