#!/bin/sh
# Entrypoint of the rabbitmq container: render the definitions template with
# passwords from the environment, then hand over to the image's own entrypoint.
#
# definitions.json cannot read the environment, so it holds ${NAME} placeholders
# that this script replaces. Passwords must be URL-safe (letters, digits and
# . _ ~ -) because the same values go, unencoded, into the services' amqp://
# URLs; anything else is refused here rather than failing later as a confusing
# login error. A service password that is not set gets a random value nobody
# knows, so that the broker still starts (the test suite starts it with no
# variables at all) while that service's user cannot log in.
set -eu

TEMPLATE=${CORTESIA_DEFINITIONS_TEMPLATE:-/etc/cortesia/definitions.template.json}
OUTPUT=${CORTESIA_DEFINITIONS_FILE:-/etc/rabbitmq/definitions.json}

fail() {
    echo "render-definitions: $*" >&2
    exit 1
}

check_url_safe() { # name value
    case $2 in
        '') fail "$1 is empty" ;;
        *[!A-Za-z0-9._~-]*) fail "$1 may only contain letters, digits and . _ ~ - (it goes into amqp:// URLs)" ;;
    esac
}

random_secret() {
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

[ -r "$TEMPLATE" ] || fail "cannot read the template $TEMPLATE"

: "${RABBITMQ_ADMIN_USER:=cortesia}"
: "${RABBITMQ_ADMIN_PASSWORD:=cortesia}"
check_url_safe RABBITMQ_ADMIN_USER "$RABBITMQ_ADMIN_USER"
check_url_safe RABBITMQ_ADMIN_PASSWORD "$RABBITMQ_ADMIN_PASSWORD"
if [ "$RABBITMQ_ADMIN_PASSWORD" = cortesia ]; then
    echo "render-definitions: warning: RABBITMQ_ADMIN_PASSWORD is the test default; set it in .env for any real deployment" >&2
fi

umask 077
script="$OUTPUT.sed.$$"
tmp="$OUTPUT.tmp.$$"
trap 'rm -f "$script" "$tmp"' EXIT

# One sed substitution per placeholder. Every value was checked above: none holds
# a character special to sed or to JSON.
substitute() { # name value
    printf 's|[$]{%s}|%s|g\n' "$1" "$2" >>"$script"
}
: >"$script"
substitute RABBITMQ_ADMIN_USER "$RABBITMQ_ADMIN_USER"
substitute RABBITMQ_ADMIN_PASSWORD "$RABBITMQ_ADMIN_PASSWORD"
for service in tickets billing notify training; do
    var=$(echo "$service" | tr '[:lower:]' '[:upper:]')_RABBITMQ_PASSWORD
    eval "value=\${$var:-}"
    if [ -z "$value" ]; then
        echo "render-definitions: warning: $var is not set; user '$service' gets a random password and cannot log in" >&2
        value=$(random_secret)
    fi
    check_url_safe "$var" "$value"
    substitute "$var" "$value"
done

sed -f "$script" "$TEMPLATE" >"$tmp"
if grep -q '[$]{' "$tmp"; then
    fail "placeholders without a value in $TEMPLATE: $(grep -o '[$]{[A-Za-z0-9_]*}' "$tmp" | sort -u | tr '\n' ' ')"
fi
if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
    chown rabbitmq:rabbitmq "$tmp"
fi
mv -f "$tmp" "$OUTPUT"
rm -f "$script"
trap - EXIT
echo "render-definitions: wrote $OUTPUT" >&2

[ $# -gt 0 ] || set -- rabbitmq-server
exec docker-entrypoint.sh "$@"
