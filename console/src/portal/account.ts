import type { Client } from '../api/generated/client';
import {
  getBalance,
  getOrg,
  getOrgBalance,
  getOrgUsageStats,
  getPortalSession,
  getRunway,
  getUsageStats,
} from '../api/generated/sdk.gen';
import type { CurrentPortalSessionResponseDto, RunwayResponseDto } from '../api/generated/types.gen';
import { chartRange } from './chart';

/**
 * Which account a portal token shows and how it is read: the user's own, or an org's (its readers
 * read its balance and usage; a plain member reads the org's totals). One place, used by the portal
 * page and by the embeddable elements.
 */
export type PortalSession = CurrentPortalSessionResponseDto;

export const ORG_READER_ROLES = ['owner', 'admin', 'billing'];
export const isOrgReader = (s: PortalSession): boolean => s.orgRole !== null && ORG_READER_ROLES.includes(s.orgRole);

export interface Lot {
  id: string;
  credits: number;
  totalCredits: number;
  expiresAt: string;
  notes: string | null;
}

export interface BalanceView {
  available: number;
  held: number;
  debt: number;
  /** Soonest expiry first, as the API answers; null when the caller may not read them (a plain member). */
  lots: Lot[] | null;
}

export async function loadSession(client?: Client): Promise<PortalSession> {
  return (await getPortalSession({ client, throwOnError: true })).data;
}

export async function loadBalance(session: PortalSession, client?: Client): Promise<BalanceView> {
  if (session.orgId === null) {
    const b = (await getBalance({ client, throwOnError: true })).data;
    return { available: b.totalCredits, held: b.heldCredits, debt: b.debt, lots: b.activeAllocations };
  }
  const path = { orgId: session.orgId };
  if (isOrgReader(session)) {
    const b = (await getOrgBalance({ client, path, throwOnError: true })).data;
    return { available: b.totalCredits, held: b.heldCredits, debt: b.debt, lots: b.activeAllocations };
  }
  const org = (await getOrg({ client, path, throwOnError: true })).data;
  return { available: org.totalCredits, held: org.heldCredits, debt: org.debt, lots: null };
}

/**
 * When the account's credits run out at its use of the last `days` (1–14: see lib/runway.ts); null
 * when the caller may not read its usage.
 */
export async function loadRunway(
  session: PortalSession,
  days: number,
  client?: Client,
): Promise<RunwayResponseDto | null> {
  if (session.orgId === null) return (await getRunway({ client, query: { days }, throwOnError: true })).data;
  if (!isOrgReader(session)) return null;
  return (await getRunway({ client, query: { orgId: session.orgId, days }, throwOnError: true })).data;
}

/** Credits per UTC day over the chart's 30 days; null when the caller may not read the account's usage. */
export async function loadDailyUsage(session: PortalSession, client?: Client): Promise<Record<string, number> | null> {
  const query = chartRange();
  if (session.orgId === null) return (await getUsageStats({ client, query, throwOnError: true })).data.byDay;
  if (!isOrgReader(session)) return null;
  return (await getOrgUsageStats({ client, path: { orgId: session.orgId }, query, throwOnError: true })).data.byDay;
}
