CREATE OR REPLACE FUNCTION public.uuid_v7()
 RETURNS uuid
 LANGUAGE sql
AS $function$
  -- A time-ordered UUID (RFC 9562 version 7): the first 48 bits are the Unix time in milliseconds, the
  -- rest random (a version-4 UUID's bits with its version nibble turned into 7). The ids of the tables
  -- that only grow (usage records, the audit log) are made so: each new key lands at the right-hand
  -- end of its B-tree instead of on a random leaf, which keeps their inserts cheap as the tables grow
  -- (docs/money.md, "Ids in time order"). PostgreSQL 18 has uuidv7(); this is the same layout for 15+.
  -- Written in SQL so that PostgreSQL inlines it into the INSERT that uses it as a default.
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                                        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$function$;
