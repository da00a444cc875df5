#!/usr/bin/env bash
# The official Mustache spec, file by file, against the C renderer.
set -u
cd "$(dirname "$0")/../.."
psql -X -q -U postgres -d postgres -c "DROP DATABASE IF EXISTS ts_mustache" -c "CREATE DATABASE ts_mustache" >/dev/null 2>&1
psql -X -q -U postgres -d ts_mustache -c "CREATE EXTENSION troubleshooting" >/dev/null || exit 1
TS_DB=ts_mustache python3 test/cluster/mustache_spec.py
rc=$?
psql -X -q -U postgres -d postgres -c "DROP DATABASE ts_mustache" >/dev/null
exit $rc
