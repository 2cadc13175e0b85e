import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Auth, CurrentUser } from '../auth/auth.decorator.js';
import type { AuthUser } from '../auth/roles.js';
import { ListUsersQueryDto, UserListResponseDto, UserResponseDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @Auth('user', { scope: 'any' })
  @ApiOperation({ operationId: 'getMe', summary: 'The calling account and its available credits' })
  @ApiOkResponse({ type: UserResponseDto })
  me(@CurrentUser() user: AuthUser): Promise<UserResponseDto> {
    return this.users.get(user.userId);
  }

  @Get()
  @Auth('supervisor')
  @ApiOperation({ operationId: 'listUsers', summary: 'List accounts (search by id, email or username)' })
  @ApiOkResponse({ type: UserListResponseDto })
  list(@Query() query: ListUsersQueryDto): Promise<UserListResponseDto> {
    return this.users.list(query);
  }
}
