# PostgreSQL 15 with wal2json, for docker-compose.yml (pgtrail's source and event store).
# Built and run with docker-compose.yml on 2026-11-24 (see its header).
#
# Built on debian:12 with Debian's own postgresql-15 and postgresql-15-wal2json,
# like the pgtrail image, so the whole stack needs no image but debian:12.
# deploy/docker/postgres-entrypoint.sh does what the official postgres image's
# entrypoint does for this use: on an empty data directory, initdb (UTF-8,
# the POSTGRES_USER superuser with POSTGRES_PASSWORD, password logins over
# TCP), POSTGRES_DB, the scripts in /docker-entrypoint-initdb.d; then the
# server in the foreground with the command's -c settings.
# wal_level=logical and the slot/sender limits are set on the command line in
# docker-compose.yml; output_plugin_libraries (which must allow wal2json on
# PostgreSQL releases that have it) is set by the init script below.
FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
# postgresql-common first, so that installing the server makes no cluster of its own
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-common \
 && sed -ri 's/^#? *create_main_cluster .*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-wal2json \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql \
 && chmod 700 /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
COPY deploy/docker/initdb-wal2json.sh /docker-entrypoint-initdb.d/10-wal2json.sh
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
# SIGINT is PostgreSQL's fast shutdown: sessions (capture's) are ended, not waited for
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres"]
