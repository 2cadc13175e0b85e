// Feature checks beside balance and record (docs/features.md): a boolean feature and a metered one
// (a limit no run reaches, per month) granted to every bench user by an override, so a check reads
// a grant (and, consuming, takes the account's lock and counts) rather than answering "no grant".
import { SCENARIO } from './report.mjs';

export const FEATURE_KEYS = { flag: 'bench.search', metered: 'bench.images' };

/** Creates the two features through the API and grants both to every `bench-N` user. */
export async function seedFeatures(service, db, admin) {
  for (const [featureKey, type] of [
    [FEATURE_KEYS.flag, 'boolean'],
    [FEATURE_KEYS.metered, 'metered'],
  ]) {
    const res = await fetch(`${service.base}/api/features`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ featureKey, name: featureKey, type }),
    });
    if (res.status !== 201) throw new Error(`creating ${featureKey}: ${res.status} ${await res.text()}`);
  }
  // The overrides in one statement (the route takes them one account at a time, audited): the same
  // rows `PUT /api/entitlements/:featureKey` writes.
  await db.query(
    `INSERT INTO feature_overrides (account_id, feature_key, grant_value, updated_by)
     SELECT a.account_id, f.key, f.grant_value, 'bench'
       FROM accounts a
      CROSS JOIN (VALUES ($1::varchar, 'true'::jsonb), ($2, '{"limit": 1000000000, "period": "month"}'::jsonb)) f (key, grant_value)
      WHERE a.user_id LIKE 'bench-%'`,
    [FEATURE_KEYS.flag, FEATURE_KEYS.metered],
  );
}

/** The check scenarios, for a random user's own token: without consumption, and consuming one use. */
export function featureScenarios(random) {
  return [
    {
      name: SCENARIO.featureCheck,
      method: 'POST',
      path: '/api/entitlements/check',
      body: { featureKey: FEATURE_KEYS.flag },
      auth: random,
    },
    {
      name: SCENARIO.featureCheckMetered,
      method: 'POST',
      path: '/api/entitlements/check',
      body: { featureKey: FEATURE_KEYS.metered },
      auth: random,
    },
    {
      name: SCENARIO.featureConsume,
      method: 'POST',
      path: '/api/entitlements/check',
      body: { featureKey: FEATURE_KEYS.metered, consume: 1 },
      auth: random,
    },
  ];
}
