/** Types of sql-references.mjs, for test/unit/structure.spec.ts. */
export function sqlOwners(root: string): { tables: Map<string, string>; functions: Map<string, string> };
export function sqlGraph(root: string): Map<string, string[]>;
