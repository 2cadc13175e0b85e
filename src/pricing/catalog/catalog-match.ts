/**
 * The catalogue's own matching (the `@pydantic/genai-prices` rules, stored with each entry): a model id
 * matches an entry when its rule accepts the id, compared without case; the first entry of a
 * provider that matches prices it; an id with a compact date (`-20250514`) is tried again with a
 * dashed one (`-2025-05-14`) when nothing matched.
 */
export type MatchLogic =
  | { and: MatchLogic[] }
  | { or: MatchLogic[] }
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string };

const compiled = new Map<string, RegExp | null>();

function regex(source: string): RegExp | null {
  let re = compiled.get(source);
  if (re === undefined) {
    try {
      re = new RegExp(source);
    } catch {
      re = null;
    }
    compiled.set(source, re);
  }
  return re;
}

/** Whether the rule accepts the model id (as the catalogue decides). */
export function matches(logic: MatchLogic, id: string): boolean {
  const lower = id.toLowerCase();
  if ('or' in logic) return logic.or.some((l) => matches(l, id));
  if ('and' in logic) return logic.and.every((l) => matches(l, id));
  if ('equals' in logic) return lower === logic.equals.toLowerCase();
  if ('starts_with' in logic) return lower.startsWith(logic.starts_with.toLowerCase());
  if ('ends_with' in logic) return lower.endsWith(logic.ends_with.toLowerCase());
  if ('contains' in logic) return lower.includes(logic.contains.toLowerCase());
  if ('regex' in logic) return regex(logic.regex)?.test(id) ?? false;
  return false;
}

const COMPACT_DATE = /(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;

/** `claude-sonnet-4-20250514` → `claude-sonnet-4-2025-05-14` (a real date only); the id unchanged otherwise. */
export function dashedDates(id: string): string {
  return id.replace(COMPACT_DATE, (all, dash: string, y: string, m: string, d: string) => {
    const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    return date.getUTCFullYear() !== Number(y) ||
      date.getUTCMonth() !== Number(m) - 1 ||
      date.getUTCDate() !== Number(d)
      ? all
      : `${dash}${y}-${m}-${d}`;
  });
}

/** The first of `entries` whose rule accepts the id (then its dashed-date form), or undefined. */
export function firstMatch<E extends { match: MatchLogic }>(entries: readonly E[], id: string): E | undefined {
  const found = entries.find((e) => matches(e.match, id));
  if (found) return found;
  const dashed = dashedDates(id);
  return dashed === id ? undefined : entries.find((e) => matches(e.match, dashed));
}
