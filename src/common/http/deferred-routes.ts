/**
 * The routes whose JSON body waits for authentication (app.factory marks them with `deferBody`; their
 * handlers read it with DeferredBodyInterceptor, up to BATCH_BODY_LIMIT): batch ingestion (1,000
 * events) and the price sheet import (500 rules, about 200 KB, more than the default limit).
 */
export const BATCH_ROUTE = '/api/usage/records/batch';
export const PRICE_SHEET_ROUTE = '/api/pricing/import';

/** Stripe's payout reconciliation report: `text/csv` up to 20 MB, read once its caller is an admin. */
export const RECONCILIATIONS_ROUTE = '/api/finance/reconciliations';

/**
 * A usage record's corrections (`/api/usage/records/:id/corrections`, as Express matches it: any
 * case, a trailing slash, a query): each request waits for its turn (CorrectionTurns.intake) before
 * the app reads it, so before its body is read, its caller authenticated and its body validated.
 */
export const CORRECTIONS_PATH = /^\/api\/usage\/records\/[^/?#]+\/corrections\/?(?:[?#]|$)/i;
