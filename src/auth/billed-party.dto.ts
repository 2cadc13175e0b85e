import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

import { IsOrgId, OptionalUserId } from '../common/validation/ids.js';
import { IsOptional } from '../common/validation/optional.js';

/**
 * `orgId` of a metering write that opens a charge (record, batch event, initialize): the organisation
 * pays, `userId` (or the caller) names the member who used it (docs/orgs.md "Paying from an organisation").
 */
export function PaidByOrg(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      example: 'acme',
      description:
        'The organisation that pays, on behalf of the billed user, who must be an active member of it (403 ' +
        '`NOT_A_MEMBER`, nothing written). Its pool, its hourly limit, the member’s spend limit (402 ' +
        '`MEMBER_LIMIT_EXCEEDED`) and the key’s budget all apply. Default: the key’s organisation for a key of a ' +
        'membership, else the user’s own account pays.',
    }),
    IsOptional(),
    IsOrgId(),
  );
}

/**
 * The billed party of a metering write (docs/trust-model.md): only service principals name it.
 * Record, batch events and the streaming session bodies extend this.
 */
export class BilledPartyDto {
  @OptionalUserId(
    'The billed user. Only service principals (an admin token, or an API key with `usage:ingest`) may give it; a ' +
      'service key must. Default: the caller.',
  )
  userId?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    example: '3f8e4b1c-2d6a-4e0f-9b7c-5a1d2e3f4a5b',
    description:
      'Service principals only: the billed user’s API key the usage went through (e.g. verified with ' +
      '`POST /api/api-keys/verify`). It counts against that key’s budget as if the key had called. Another user’s, ' +
      'an unknown, a revoked or an expired key → 400 `API_KEY_MISMATCH`.',
  })
  @IsOptional()
  @IsUUID('all')
  apiKeyId?: string;
}
