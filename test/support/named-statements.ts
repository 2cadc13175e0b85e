import type pg from 'pg';

/**
 * Rows of `sql` with `params` on `db`, each distinct text sent as a named statement: PostgreSQL
 * parses it once for the session instead of at every call. For the generated specs, which send the
 * same few statements tens of thousands of times on one client (about a third of their time went
 * to parsing them again). The texts must be fixed (values as parameters): each is kept by the
 * session until it ends.
 */
export function namedStatements(db: pg.ClientBase) {
  const names = new Map<string, string>();
  return async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    let name = names.get(sql);
    if (name === undefined) names.set(sql, (name = `named-${names.size}`));
    return (await db.query<T>({ name, text: sql, values: params })).rows;
  };
}
