/** Types of landed-migrations.mjs, for test/unit/landed-migrations.spec.ts. */
export function isLanded(file: string): boolean;
export function sha256Of(file: string): string;
export function landed(text: string): { hash: string; file: string }[];
