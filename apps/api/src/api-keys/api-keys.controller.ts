import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ApiKeysRepository, type Role } from '@continuum/persistence';
import { RequireRole } from '../auth/auth.decorators';
import { AuthService } from '../auth/auth.service';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'dashboard plant A' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiProperty({ enum: ['viewer', 'operator', 'admin'] })
  @IsIn(['viewer', 'operator', 'admin'], { message: 'role must be viewer, operator or admin' })
  role!: Role;

  @ApiPropertyOptional({ type: [String], description: 'plants the key may see; all when absent' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { each: true, message: 'plant ids must be 1-128 of A-Z a-z 0-9 _ . - :' })
  plantIds?: string[];
}

/** API keys (admin): the token is returned once, at creation; only its hash is stored. */
@ApiTags('api-keys')
@ApiBearerAuth()
@RequireRole('admin')
@Controller('api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly auth: AuthService,
  ) {}

  @Post()
  async create(@Body() dto: CreateApiKeyDto) {
    const { key, token } = await this.keys.create(dto);
    return { id: key.id, name: key.name, role: key.role, plantIds: key.plantIds, token };
  }

  @Get()
  async list() {
    return (await this.keys.list()).map(({ tokenHash: _hash, ...key }) => key);
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    if (!(await this.keys.revoke(id))) throw new NotFoundException(`no active API key ${id}`);
    this.auth.invalidate();
  }
}
