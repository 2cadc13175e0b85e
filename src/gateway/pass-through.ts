import type { Response } from 'express';

/** How much of one answer may wait here, how long a client may read nothing, how long an answer may be. */
export interface AnswerLimits {
  /** GATEWAY_MAX_BUFFER_BYTES */
  maxBufferBytes: number;
  /** GATEWAY_CLIENT_IDLE_SECONDS */
  clientIdleSeconds: number;
  /** GATEWAY_MAX_ANSWER_BYTES */
  maxAnswerBytes: number;
}

/** Thrown when the client read nothing for GATEWAY_CLIENT_IDLE_SECONDS: it is gone (its response destroyed). */
export class ClientIdle extends Error {
  constructor() {
    super('the client read nothing for GATEWAY_CLIENT_IDLE_SECONDS');
  }
}

/**
 * Writes `chunk` to the client; once GATEWAY_MAX_BUFFER_BYTES of the answer wait here (and in the
 * socket), waits until the client has taken them. A client that takes nothing for
 * GATEWAY_CLIENT_IDLE_SECONDS is destroyed (ClientIdle); one that went away throws too.
 */
export async function send(res: Response, chunk: Uint8Array | string, limits: AnswerLimits): Promise<void> {
  if (res.destroyed) throw new Error('client gone');
  if (res.write(chunk) || res.writableLength < limits.maxBufferBytes) return;
  await drained(res, limits.clientIdleSeconds * 1000);
}

/**
 * Waits until `res` takes all it holds ('drain'), or closes. Every `idleMs` without that, the bytes it
 * still holds are compared: fewer means the client reads, slowly; as many means it reads nothing,
 * and it is gone.
 */
function drained(res: Response, idleMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiting = res.writableLength;
    const done = (error?: Error) => {
      clearInterval(timer);
      res.off('drain', ok);
      res.off('close', ok);
      if (error) reject(error);
      else resolve();
    };
    const ok = () => done();
    const timer = setInterval(() => {
      const now = res.writableLength;
      if (now < waiting) {
        waiting = now;
        return;
      }
      res.destroy();
      done(new ClientIdle());
    }, idleMs);
    res.on('drain', ok);
    res.on('close', ok);
  });
}

/**
 * Passes a non-streamed answer to the client chunk by chunk (`see` reads each one as it passes),
 * never holding it whole. Answers `cut` when it grew past GATEWAY_MAX_ANSWER_BYTES: what fit was
 * sent, the rest never read.
 */
export async function passBody(
  body: AsyncIterable<Uint8Array>,
  res: Response,
  limits: AnswerLimits,
  see: (chunk: Uint8Array) => void,
  sent: { bytes: number },
): Promise<'ended' | 'cut'> {
  for await (const value of body) {
    const room = limits.maxAnswerBytes - sent.bytes;
    const chunk = value.length > room ? value.subarray(0, room) : value;
    see(chunk);
    sent.bytes += chunk.length;
    if (chunk.length > 0) await send(res, chunk, limits);
    if (chunk !== value) return 'cut';
  }
  return 'ended';
}
