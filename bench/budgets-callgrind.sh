#!/usr/bin/env bash
# bench/budgets-callgrind.sh [file.sql …] (after `npx nest build`; needs valgrind and PostgreSQL's
# server binaries): the PostgreSQL instructions of a take, counted by callgrind, so the figure does not
# depend on the machine's load (docs/benchmarks.md "What budgets cost the record"). A database like the
# engine loop's (bench/engine-loop.mjs with ENGINE_LOOP_BUDGETS=1: 1,000 users, each with a project
# budget and a run budget under it), migrated to this checkout's end on TEST_DATABASE_URL's server, is
# copied into a cluster of its own (initdb in a temporary directory, a Unix socket only), the SQL files
# given run on it (an edited function, say), and 22,000 takes warm it up (half without scopes, half
# naming both budgets; its counters written many times over), then a vacuum. Each count runs a
# single-user backend (`postgres --single`, fsync off) on a fresh copy of that cluster under callgrind:
# WARM takes (default 60), then TAKES more (default 300), each on another user, one self-committing
# statement a take; the count of the warm-up alone is subtracted and the rest divided by TAKES. Prints
# the instructions a take without scopes ('user take') and naming the two budgets ('budget take').
# BATCH=<n> (default 1): each take carries n events of n consecutive users, as records that arrive
# together do, and the figure a take is divided by n too ('an event').
# KINDS='<kind> …' (default 'user budget'): the takes counted, of these kinds: `user` and `budget`
# above; `member`, a take of BATCH members' events of the 5 organisations of 40 (member m = (a + k) %
# 200 + 1 of organisation (m - 1) / 40 + 1; each member has a daily limit, read and counted); and the
# record route's whole statement (queries/usage/record.sql, its parameters made in the statement)
# carrying BATCH records: `record` (users'), `record-budget` (users' naming both budgets) and
# `record-member` (members' charging their organisation), so what the records' INSERT and the
# statement around the take cost is counted too; `record-key`, users' records each with an
# Idempotency-Key (queries/usage/record-key.sql: the keys claimed, the answers stored).
# CALLGRIND_KEEP=<dir> keeps the callgrind files (`callgrind_annotate --inclusive=yes` shows where
# the instructions go).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
WARM=${WARM:-60}
TAKES=${TAKES:-300}
BATCH=${BATCH:-1}
KINDS=${KINDS:-user budget}
WORK=$(mktemp -d /tmp/budgets-callgrind.XXXXXX)
PORT=${CALLGRIND_PORT:-5617}
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL (the server the seeded database is made on)}"
# PostgreSQL refuses to run as root: as root, its processes run as the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
trap 'as_pg "$BIN/pg_ctl" -D "$WORK/base" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -U postgres)

# The seeded database on TEST_DATABASE_URL's server, dumped and dropped.
URL=$(cd "$ROOT" && node --input-type=module -e "
  import { seedBudgets } from './bench/budgets.mjs';
  import { engineScratch } from './bench/engine-scratch.mjs';
  import { seedUsers } from './bench/lib.mjs';
  import { seedOrgs } from './bench/orgs.mjs';
  const { scratch, client } = await engineScratch('budgets_callgrind', 0);
  await seedUsers(client, 1000, 1_000_000_000);
  await seedOrgs(client, { orgs: 5, members: 40, credits: 1_000_000_000 });
  await seedBudgets(client, Array.from({ length: 1000 }, (_, k) => 'bench-' + (k + 1)));
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
for file in "$@"; do "${PSQL[@]}" -d bench -f "$file" >/dev/null; done
ORG0=$("${PSQL[@]}" -d bench -At -c "SELECT min(account_id) FROM accounts WHERE kind = 'org'") # bench-org-1's, then 2…5
# The record route's statement as it is sent, its parameters left as @NAME@ (the events, their accounts
# and their writers) and the rest as the route passes them for a JWT: no key, no rate default.
sql_of() { node -e "
  const fs = require('node:fs');
  const text = fs.readFileSync('$ROOT/queries/usage/'+process.argv[1], 'utf8').split('\\n')
    .filter((line) => !line.trimStart().startsWith('--')).map((line) => line.replace(/\\s--\\s.*$/, '')).join(' ');
  const params = { '\$1::varchar': \"'bench'::varchar\", '\$2::jsonb': '(@EVENTS@)', '\$3::uuid': 'NULL::uuid',
    '\$4::int': 'NULL::int', '\$5::int[]': \"'{1000,10,0}'::int[]\", '\$6::bigint[]': '(@ACCOUNTS@)', '\$7::varchar[]': '(@WRITERS@)',
    '\$8::int[]': '(@AMOUNTS@)', '\$9::uuid[]': '(@RECORDS@)', '\$10::varchar[]': '(@MEMBERS@)', '\$11::jsonb[]': 'NULL::jsonb[]',
    '\$12::jsonb[]': '(@SCOPES@)' };
  let sql = text;
  for (const [p, v] of Object.entries(params)) sql = sql.split(p).join(v);
  if (/\\\$[0-9]/.test(sql)) throw new Error(process.argv[1] + ' has a parameter this script does not know');
  // pgbench reads every ':name' as a variable, in literals too: to_char()'s 'HH24:MI:SS' as 'HH24\":\"MI\":\"SS' (the same text out).
  sql = sql.split('HH24:MI:SS').join('HH24\":\"MI\":\"SS');
  console.log(sql.replace(/\\s+/g, ' ').trim());" "$1"; }
RECORD_SQL=$(sql_of record.sql)
# The statement of records with an Idempotency-Key each (kind `record-key`).
KEY_SQL=$(sql_of record-key.sql)

series="generate_series(0, $((BATCH - 1))) g"
# A record statement of BATCH events from position $2: users' (account $2 + g, user bench-($2 + g - 1))
# or members' (member m = ($2 + g) % 200 + 1 of its organisation), with the event fields the route sends.
record() { # kind, position expression
  local m="((($2::bigint + g) % 200) + 1)" u="($2::bigint + g - 1)" ev ac wr fields=''
  if [ "$1" = record-member ]; then
    ac="ARRAY(SELECT $ORG0 + ($m - 1) / 40 FROM $series ORDER BY g)"; u=$m
    fields=", 'org_id', 'bench-org-' || (($m - 1) / 40 + 1)"
  else
    ac="ARRAY(SELECT $2::bigint + g FROM $series ORDER BY g)"
  fi
  [ "$1" = record-budget ] &&
    fields=", 'scopes', '{\"project\":\"bench-p\",\"run\":\"bench-r\"}'::jsonb, 'scope_project', 'bench-p', 'scope_run', 'bench-r'"
  # record-key: each record with an Idempotency-Key of its own, as the interceptor hands it (a fresh key,
  # its lock id, the request's fingerprint) and beside it the answer's template as answerTemplate() makes it
  # (no `:name` in a literal: pgbench would read it as a variable).
  [ "$1" = record-key ] &&
    fields=", 'idem', jsonb_build_object('principal', 'user:' || 'bench-' || $u, 'key', gen_random_uuid()::text,
      'lock', (random() * 9e18)::bigint::text, 'fingerprint', md5(random()::text) || md5(random()::text),
      'path', '/api/usage/record', 'status', 201), 'answer', jsonb_build_object('id', gen_random_uuid(),
      'userId', 'bench-' || $u, 'service', 'bench', 'operation', 'op', 'modelId', NULL, 'tokens', NULL,
      'inputTokens', NULL, 'outputTokens', NULL, 'cacheReadTokens', NULL, 'cacheWriteTokens', NULL,
      'reasoningTokens', NULL, 'pricingRuleId', NULL, 'priceSource', NULL, 'billingStatus', 'billed',
      'reviewStatus', NULL, 'usageSource', 'reported', 'termination', NULL, 'apiKeyId', NULL, 'actorId', NULL,
      'orgId', NULL, 'accountPriceId', NULL, 'serviceTier', NULL, 'units', NULL)"
  # Each record's id made of the take's transaction id and its place, so the take's own arrays (the
  # statement of records that claim nothing passes them as they are) name the same ids as the events.
  local id="(lpad(to_hex(txid_current()), 20, '0') || lpad(to_hex(g), 12, '0'))::uuid"
  ev="SELECT jsonb_agg(jsonb_build_object('id', $id, 'user_id', 'bench-' || $u, 'service', 'bench', 'operation', 'op', 'credits', 1$fields) ORDER BY g) FROM $series"
  wr="ARRAY(SELECT ('bench-' || $u)::varchar FROM $series ORDER BY g)"
  local mb="array_fill(NULL::varchar, ARRAY[$BATCH])" sc='NULL::jsonb[]'
  [ "$1" = record-member ] && mb=$wr
  [ "$1" = record-budget ] && sc="array_fill('{\"project\":\"bench-p\",\"run\":\"bench-r\"}'::jsonb, ARRAY[$BATCH])"
  local sql=$RECORD_SQL
  [ "$1" = record-key ] && sql=$KEY_SQL
  sql=${sql//@EVENTS@/$ev}; sql=${sql//@ACCOUNTS@/$ac}; sql=${sql//@AMOUNTS@/array_fill(1, ARRAY[$BATCH])}
  sql=${sql//@RECORDS@/ARRAY(SELECT $id FROM $series ORDER BY g)}; sql=${sql//@MEMBERS@/$mb}; sql=${sql//@SCOPES@/$sc}
  echo "${sql//@WRITERS@/$wr};"
}
take() { # kind, account id expression: the engine loop's statement, a take of BATCH events
  local scopes=''
  case "$1" in
    record*) record "$@"; return ;;
    member) # BATCH members' events, each charging its organisation
      echo "SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY(SELECT $ORG0 + ((($2::bigint + g) % 200) / 40) FROM $series ORDER BY g), array_fill(1, ARRAY[$BATCH]), array_fill(NULL::uuid, ARRAY[$BATCH]), ARRAY(SELECT ('bench-' || (($2::bigint + g) % 200 + 1))::varchar FROM $series ORDER BY g));"
      return ;;
  esac
  if [ "$BATCH" = 1 ]; then
    [ "$1" = budget ] && scopes=", p_scopes => ARRAY['{\"project\":\"bench-p\",\"run\":\"bench-r\"}'::jsonb]"
    echo "SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY[$2::bigint], ARRAY[1], ARRAY[NULL::uuid], ARRAY[NULL::varchar]$scopes);"
  else
    # BATCH consecutive users (a records' statement of that many users' records)
    [ "$1" = budget ] && scopes=", p_scopes => array_fill('{\"project\":\"bench-p\",\"run\":\"bench-r\"}'::jsonb, ARRAY[$BATCH])"
    echo "SELECT * FROM credits_take_events('bench', NULL, NULL, '{1000,10,0}', ARRAY(SELECT g::bigint FROM generate_series($2::bigint, $2::bigint + $((BATCH - 1))) g), array_fill(1, ARRAY[$BATCH]), array_fill(NULL::uuid, ARRAY[$BATCH]), array_fill(NULL::varchar, ARRAY[$BATCH])$scopes);"
  fi
}
for kind in $KINDS; do
  { echo "\\set a random(2, $((1002 - BATCH)))"; take "$kind" ':a'; } > "$WORK/$kind.pgb"
done
pgbench -h "$WORK" -p "$PORT" -U postgres -n -M prepared -c 1 -t 22000 $(for kind in $KINDS; do printf -- '-f %s ' "$WORK/$kind.pgb"; done) bench >/dev/null
"${PSQL[@]}" -d bench -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
as_pg "$BIN/pg_ctl" -D "$WORK/base" -w stop >/dev/null

count() { # kind, takes after the warm-up: instructions of the whole single-user run
  local dir="$WORK/run-$1-$2"
  cp -a "$WORK/base" "$dir"
  {
    take "$1" '$1' | sed -E 's/^(SELECT|WITH)/PREPARE t(bigint) AS \1/'
    echo
    # each on another of the 1,000 users (account ids 2 to 1001)
    for ((i = 0; i < WARM + $2; i++)); do printf 'EXECUTE t(%d);\n\n' $(((i * 7919) % (1001 - BATCH) + 2)); done
  } > "$dir.in"
  as_pg valgrind --tool=callgrind --callgrind-out-file="$dir.cg" --dump-instr=no \
    "$BIN/postgres" --single -D "$dir" -F -j -c autovacuum=off bench < "$dir.in" > "$dir.out" 2> "$dir.err"
  if grep -q ERROR "$dir.out" "$dir.err"; then grep -h -m3 ERROR "$dir.out" "$dir.err" >&2; exit 1; fi
  [ -n "${CALLGRIND_KEEP:-}" ] && cp "$dir.cg" "$CALLGRIND_KEEP/budgets-$1-$2.cg"
  grep -E '^(summary|totals):' "$dir.cg" | head -1 | awk '{print $2}'
}
for kind in $KINDS; do
  warm=$(count "$kind" 0)
  all=$(count "$kind" "$TAKES")
  printf '%s take: %d instructions (%d an event)\n' "$kind" $(((all - warm) / TAKES)) $(((all - warm) / TAKES / BATCH))
done
