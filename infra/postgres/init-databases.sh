#!/bin/bash
# One role and one database per Cortesia service, each role owning only its own
# database, which no other role may connect to.
#
# The postgres image runs this once, on the first start with an empty data
# volume. It is idempotent, so after changing a password in .env apply it with:
#   docker compose up -d postgres   # (re)creates the container with the new env
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-init-databases.sh
#
# Passwords come from <SERVICE>_DB_PASSWORD (e.g. TICKETS_DB_PASSWORD). A role
# whose password is not set keeps the one it has; created without one, it
# cannot log in until it is set. Passwords go unencoded into postgresql:// URLs, so keep them URL-safe
# (letters, digits and . _ ~ -).
#
# Written to work both executed and sourced (the image sources *.sh files that
# are not executable): no `exit`, no `set -u`, names prefixed with cortesia_.
set -eo pipefail

cortesia_init_service_database() { # service password
    local service=$1 password=$2
    case $password in
        '')
            echo "init-databases: warning: ${service^^}_DB_PASSWORD is not set; role '$service' keeps its password (none if new: it cannot log in)" >&2 ;;
        *[!A-Za-z0-9._~-]*)
            echo "init-databases: warning: ${service^^}_DB_PASSWORD has characters that must be percent-encoded in a URL" >&2 ;;
    esac
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
        --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
        --set=service="$service" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'service')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'service')
\gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'service', :'password')
 WHERE :'password' <> ''
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'service', :'service')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'service')
\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'service')
\gexec
SQL
    echo "init-databases: database '$service' owned by role '$service'" >&2
}

for cortesia_service in tickets billing notify training; do
    cortesia_password_var="${cortesia_service^^}_DB_PASSWORD"
    cortesia_init_service_database "$cortesia_service" "${!cortesia_password_var:-}"
done
unset cortesia_service cortesia_password_var
