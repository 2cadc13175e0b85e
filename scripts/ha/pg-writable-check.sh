#!/bin/sh
# HAProxy external check: a node takes writes only when it is a primary (not in recovery) AND it
# accepts writes (a node being promoted or demoted by pg_auto_failover is briefly read-only).
# HAProxy passes the server's address and port in HAPROXY_SERVER_ADDR / HAPROXY_SERVER_PORT.
answer=$(PGCONNECT_TIMEOUT=1 "${PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -X -q -h "$HAPROXY_SERVER_ADDR" \
  -p "$HAPROXY_SERVER_PORT" -U postgres -d postgres -tAc \
  "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'" 2>/dev/null)
[ "$answer" = "t" ]
