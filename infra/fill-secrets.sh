#!/bin/sh
# Give every secret left empty in an env file a random value; other lines are kept.
#   cp infra/env.example .env && sh infra/fill-secrets.sh .env
# Values are hexadecimal, so they are safe in amqp:// and postgresql:// URLs.
set -eu

file=${1:-.env}
if [ ! -f "$file" ]; then
    echo "usage: $0 [ENV_FILE]   (default .env; copy infra/env.example there first)" >&2
    exit 2
fi

secrets="CORTESIA_SECRET_KEY RABBITMQ_ADMIN_PASSWORD POSTGRES_PASSWORD
TICKETS_RABBITMQ_PASSWORD BILLING_RABBITMQ_PASSWORD NOTIFY_RABBITMQ_PASSWORD TRAINING_RABBITMQ_PASSWORD
TICKETS_DB_PASSWORD BILLING_DB_PASSWORD NOTIFY_DB_PASSWORD TRAINING_DB_PASSWORD"

umask 077
tmp=$(mktemp "$file.XXXXXX")
trap 'rm -f "$tmp" "$tmp.next"' EXIT
cp "$file" "$tmp"
for name in $secrets; do
    if grep -q "^$name=\$" "$tmp"; then
        value=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
        sed "s/^$name=\$/$name=$value/" "$tmp" >"$tmp.next"
        mv "$tmp.next" "$tmp"
        echo "$name: generated" >&2
    fi
done
mv "$tmp" "$file"
trap - EXIT
