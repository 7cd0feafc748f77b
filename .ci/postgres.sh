#!/usr/bin/env bash
# Installs (if needed) and starts a local PostgreSQL from Debian's packages,
# creates the role and database the tests use, and prints the DSN.
# Used by .ci/run and by developers (`eval "$(.ci/postgres.sh)"`).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
ver=$(ls /etc/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h | grep -q "^$ver main"; then
  pg_createcluster "$ver" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$ver" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 60); do
  if su postgres -c "psql -p $port -qAtc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
su postgres -c "psql -p $port -qAt" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hookd') THEN
    CREATE ROLE hookd LOGIN SUPERUSER PASSWORD 'hookd';
  END IF;
END \$\$;
SQL
if ! su postgres -c "psql -p $port -qAtc \"select 1 from pg_database where datname='hookd'\"" | grep -q 1; then
  su postgres -c "createdb -p $port -O hookd hookd" >&2
fi
echo "export HOOKD_TEST_POSTGRES_DSN='postgres://hookd:hookd@127.0.0.1:$port/hookd?sslmode=disable'"
