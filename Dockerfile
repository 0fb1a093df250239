# One image for every Cortesia service; docker-compose.yml picks the process:
#   cortesia serve <service> | cortesia worker <service> | cortesia migrate
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CORTESIA_DATA=/data

# DejaVu fonts: invoices as PDF carry any customer's name, not only Latin-1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a fixed uid, and the data directory it owns (a named
# volume mounted on /data starts with this ownership).
RUN groupadd --system --gid 10001 cortesia \
 && useradd --system --uid 10001 --gid cortesia --create-home --home-dir /home/cortesia \
        --shell /usr/sbin/nologin cortesia \
 && install -d -o cortesia -g cortesia -m 0750 /data

# Only what the package is built from (README.md is optional, hence the wildcard).
WORKDIR /src
COPY pyproject.toml README.md* ./
COPY cortesia ./cortesia
COPY shared ./shared
COPY services ./services
# Every dependency ships a manylinux wheel, so no compiler is needed; the sources
# are removed once installed so that only the installed package is ever imported.
RUN pip install --no-cache-dir . \
 && rm -rf /src

WORKDIR /home/cortesia
# Numeric, so that runtimes can check it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
CMD ["cortesia", "--help"]
