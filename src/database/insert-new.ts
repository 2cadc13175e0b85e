import type { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral, QueryDeepPartialEntity } from 'typeorm';

/**
 * Inserts `values` unless a unique key of the table already holds them (`ON CONFLICT DO NOTHING`), and
 * answers the row as stored, read back by `key`; null when the key was taken. For the rows a caller
 * names itself (a plan's id, a promotion's code, a package's id): a second create is a 409, not an
 * error of the statement.
 */
export async function insertNew<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  values: QueryDeepPartialEntity<T>,
  key: FindOptionsWhere<T>,
): Promise<T | null> {
  const primary = manager.connection.getMetadata(entity).primaryColumns[0]!.databaseName;
  const result = await manager
    .createQueryBuilder()
    .insert()
    .into(entity)
    .values(values)
    .orIgnore()
    .returning(primary)
    .execute();
  return result.raw.length > 0 ? manager.findOneBy(entity, key) : null;
}
