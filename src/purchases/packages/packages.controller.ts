import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';

import type { ResolvedAccount } from '../../auth/account-access.js';
import { Auth, CurrentUser, NamedAccount } from '../../auth/auth.decorator.js';
import type { AuthUser } from '../../auth/roles.js';
import { domainErrorExample } from '../../common/errors/error-examples.js';
import { ErrorResponseDto } from '../../common/errors/error-response.dto.js';
import { IdempotentPost } from '../../idempotency/idempotent-post.decorator.js';
import {
  CreatePackageDto,
  ListPackagesQueryDto,
  PackageListResponseDto,
  PackageResponseDto,
  UpdatePackageDto,
} from './packages.dto.js';
import { PackagesService } from './packages.service.js';

@ApiTags('packages')
@Controller('api/packages')
export class PackagesController {
  constructor(private readonly packages: PackagesService) {}

  @IdempotentPost()
  @Auth('admin')
  @ApiOperation({
    operationId: 'createPackage',
    summary: 'Put a package of credits on sale (admin)',
    description:
      'Its credits and price never change: to change them, make a new package and take this one off sale. ' +
      'Once a currency has packages on sale, a purchase in it that names its own price must cost at least ' +
      'their lowest price per credit, `price ÷ (credits + bonusCredits)`.',
  })
  @ApiBody({
    type: CreatePackageDto,
    examples: {
      starter: {
        summary: '1,000 credits and 100 bonus credits for 10.00 USD',
        value: {
          packageId: 'starter-2026',
          name: 'Starter',
          credits: 1000,
          bonusCredits: 100,
          price: { amount: '10.00', currency: 'usd' },
        },
      },
      shortLived: {
        summary: '500 credits for 4.50 EUR that expire after 90 days',
        value: {
          packageId: 'trial-eur',
          name: 'Trial',
          credits: 500,
          price: { amount: '4.50', currency: 'eur' },
          expiryDays: 90,
        },
      },
    },
  })
  @ApiCreatedResponse({ type: PackageResponseDto })
  @ApiConflictResponse({
    description: 'A package with this id exists',
    type: ErrorResponseDto,
    examples: { exists: domainErrorExample('PACKAGE_EXISTS', 'Package starter already exists', 'The id is taken') },
  })
  create(@CurrentUser() user: AuthUser, @Body() body: CreatePackageDto): Promise<PackageResponseDto> {
    return this.packages.create(user, body);
  }

  @Get()
  @Auth('user', { scope: 'any', portal: 'any', own: 'account', ownOrNone: true })
  @ApiOperation({
    operationId: 'listPackages',
    summary: 'The packages on sale, by id (any authenticated caller)',
    description: 'Staff may add `includeInactive=true` to see those taken off sale too.',
  })
  @ApiOkResponse({ type: PackageListResponseDto })
  list(
    @CurrentUser() user: AuthUser,
    @Query() query: ListPackagesQueryDto,
    @NamedAccount() own: ResolvedAccount | null,
  ): Promise<PackageListResponseDto> {
    return this.packages.list(user, query, own);
  }

  @Patch(':packageId')
  @Auth('admin')
  @ApiOperation({
    operationId: 'updatePackage',
    summary: 'Rename a package, or take it off sale and back (admin)',
    description: 'Only `name` and `active` change; purchases made from it keep what they were sold.',
  })
  @ApiParam({ name: 'packageId', example: 'starter' })
  @ApiBody({
    type: UpdatePackageDto,
    examples: {
      rename: { summary: 'A new name', value: { name: 'Starter (2026)' } },
      disable: { summary: 'Off sale', value: { active: false } },
    },
  })
  @ApiOkResponse({ type: PackageResponseDto })
  @ApiNotFoundResponse({
    description: 'Unknown package',
    type: ErrorResponseDto,
    examples: { notFound: domainErrorExample('PACKAGE_NOT_FOUND', 'No such package', 'Unknown package') },
  })
  update(@Param('packageId') packageId: string, @Body() body: UpdatePackageDto): Promise<PackageResponseDto> {
    return this.packages.update(packageId, body);
  }
}
