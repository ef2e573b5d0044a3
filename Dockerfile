# pgtrail image: the three programs on Debian 12, run as a non-root user.
#
#   docker build -t pgtrail:latest .
#   docker run --rm -e PGTRAIL_SOURCE_DSN=postgres://... pgtrail:latest
#   docker run --rm --entrypoint pgtrail-verify pgtrail:latest --help
#
# Built and run on 2026-11-24 (docker 20.10) from a locally made debian:12
# (debootstrap --variant=minbase bookworm + docker import; no Docker Hub here):
# the three programs run as uid 10001, and capture ran in docker-compose.yml
# against deploy/docker/postgres.Dockerfile (see that file's header; Kafka not run).
#
# Stage 1 builds with Debian's -dev packages (libcmocka-dev only because the
# project's configure step requires it for the tests; no test is built here).
# Stage 2 carries only the runtime libraries.

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        gcc make cmake pkg-config \
        libpq-dev librdkafka-dev libssl-dev libjsmn-dev libmicrohttpd-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" --target pgtrail-capture pgtrail-replay pgtrail-verify \
 && strip --strip-debug /build/bin/pgtrail-capture /build/bin/pgtrail-replay /build/bin/pgtrail-verify

FROM debian:12
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpq5 librdkafka1 libssl3 libmicrohttpd12 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 pgtrail \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pgtrail \
 && mkdir -p /etc/pgtrail /var/lib/pgtrail-anchor \
 && chown 10001:10001 /var/lib/pgtrail-anchor
COPY --from=build /build/bin/pgtrail-capture /build/bin/pgtrail-replay /build/bin/pgtrail-verify /usr/local/bin/
COPY config/pgtrail.conf.example /etc/pgtrail/pgtrail.conf.example
# the anchor file (PGTRAIL_CAPTURE_ANCHOR_FILE) belongs on a volume here;
# a new named volume takes this directory's owner (uid 10001)
VOLUME ["/var/lib/pgtrail-anchor"]
USER 10001:10001
ENTRYPOINT ["pgtrail-capture"]
