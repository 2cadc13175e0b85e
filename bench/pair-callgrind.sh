#!/usr/bin/env bash
# bench/pair-callgrind.sh [file.sql …] (after `npx nest build`; needs valgrind and PostgreSQL's server
# binaries): the PostgreSQL instructions of a streaming pair, counted by callgrind, so the figure does
# not depend on the machine's load (docs/benchmarks.md "Where the streaming pair's time went"). The two
# statements are the ones the service sends, read from their snapshots (queries/streaming-sessions/
# initialize.sql and settle.sql, kept equal to the code by test/queries.e2e-spec.ts), with the values
# bench/pair.mjs's requests give them (a user of 1,000, 2,000 tokens estimated, 1,500 used). A database
# of 1,000 bench users migrated to this checkout's end on TEST_DATABASE_URL's server is copied into a
# cluster of its own (initdb in a temporary directory, a Unix socket only), 6,000 pairs warm it up, then
# a vacuum; the SQL files given (an edited function, a migration's statements) run on a copy of it. Each
# count runs a single-user backend (`postgres --single`, fsync off) on a fresh copy of that copy under
# callgrind: WARM pairs
# (default 60), then PAIRS more (default 300), each on another user, each statement self-committing; the
# count of the warm-up alone is subtracted and the rest divided by PAIRS. BATCH=<k> (default 1; WARM and
# PAIRS multiples of it) sends k initializes in one statement and then their k finalizes in one, as the
# service does with requests that arrive together (at 32 connections, about ten a statement). PAIR_PART=settle counts instead
# the settle statement alone: after the warm-up, PAIRS settlements of sessions that do not exist (its
# start-up and its plan's run, nothing settled). CALLGRIND_KEEP=<dir> keeps the callgrind files
# (callgrind_annotate them for where the instructions go); PAIR_CALLGRIND_WORK=<dir> keeps the seeded
# cluster there for the next run. PAIR_ROUTE=gateway counts the gateway's pair instead: a lone hold
# that checks its key (initialize-if-key.sql, one API key a user) and the settlement nobody waits for
# (settle-unwaited.sql), one request at a time (BATCH=1), as bench/gateway.mjs's requests send them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
WARM=${WARM:-60}
BATCH=${BATCH:-1}
PAIRS=${PAIRS:-300}
WORK=${PAIR_CALLGRIND_WORK:-$(mktemp -d /tmp/pair-callgrind.XXXXXX)}
PORT=${CALLGRIND_PORT:-5618}
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL (the server the seeded database is made on)}"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
# PAIR_CALLGRIND_WORK=<dir>: the seeded cluster kept there and used again by the next run with it.
if [ -n "${PAIR_CALLGRIND_WORK:-}" ]; then
  trap 'as_pg "$BIN/pg_ctl" -D "$WORK/base" -m immediate stop >/dev/null 2>&1 || true; as_pg "$BIN/pg_ctl" -D "$WORK/run-base" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"/run-*' EXIT
else
  trap 'as_pg "$BIN/pg_ctl" -D "$WORK/base" -m immediate stop >/dev/null 2>&1 || true; as_pg "$BIN/pg_ctl" -D "$WORK/run-base" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
fi
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres)

ROUTE=${PAIR_ROUTE:-pair}
if [ "$ROUTE" = gateway ]; then HOLD=initialize-if-key SETTLE=settle-unwaited; else HOLD=initialize SETTLE=settle; fi
[ "$ROUTE" != gateway ] || [ "$BATCH" = 1 ] || { echo 'PAIR_ROUTE=gateway counts requests one at a time: BATCH=1' >&2; exit 1; }
statement() { grep -v '^--' "$ROOT/queries/streaming-sessions/$1.sql"; }
prepare() { # the two statements, prepared as the service prepares them
  printf 'PREPARE i AS %s;\n\n' "$(statement "$HOLD" | tr '\n' ' ')"
  printf 'PREPARE s AS %s;\n\n' "$(statement "$SETTLE" | tr '\n' ' ')"
}
key_of() { printf 'c0000000-0000-4000-8000-%012d' "$1"; } # user number: the user's API key
gateway_hold() { # pair number, user number: bench/gateway.mjs's hold of one request, through the user's key
  local sid key
  sid=$(printf 'gateway-b0000000-0000-4000-8000-%012d' "$1") # settle_item's session id, prefixed
  key=$(key_of "$2")
  printf "EXECUTE i(%d, 2, '%s', 'bench-%d', '%s', NULL, '{100}', NULL, NULL, '%s', 'bench-%d', '%s', 124, 1, 2, '2026-11-27 20:39:50.691+00', '2026-11-27 21:39:50.691+00', '%s', 24, 100, 0, 0, 0, 'bench-%d', '%s', NULL, NULL, 'auto', NULL, '{\"service\": \"gateway\", \"metadata\": {\"gateway\": {\"route\": \"/v1/chat/completions\", \"reason\": \"expired\", \"status\": 0, \"upstream\": \"bench\"}}}', '%s', '{usage:ingest}', NULL);\n\n" \
    $(($2 + 1)) "$sid" "$2" "$key" "$sid" "$2" "$MODEL" "$RULE" "$2" "$key" "$key"
}
hold_item() { # position in the batch, pair number, user number (1 to 1,000): bench/pair.mjs's initialize
  printf '{"ord": %d, "account_id": %d, "amount": 2, "session_id": "b0000000-0000-4000-8000-%012d", "created_by": "bench-meter", "member": null, "scopes": null, "user_id": "bench-%d", "model_id": "%s", "estimated_tokens": 2000, "estimated_credits": 1, "allocated_credits": 2, "started_at": "2026-11-27 20:39:50.691+00", "expires_at": "2026-11-27 21:39:50.691+00", "pricing_rule_id": "%s", "opened_by": "bench-meter"}' \
    "$1" $(($3 + 1)) "$2" "$3" "$MODEL" "$RULE"
}
settle_item() { # position in the batch, pair number, user number[, session id prefix, caller's key]: bench/pair.mjs's finalize
  local sid rid key=${5:+\"$5\"}
  sid=$(printf '%sb0000000-0000-4000-8000-%012d' "${4:-}" "$2")
  rid=$(printf '01a21ebc-0000-7000-8000-%012d' "$2")
  printf '{"ord": %d, "session_id": "%s", "user_id": "bench-%d", "price_input_tokens": 1500, "price_output_tokens": 0, "price_cache_read_tokens": 0, "price_cache_write_tokens": 0, "price_reasoning_tokens": 0, "caller_id": "bench-meter", "caller_key": %s, "price_tier": null, "price_units": null, "total": 1500, "created_by": "bench-meter", "usage_record_id": "%s", "status": "completed", "settled_at": "2026-11-27 20:39:50.691+00", "actual_tokens": 1500, "request": {"kind": "finalize", "units": null, "format": null, "tokens": 1500, "success": true, "inputTokens": null, "serviceTier": null, "termination": null, "outputTokens": null, "cacheReadTokens": null, "reasoningTokens": null, "cacheWriteTokens": null}, "record_id": "%s", "record_service": "chat-streaming", "record_tokens": 1500, "record_metadata": {"tokens": 1500, "sessionId": "%s"}, "record_input_tokens": null, "record_output_tokens": null, "record_cache_read_tokens": null, "record_cache_write_tokens": null, "record_reasoning_tokens": null, "record_usage_source": "reported", "record_termination": null, "record_provider_usage": null, "record_service_tier": null, "record_units": null}' \
    "$1" "$sid" "$3" "${key:-null}" "$rid" "$rid" "$sid"
}
# initialize.sql: the statement of initializations that arrive together (key, rate, thresholds, then
# each session's hold and row as jsonb); settle.sql: the statement of finalizes that arrive together
# (rate, thresholds, each finalize's row as jsonb, the fallback price, a volume give-back's days).
initialize() { printf "EXECUTE i(NULL, NULL, '{100}', '[%s]');\n\n" "$1"; }
settle() { printf "EXECUTE s(NULL, '{100}', '[%s]', NULL, 30);\n\n" "$1"; }
pairs() { # first pair number, count: BATCH initializes in a statement, then their BATCH finalizes in one
  local i j user holds settles
  for ((i = $1; i < $1 + $2; i += BATCH)); do
    holds='' settles=''
    for ((j = 0; j < BATCH; j++)); do
      user=$((((i + j) * 7919) % 1000 + 1))
      holds="$holds${holds:+, }$(hold_item $((j + 1)) $((i + j)) "$user")"
      settles="$settles${settles:+, }$(settle_item $((j + 1)) $((i + j)) "$user")"
    done
    if [ "$ROUTE" = gateway ]; then
      gateway_hold "$i" "$user"
      settle "$(settle_item 1 "$i" "$user" gateway- "$(key_of "$user")")"
    else
      initialize "$holds"
      settle "$settles"
    fi
  done
}
MODEL='anthropic.claude-3-haiku-20240307-v1:0'

if [ ! -d "$WORK/base" ]; then
  URL=$(cd "$ROOT" && node --input-type=module -e "
    import { engineScratch } from './bench/engine-scratch.mjs';
    import { seedUsers } from './bench/lib.mjs';
    const { scratch, client } = await engineScratch('pair_callgrind', 0);
    await seedUsers(client, 1000, 1_000_000_000);
    await client.query('ANALYZE');
    await client.end();
    console.log(scratch.databaseUrl);" | tail -1)
  pg_dump -Fc "$URL" > "$WORK/seed.dump"
  psql -X -q "${URL%/*}/postgres" -c "DROP DATABASE \"${URL##*/}\""
  as_pg "$BIN/initdb" -D "$WORK/base" -U postgres -A trust >/dev/null
  as_pg "$BIN/pg_ctl" -D "$WORK/base" -l "$WORK/base.log" -w \
    -o "-p $PORT -k $WORK -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  "${PSQL[@]}" -d postgres -c 'CREATE DATABASE bench'
  pg_restore -h "$WORK" -p "$PORT" -U postgres -d bench "$WORK/seed.dump"
  "${PSQL[@]}" -d bench -c "INSERT INTO api_keys (id, user_id, name, key_hash, prefix, permissions)
    SELECT ('c0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'bench-' || n, 'bench', sha256(n::text::bytea), 'bench', '{gateway}'
      FROM generate_series(1, 1000) n"
  RULE=$("${PSQL[@]}" -d bench -Atc "SELECT id FROM pricing_rules WHERE model_id = '$MODEL' ORDER BY effective_from DESC LIMIT 1")
  echo "$RULE" > "$WORK/rule"
  { prepare; pairs 1000000 6000; } | sed '/^$/d' > "$WORK/warm.sql"
  "${PSQL[@]}" -d bench -f "$WORK/warm.sql" >/dev/null
  "${PSQL[@]}" -d bench -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
  as_pg "$BIN/pg_ctl" -D "$WORK/base" -w stop >/dev/null
fi
RULE=$(cat "$WORK/rule")
# The SQL files given (an edited function, say), run on a copy of the warmed cluster.
cp -a "$WORK/base" "$WORK/run-base"
if [ $# -gt 0 ]; then
  as_pg "$BIN/pg_ctl" -D "$WORK/run-base" -l "$WORK/run-base.log" -w \
    -o "-p $PORT -k $WORK -c listen_addresses= -c fsync=off" start >/dev/null
  for file in "$@"; do "${PSQL[@]}" -d bench -f "$file" >/dev/null; done
  "${PSQL[@]}" -d bench -c 'CHECKPOINT'
  as_pg "$BIN/pg_ctl" -D "$WORK/run-base" -w stop >/dev/null
fi

unsettled() { # count: the settle statement for sessions that do not exist (its start-up, nothing settled)
  for ((k = 0; k < $1; k++)); do
    settle "$(settle_item 1 $((9000000 + k)) $((k % 1000 + 1)))"
  done
}
count() { # pairs after the warm-up: instructions of the whole single-user run
  local dir="$WORK/run-$1"
  cp -a "$WORK/run-base" "$dir"
  if [ "${PAIR_PART:-}" = settle ]; then
    { prepare; pairs 1 "$WARM"; unsettled "$1"; } > "$dir.in"
  else
    { prepare; pairs 1 $((WARM + $1)); } > "$dir.in"
  fi
  as_pg valgrind --tool=callgrind --callgrind-out-file="$dir.cg" --dump-instr=no \
    "$BIN/postgres" --single -D "$dir" -F -j -c autovacuum=off bench < "$dir.in" > "$dir.out" 2> "$dir.err"
  if grep -q ERROR "$dir.out" "$dir.err"; then grep -h -m3 ERROR "$dir.out" "$dir.err" >&2; exit 1; fi
  [ -n "${CALLGRIND_KEEP:-}" ] && cp "$dir.cg" "$CALLGRIND_KEEP/pair-$1.cg"
  grep -E '^(summary|totals):' "$dir.cg" | head -1 | awk '{print $2}'
}
warm=$(count 0)
all=$(count "$PAIRS")
if [ "${PAIR_PART:-}" = settle ]; then
  printf 'settle statement alone (no session): %d instructions\n' $(((all - warm) / PAIRS))
else
  printf 'pair: %d instructions\n' $(((all - warm) / PAIRS))
fi
