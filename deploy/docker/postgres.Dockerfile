# PostgreSQL 15 with wal2json, for docker-compose.yml (pgtrail's source and event store).
#
# The postgres:15-bookworm image already installs PostgreSQL from apt.postgresql.org,
# so postgresql-15-wal2json comes from the same repository.
# wal_level=logical and the slot/sender limits are set on the command line in
# docker-compose.yml; output_plugin_libraries (which must allow wal2json on
# PostgreSQL releases that have it) is set by the init script below.
FROM postgres:15-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15-wal2json \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/initdb-wal2json.sh /docker-entrypoint-initdb.d/10-wal2json.sh
