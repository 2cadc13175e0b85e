import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Going back through ErasureByAccount1732001100000: its down() re-creates json_mentions() before
 * json_erase(), and json_mentions() is a SQL function whose body names json_erase(), so PostgreSQL
 * refuses it while json_erase() is missing. That migration has landed and keeps its bytes; its down()
 * works once json_erase() exists, so this down() re-creates json_erase() with the text that down()
 * gives it (it replaces it with the same). Forward, nothing changes: json_erase() is already gone, so
 * up() drops it only if a down() left it.
 */
export class ErasureDownKeepsJsonEraseFirst1732004000000 implements MigrationInterface {
  name = 'ErasureDownKeepsJsonEraseFirst1732004000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS json_erase(doc jsonb, p_email text, p_username text)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION public.json_erase(doc jsonb, p_email text, p_username text)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
      -- A person taken out of a JSON document (an erasure, docs/erasure.md): every string equal to the
      -- username, or holding the email (in any case), becomes null, at any depth; objects and arrays keep
      -- their shape and keys. Null email or username: that part matches nothing.
      BEGIN
        CASE jsonb_typeof(doc)
          WHEN 'object' THEN
            RETURN (SELECT COALESCE(jsonb_object_agg(e.key, json_erase(e.value, p_email, p_username)), '{}'::jsonb)
                      FROM jsonb_each(doc) e);
          WHEN 'array' THEN
            RETURN (SELECT COALESCE(jsonb_agg(json_erase(a.value, p_email, p_username) ORDER BY a.ord), '[]'::jsonb)
                      FROM jsonb_array_elements(doc) WITH ORDINALITY a(value, ord));
          WHEN 'string' THEN
            IF doc #>> '{}' = p_username OR strpos(lower(doc #>> '{}'), lower(p_email)) > 0 THEN
              RETURN 'null'::jsonb;
            END IF;
            RETURN doc;
          ELSE
            RETURN doc;
        END CASE;
      END $function$`);
  }
}
