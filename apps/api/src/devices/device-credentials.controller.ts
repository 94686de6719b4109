import { Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { DeviceCredentialsService } from './device-credentials.service';

class DeviceCredentialDto {
  @ApiProperty() machineId!: string;
  @ApiProperty({ description: 'MQTT username (the machine id)' }) username!: string;
  @ApiProperty({ description: 'MQTT password: shown once, stored hashed' }) password!: string;
  @ApiProperty({ example: 'plants/plant-a/machines/pump-07/' }) topicPrefix!: string;
}

@ApiTags('machines')
@ApiBearerAuth()
@Controller('machines/:id/credentials')
export class DeviceCredentialsController {
  constructor(private readonly credentials: DeviceCredentialsService) {}

  @Post()
  @RequireRole('admin')
  @ApiCreatedResponse({ type: DeviceCredentialDto, description: 'a new MQTT credential (replaces the previous one)' })
  issue(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.credentials.issue(principal, id);
  }

  @Delete()
  @RequireRole('admin')
  @HttpCode(204)
  @ApiNoContentResponse()
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.credentials.revoke(principal, id);
  }
}
