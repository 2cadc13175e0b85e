// Metered load for the HA demo: workers POST /api/usage/record with an Idempotency-Key, spread over
// the service instances, and retry each key until it is acknowledged (a lost connection or a 503
// OUTCOME_UNKNOWN is exactly when the same key must be sent again). Every attempt is logged.
// They meter as a service does under METERING_TRUST=service (the default): an admin's JWT naming the
// billed user with `userId`, as the chat backend would.
const RETRYABLE = new Set([409, 500, 502, 503, 504]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class MeteredLoad {
  /**
   * @param {{ baseUrls: string[], serviceJwt: string, users: {id: string}[], workers: number, paceMs: number }} options
   */
  constructor({ baseUrls, serviceJwt, users, workers, paceMs }) {
    this.baseUrls = baseUrls;
    this.serviceJwt = serviceJwt;
    this.users = users;
    this.workers = workers;
    this.paceMs = paceMs;
    this.stopping = false;
    /** key → { key, userId, credits, recordId, ackedAt, sentAt, instance, attempt, replayed } */
    this.acked = new Map();
    /** { at, ok, status | error } per attempt */
    this.attempts = [];
    this.running = [];
  }

  start() {
    for (let w = 0; w < this.workers; w++) this.running.push(this.worker(w));
  }

  /** Stops issuing new keys; resolves when every key in flight is acknowledged. */
  async stop() {
    this.stopping = true;
    await Promise.all(this.running);
  }

  async worker(w) {
    const user = this.users[w % this.users.length];
    for (let seq = 0; !this.stopping; seq++) {
      const key = `ha-${w}-${seq}`;
      const credits = 1 + ((w + seq) % 5);
      await this.untilAcknowledged(w + seq, key, user, credits);
      await sleep(this.paceMs);
    }
  }

  async untilAcknowledged(turn, key, user, credits) {
    for (let attempt = 0; ; attempt++) {
      const base = this.baseUrls[(turn + attempt) % this.baseUrls.length];
      const sentAt = Date.now();
      try {
        const res = await fetch(`${base}/api/usage/record`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${this.serviceJwt}`,
            'Idempotency-Key': key,
          },
          body: JSON.stringify({ userId: user.id, service: 'ha-demo', operation: 'write', credits }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = await res.json().catch(() => null);
        const replayed = res.headers.get('idempotent-replayed') === 'true';
        this.attempts.push({ at: sentAt, done: Date.now(), ok: res.status === 201, status: res.status, replayed });
        if (res.status === 201) {
          this.acked.set(key, {
            key,
            userId: user.id,
            credits,
            recordId: body.id,
            sentAt,
            ackedAt: Date.now(),
            instance: base,
            attempt,
            replayed,
          });
          return;
        }
        if (!RETRYABLE.has(res.status)) throw new Error(`${key}: unexpected ${res.status} ${JSON.stringify(body)}`);
      } catch (error) {
        if (error.message?.includes('unexpected')) throw error;
        this.attempts.push({ at: sentAt, done: Date.now(), ok: false, error: error.cause?.code ?? error.name });
      }
      await sleep(Math.min(100 * 2 ** Math.min(attempt, 2), 400));
    }
  }

  /**
   * Write unavailability around `killedAt`: until the first acknowledged write that was SENT after
   * the kill, and the attempts that failed meanwhile.
   */
  outage(killedAt) {
    const firstBack = [...this.acked.values()]
      .filter((a) => a.sentAt >= killedAt)
      .reduce((min, a) => Math.min(min, a.ackedAt), Infinity);
    const failed = this.attempts.filter((a) => !a.ok && a.at >= killedAt && a.at <= firstBack);
    const lastBefore = [...this.acked.values()]
      .filter((a) => a.ackedAt <= killedAt)
      .reduce((max, a) => Math.max(max, a.ackedAt), 0);
    return {
      writesBackAfterSeconds: Number(((firstBack - killedAt) / 1000).toFixed(2)),
      longestGapBetweenAcksSeconds: Number(((firstBack - lastBefore) / 1000).toFixed(2)),
      failedAttempts: failed.length,
      failureKinds: [...new Set(failed.map((a) => a.status ?? a.error))].sort(),
    };
  }

  /** How the attempts sent in [from, to] were answered: { "201 replayed": n, "503": n, … }. */
  answersBetween(from, to) {
    const answers = {};
    for (const a of this.attempts.filter((x) => x.at >= from && x.at <= to)) {
      const kind = a.ok ? `201${a.replayed ? ' replayed' : ''}` : String(a.status ?? a.error);
      answers[kind] = (answers[kind] ?? 0) + 1;
    }
    return answers;
  }

  /** Median and p99 of acknowledged requests that needed one attempt, in ms, over [from, to). */
  latency(from, to) {
    const ms = [...this.acked.values()]
      .filter((a) => a.sentAt >= from && a.ackedAt < to)
      .map((a) => a.ackedAt - a.sentAt)
      .sort((x, y) => x - y);
    const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
    return { count: ms.length, p50: at(0.5), p99: at(0.99) };
  }
}
