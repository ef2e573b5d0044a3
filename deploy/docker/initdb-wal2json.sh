#!/usr/bin/env bash
# Runs once, when the postgres image initializes an empty data directory.
#
# PostgreSQL releases from 2026 (back-patched to 14) refuse output plugins not
# listed in output_plugin_libraries (default 'pgoutput, test_decoding'); older
# ones do not know the setting and refuse to start when it is set. So: set it
# only when this server has it. The image restarts the server after the init
# scripts, so the ALTER SYSTEM takes effect before pgtrail-capture connects.
#
# A data directory initialized by an older server and later run by a newer one
# needs the same line once by hand:
#   ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, wal2json;
set -euo pipefail
has=$(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -Atc \
    "SELECT count(*) FROM pg_settings WHERE name = 'output_plugin_libraries'")
if [ "$has" = 1 ]; then
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c \
        "ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, wal2json"
    echo "initdb-wal2json: output_plugin_libraries now allows wal2json"
else
    echo "initdb-wal2json: this server has no output_plugin_libraries; wal2json is allowed as is"
fi
