import { Injectable, NotFoundException } from '@nestjs/common';
import { DeviceCredentialsRepository } from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import { MachinesService } from '../machines/machines.service';

/** A device credential as issued: shown once. */
export interface IssuedDeviceCredential {
  machineId: string;
  username: string;
  password: string;
  topicPrefix: string;
}

/** MQTT credentials of devices (checked by the embedded broker when MQTT_DEVICE_AUTH=true). */
@Injectable()
export class DeviceCredentialsService {
  constructor(
    private readonly credentials: DeviceCredentialsRepository,
    private readonly machines: MachinesService,
  ) {}

  /** Issues a new token for the machine (replacing any previous one); the token is not stored. */
  async issue(principal: Principal, machineId: string): Promise<IssuedDeviceCredential> {
    const machine = await this.machines.get(principal, machineId);
    const password = await this.credentials.issue(machine.id);
    return {
      machineId: machine.id,
      username: machine.id,
      password,
      topicPrefix: `plants/${machine.plantId}/machines/${machine.id}/`,
    };
  }

  async revoke(principal: Principal, machineId: string): Promise<void> {
    await this.machines.get(principal, machineId);
    if (!(await this.credentials.revoke(machineId)))
      throw new NotFoundException(`machine ${machineId} has no device credential`);
  }
}
