/**
 * The run's database of the first `k` migrations (migration-database.ts makes it when a migration spec
 * first asks; global-setup.ts drops every one of them with the run's database).
 */
export const prefixTemplateName = (runDatabase: string, k: number) => `${runDatabase}_at_${k}`;

/** What the names of all of the run's databases of the first migrations begin with. */
export const prefixTemplatesOf = (runDatabase: string) => `${runDatabase}_at_`;
