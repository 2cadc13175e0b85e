import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ErrorResponseDto {
  @ApiProperty({ example: 404 })
  statusCode: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Allocation not found',
    description: 'A sentence, or for validation errors one sentence per problem',
  })
  message: string | string[];

  @ApiProperty({ example: 'Not Found' })
  error: string;

  @ApiPropertyOptional({ example: 'INSUFFICIENT_CREDITS', description: 'Machine-readable error code' })
  code?: string;

  @ApiPropertyOptional({ example: '3f1c8b8e-5a43-4c55-9d59-8d3f6b1b1e55', description: 'Correlates with the logs' })
  requestId?: string;
}

export class InsufficientCreditsResponseDto extends ErrorResponseDto {
  @ApiProperty({ example: 120 })
  requiredCredits: number;

  @ApiProperty({ example: 40 })
  availableCredits: number;
}

/** 402 with `code: "KEY_LIMIT_EXCEEDED"`: the API key's budget for its period would be exceeded. */
export class KeyLimitExceededResponseDto extends ErrorResponseDto {
  @ApiProperty({ example: 5, description: 'Credits the refused request needed' })
  requiredCredits: number;
}
