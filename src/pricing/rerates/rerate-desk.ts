import type { AuthUser } from '../../auth/roles.js';
import type { CreateOutcome } from '../../idempotency/replayed-create.interceptor.js';
import type {
  CreateRerateDto,
  ListReratesQueryDto,
  RerateListResponseDto,
  RerateResponseDto,
} from '../dto/rerates.dto.js';

/**
 * What the re-rate routes (/api/pricing/rerates) ask: start one, list them, read one. Re-rates
 * correct usage records, above pricing, so the composition root hands the rerates module's service
 * in (`RerateRoutesModule.forRoot({ imports: [ReratesModule], use: ReratesService })`).
 */
export interface RerateDesk {
  start(caller: AuthUser, body: CreateRerateDto): Promise<CreateOutcome<RerateResponseDto>>;
  list(query: ListReratesQueryDto): Promise<RerateListResponseDto>;
  get(id: string): Promise<RerateResponseDto>;
}
export const RERATE_DESK = Symbol('RERATE_DESK');
