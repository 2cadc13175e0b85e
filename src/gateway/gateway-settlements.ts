import { Injectable, Logger } from '@nestjs/common';

import type { AuthUser } from '../auth/roles.js';
import { DomainError } from '../common/errors/domain-error.js';
import { errorText } from '../common/errors/error-text.js';
import type { AbortSessionDto } from '../streaming-sessions/dto/session-requests.dto.js';
import type { RecordExtras } from '../streaming-sessions/settlement-plan.js';
import { StreamingSessionsService } from '../streaming-sessions/streaming-sessions.service.js';
import { GatewayMetrics } from './gateway-metrics.js';
import {
  cutCounts,
  type GatewayRequest,
  type Outcome,
  providerUsageOf,
  recordExtras,
  shownUnits,
} from './gateway-settlement.js';

/**
 * The one settlement of a gateway request's session, by how it ended (docs/gateway.md "Settlement"):
 * - `reported`: finalize with the upstream's last usage snapshot (charged exactly that);
 * - a 2xx answer that reached its end without usage: abort at the worst case it held (its estimate,
 *   `usageSource: estimated`);
 * - `client_abort`, and `upstream_error` after output: abort with the final usage if reported, else
 *   the input reported (else its bound) and the larger of the output reported and the output text
 *   sent, at most its bound (cutCounts);
 * - `upstream_error` before any output: abort with nothing counted, one record of 0 credits.
 * A settlement that fails (the database gone) leaves the session to its expiry (`expired`: charged
 * the worst case it held), so every request still ends in exactly one record.
 */
@Injectable()
export class GatewaySettlements {
  private readonly logger = new Logger('Gateway');

  constructor(
    private readonly sessions: StreamingSessionsService,
    private readonly metrics: GatewayMetrics,
  ) {}

  async settle(caller: AuthUser, request: GatewayRequest, outcome: Outcome): Promise<void> {
    const { sessionId } = request;
    // The client has its answer: nobody waits for this settlement's, so its commit does not wait for
    // the WAL flush (docs/gateway.md "Added latency").
    const unwaited = true;
    const usage = outcome.usage && providerUsageOf(request, outcome.usage, outcome.serviceTier);
    const extras = (extra: Record<string, unknown> = {}): RecordExtras =>
      recordExtras(request, {
        status: outcome.status,
        reason: outcome.reason,
        ...(usage?.unpricedUnits ? { unpricedUnits: usage.unpricedUnits } : {}),
        ...extra,
      });
    const bounded: AbortSessionDto = { sessionId, ...cutCounts(request, outcome) };
    const answeredWithout = outcome.complete && outcome.status >= 200 && outcome.status < 300;
    try {
      if (outcome.reason === 'reported' && usage) {
        try {
          await this.sessions.finalize(
            caller,
            {
              sessionId,
              providerUsage: usage.providerUsage,
              termination: outcome.termination,
              ...shownUnits(request, outcome),
            },
            extras(),
            unwaited,
          );
        } catch (error) {
          // Usage the service cannot read (a count beyond its total, an oversized object): the answer
          // has gone, so the request is charged as one cut off, never more than its hold.
          if (!(error instanceof DomainError) || error.status >= 500) throw error;
          await this.sessions.abort(caller, bounded, extras({ usageRefused: error.message }), unwaited);
        }
      } else if (usage) {
        await this.sessions.abort(
          caller,
          {
            sessionId,
            providerUsage: usage.providerUsage,
            termination: outcome.termination,
            ...shownUnits(request, outcome),
          },
          extras(),
          unwaited,
        );
      } else if (answeredWithout) {
        // A whole answer without usage (a mode whose usage comes later): the worst case it held.
        const { split, units, serviceTier } = request.held;
        const worst: AbortSessionDto = {
          sessionId,
          ...split,
          ...(units ? { units } : {}),
          ...(serviceTier ? { serviceTier } : {}),
          termination: outcome.termination,
        };
        await this.sessions.abort(caller, worst, extras({ usageMissing: true }), unwaited, true);
      } else if (!outcome.sentUpstream || (outcome.reason === 'upstream_error' && outcome.outputBytes === 0)) {
        await this.sessions.abort(caller, { sessionId, termination: outcome.termination }, extras(), unwaited);
      } else {
        await this.sessions.abort(caller, bounded, extras(), unwaited);
      }
      this.metrics.settled(outcome.reason);
    } catch (error) {
      this.logger.error({
        msg: 'gateway settlement failed; the session expiry settles it',
        requestId: request.requestId,
        sessionId,
        err: errorText(error),
      });
    }
  }
}
