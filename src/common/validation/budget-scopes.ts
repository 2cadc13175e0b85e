import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, ValidateBy } from 'class-validator';

import { DomainError } from '../errors/domain-error.js';

/**
 * The budget scopes a metering write names (docs/budgets.md "Naming scopes"): a project, up to ten
 * tags, an agent run and a session, each id 1–200 characters. The engine enforces the budgets they
 * name on the paying account (credit_budget_caps() in the take, for a hold too); a record keeps them.
 */
export interface BudgetScopes {
  project?: string;
  tag?: string[];
  run?: string;
  session?: string;
}

export const SCOPE_KINDS = ['project', 'tag', 'run', 'session'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];
export const MAX_SCOPE_TAGS = 10;
export const MAX_SCOPE_ID = 200;
/** The periods a budget counts its spend over. */
export const BUDGET_PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** Whether the scopes name anything (a take given none reads no budget). */
export function namesScopes(scopes: BudgetScopes | null | undefined): scopes is BudgetScopes {
  return (
    !!scopes &&
    (scopes.project ?? scopes.run ?? scopes.session ?? (scopes.tag?.length ? scopes.tag : undefined)) !== undefined
  );
}

/** The scopes as the engine takes them (null when they name nothing: the take reads no budget). */
export function scopesParam(scopes: BudgetScopes | null | undefined): string | null {
  return namesScopes(scopes) ? JSON.stringify(scopes) : null;
}

const bad = (why: string) => new DomainError('VALIDATION', `X-Budget-Scopes: ${why}`);

function checkId(id: string): string {
  if (id.length < 1 || id.length > MAX_SCOPE_ID) throw bad(`ids are 1–${MAX_SCOPE_ID} characters`);
  return id;
}

/**
 * The header `X-Budget-Scopes: project=alpha;run=r-17;tag=search,eval` (gateway requests) as scopes;
 * undefined when absent. A malformed header is a 400.
 */
export function parseScopesHeader(header: string | string[] | undefined): BudgetScopes | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(';') : header;
  const scopes: BudgetScopes = {};
  for (const part of text.split(';')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw bad('each part is kind=id');
    const kind = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (kind === 'tag') {
      const tags = value.split(',').map((t) => checkId(t.trim()));
      scopes.tag = [...(scopes.tag ?? []), ...tags];
      if (scopes.tag.length > MAX_SCOPE_TAGS) throw bad(`at most ${MAX_SCOPE_TAGS} tags`);
    } else if (kind === 'project' || kind === 'run' || kind === 'session') {
      if (scopes[kind] !== undefined) throw bad(`${kind} named twice`);
      scopes[kind] = checkId(value);
    } else {
      throw bad('kinds are project, tag, run and session');
    }
  }
  return scopes;
}

/** What is wrong with a body's `scopes` (null: nothing): an object of the four kinds, ids 1–200, ≤ 10 tags. */
export function scopesProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'scopes must be an object';
  const okId = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= MAX_SCOPE_ID;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'tag') {
      if (!Array.isArray(v) || v.length > MAX_SCOPE_TAGS || !v.every(okId))
        return `scopes.tag must be a list of at most ${MAX_SCOPE_TAGS} ids of 1–${MAX_SCOPE_ID} characters`;
    } else if (key === 'project' || key === 'run' || key === 'session') {
      if (!okId(v)) return `scopes.${key} must be an id of 1–${MAX_SCOPE_ID} characters`;
    } else {
      return `scopes.${key} is not a scope kind (project, tag, run, session)`;
    }
  }
  return null;
}

/** The `scopes` field of a metering body: optional, checked by scopesProblem(), documented once. */
export function BudgetScopesField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      description:
        'Budget scopes this write counts against (docs/budgets.md): `project`, `tag` (≤ 10), `run`, `session`, ' +
        'ids 1–200 characters. A scope with a budget on the paying account is enforced with its parents; ' +
        'one without is only recorded. A budget that cannot cover the write → 402 BUDGET_EXCEEDED.',
      properties: {
        project: { type: 'string', minLength: 1, maxLength: MAX_SCOPE_ID },
        tag: {
          type: 'array',
          maxItems: MAX_SCOPE_TAGS,
          items: { type: 'string', minLength: 1, maxLength: MAX_SCOPE_ID },
        },
        run: { type: 'string', minLength: 1, maxLength: MAX_SCOPE_ID },
        session: { type: 'string', minLength: 1, maxLength: MAX_SCOPE_ID },
      },
      additionalProperties: false,
      example: { project: 'alpha', run: 'r-17', tag: ['search'] },
    }),
    IsOptional(),
    ValidateBy({
      name: 'isBudgetScopes',
      validator: {
        validate: (value: unknown) => scopesProblem(value) === null,
        defaultMessage: (args) => scopesProblem(args?.value) ?? 'scopes is invalid',
      },
    }),
  );
}
