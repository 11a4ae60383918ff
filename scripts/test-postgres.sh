#!/usr/bin/env bash
# Runs the service and state tests against a throwaway PostgreSQL server on
# loopback, started here from Debian's postgresql package and removed after.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z $pg_bin ]]; then
  echo "PostgreSQL is not installed: run 'make postgres' first." >&2
  exit 1
fi
work=$(mktemp -d /tmp/chub-pg.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# initdb refuses to run as root, so root hands the cluster to the postgres user.
as_owner=()
if [[ $(id -u) == 0 ]]; then
  chown postgres "$work"
  as_owner=(runuser -u postgres --)
fi
stop() {
  "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT

"${as_owner[@]}" "$pg_bin/initdb" -D "$work/data" -A trust -U chub >/dev/null
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null

CHUB_TEST_DATABASE_URL="postgresql://chub@127.0.0.1:$port/postgres" \
  .venv/bin/pytest tests/services tests/state tests/test_migrations.py -q "$@"
