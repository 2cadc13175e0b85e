/**
 * Migrations that change a few statements of credits_take_events() rewrite it in place from its current
 * definition (pg_get_functiondef) instead of restating all of it; each fragment must be found exactly
 * once, so a definition that is not the expected one stops the migration. Replaces each `from` with its `to`.
 */
export function rewriteTakeEvents(rewrites: [string, string][]): string {
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const steps = rewrites
    .map(
      ([from, to]) => `
      IF array_length(string_to_array(def, ${literal(from)}), 1) <> 2 THEN
        RAISE EXCEPTION 'credits_take_events() does not contain % exactly once', ${literal(from)};
      END IF;
      def := replace(def, ${literal(from)}, ${literal(to)});`,
    )
    .join('');
  return `
    DO $$
    DECLARE
      def text := pg_get_functiondef(
        'credits_take_events(varchar, varchar, uuid, integer, integer[], jsonb)'::regprocedure);
    BEGIN ${steps}
      EXECUTE def;
    END $$`;
}
