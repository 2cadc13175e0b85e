import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type ValidationMetadata = ReturnType<Storage['getTargetValidationMetadatas']>[number];
type Grouped = Record<string, ValidationMetadata[]>;

const KEPT = Symbol('rule-lookups-kept');

/**
 * class-validator looks a class's rules up again on every validation: it filters the class's own
 * rules and then walks every class it knows (an `instanceof` each, well over a hundred DTOs here) for
 * inherited ones, then groups them by property. The rules are fixed once the classes are loaded, so
 * each lookup (per class and options) and its grouping is kept, and all are dropped whenever a rule is
 * added. The same answers, in the same order; about a tenth of a metered record's validation work.
 * Installed once per process, on the storage every copy of class-validator shares.
 */
export function keepRuleLookups(storage: Storage = getMetadataStorage()): void {
  const marked = storage as Storage & { [KEPT]?: true };
  if (marked[KEPT]) return;
  marked[KEPT] = true;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const group = storage.groupByPropertyName.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let lookups = new Map<object, Map<string, ValidationMetadata[]>>();
  let groupings = new WeakMap<ValidationMetadata[], Grouped>();

  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0000') ?? '-'}`;
    let byKey = lookups.get(target);
    if (!byKey) lookups.set(target, (byKey = new Map()));
    let found = byKey.get(key);
    if (!found) byKey.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
    return found;
  };
  storage.groupByPropertyName = (metadata) => {
    let grouped = groupings.get(metadata);
    if (!grouped) groupings.set(metadata, (grouped = group(metadata)));
    return grouped;
  };
  storage.addValidationMetadata = (metadata) => {
    lookups = new Map();
    groupings = new WeakMap();
    add(metadata);
  };
}
