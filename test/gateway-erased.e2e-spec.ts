import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer } from './support/app.js';
import { tokenFor } from './support/fixtures.js';
import { type GatewayHarness, startGateway } from './support/gateway.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * The gateway and an erased person (docs/gateway.md "Who"), on a database of its own as every spec
 * that erases: refused in the provider's shape, before anything reaches the upstream.
 */
describe('gateway refusals for an erased person', () => {
  let own: OwnDatabase;
  let h: GatewayHarness;

  beforeAll(async () => {
    own = await ownDatabase('gateway_erased');
    h = await startGateway({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
  });
  afterAll(async () => {
    await h?.close();
    await own?.drop();
  });

  const send = (path: string, headers: Record<string, string>, body: Record<string, unknown>) =>
    fetch(`${h.origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: h.model, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });

  it('answers 401 for their revoked keys and 409 ACCOUNT_ERASED for a key that escaped revocation', async () => {
    const person = await h.f.newUser({ credits: 100_000 });
    const key = await h.f.apiKey(person, { permissions: ['gateway'] });
    await h.t.http
      .post(`/api/users/${person.id}/erasure`)
      .set(bearer(tokenFor('admin', 'gateway-admin')))
      .send({ reason: 'Asked by the person' })
      .expect(200);
    const before = h.standIn.requests.length;
    const revoked = await send('/v1/chat/completions', { authorization: `Bearer ${key.key}` }, {});
    expect(revoked.status).toBe(401);
    expect((await revoked.json()).error.code).toBe('UNAUTHORIZED');
    // A key an instance read before the erasure revoked it still reaches admission, and is refused there.
    await h.t.db.query(`UPDATE api_keys SET revoked_at = NULL WHERE id = $1`, [key.id]);
    const openai = await send('/v1/chat/completions', { authorization: `Bearer ${key.key}` }, {});
    const openaiText = await openai.text();
    expect(openai.status, openaiText).toBe(409);
    expect(JSON.parse(openaiText)).toMatchObject({ error: { message: expect.any(String), code: 'ACCOUNT_ERASED' } });
    const anthropic = await send(
      '/v1/messages',
      { 'x-api-key': key.key, 'anthropic-version': '2023-06-01' },
      { max_tokens: 100 },
    );
    const anthropicText = await anthropic.text();
    expect(anthropic.status, anthropicText).toBe(409);
    expect(JSON.parse(anthropicText)).toMatchObject({
      type: 'error',
      error: { message: expect.stringMatching(/^ACCOUNT_ERASED: /) },
    });
    expect(h.standIn.requests).toHaveLength(before);
    expect(await h.f.available(person.id)).toBe(100_000);
    const { rows } = await h.t.db.query(`SELECT count(*)::int AS n FROM streaming_sessions WHERE user_id = $1`, [
      person.id,
    ]);
    expect(rows[0].n).toBe(0);
  });
});
