import type { ResolvedAccount } from '../../auth/account-access.js';
import type { RunwayQueryDto, RunwayResponseDto } from '../dto/runway.dto.js';

/**
 * What the runway (`GET /api/credits/runway`, docs/credits.md "Runway") answers with: the projection of
 * the account the route resolved. The runway module reads the ledger, the subscription and its plan,
 * and auto-recharge above credits, so the composition root hands it in (`RunwayRoutesModule.forRoot({
 * imports: [RunwayModule], use: RunwayService })`) and credits imports none of it.
 */
export interface RunwayProjection {
  runway(account: ResolvedAccount, query: RunwayQueryDto): Promise<RunwayResponseDto>;
}
export const RUNWAY_PROJECTION = Symbol('RUNWAY_PROJECTION');
