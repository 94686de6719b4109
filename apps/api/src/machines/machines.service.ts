import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { MachinesRepository, type MachineEntity } from '@continuum/persistence';
import { canSeePlant, type Principal } from '../auth/principal';
import type { Page } from '../common/pagination.dto';
import { TwinSummaries } from '../twin/twin-summaries';
import type { TwinSummaryDto } from '../twin/dto/twin.dto';
import type { ListMachinesQuery, RegisterMachineDto, UpdateMachineDto } from './dto/machine.dto';

/** A machine with its current twin summary (null before its twin's first update). */
export type MachineWithTwin = MachineEntity & { twin: TwinSummaryDto | null };

/** Machine registry decisions: plant scoping, conflicts, not-found. */
@Injectable()
export class MachinesService {
  private readonly logger = new Logger('Machines');

  constructor(
    private readonly machines: MachinesRepository,
    private readonly twins: TwinSummaries,
  ) {}

  /** {@link list} with each machine's twin summary. */
  async listWithTwin(principal: Principal, query: ListMachinesQuery): Promise<Page<MachineWithTwin>> {
    const page = await this.list(principal, query);
    const twins = await this.twins.summariesOf(page.items.map((m) => m.id));
    return { ...page, items: page.items.map((m) => ({ ...m, twin: twins.get(m.id) ?? null })) };
  }

  /** {@link get} with the machine's twin summary. */
  async getWithTwin(principal: Principal, id: string): Promise<MachineWithTwin> {
    const machine = await this.get(principal, id);
    return { ...machine, twin: (await this.twins.summariesOf([id])).get(id) ?? null };
  }

  async list(principal: Principal, query: ListMachinesQuery): Promise<Page<MachineEntity>> {
    if (query.plantId && !canSeePlant(principal, query.plantId)) this.forbidPlant(query.plantId);
    const { items, total } = await this.machines.page(
      { plantId: query.plantId, plantIds: principal.plantIds, assetType: query.assetType },
      query.limit,
      query.offset,
    );
    return { items, total, limit: query.limit, offset: query.offset };
  }

  /**
   * The machine, if it exists and the caller may see its plant. A machine of another plant answers
   * the same 404 as a missing one, so that a plant-scoped key cannot probe other plants' machine
   * ids; the refusal is logged.
   */
  async get(principal: Principal, id: string): Promise<MachineEntity> {
    const machine = await this.machines.findById(id);
    if (machine && !canSeePlant(principal, machine.plantId))
      this.logger.warn(`key ${principal.keyId} refused machine ${id}: plant ${machine.plantId} is outside its plants`);
    if (!machine || !canSeePlant(principal, machine.plantId))
      throw new NotFoundException(`machine ${id} does not exist`);
    return machine;
  }

  async register(principal: Principal, dto: RegisterMachineDto): Promise<MachineEntity> {
    refuseNulls(dto);
    if (!canSeePlant(principal, dto.plantId)) this.forbidPlant(dto.plantId);
    if (!(await this.machines.insert(dto))) throw new ConflictException(`machine ${dto.id} is already registered`);
    return (await this.machines.findById(dto.id))!;
  }

  async update(principal: Principal, id: string, dto: UpdateMachineDto): Promise<MachineEntity> {
    refuseNulls(dto);
    await this.get(principal, id);
    if (dto.plantId && !canSeePlant(principal, dto.plantId)) this.forbidPlant(dto.plantId);
    await this.machines.update(id, dto);
    return (await this.machines.findById(id))!;
  }

  async remove(principal: Principal, id: string): Promise<void> {
    await this.get(principal, id);
    await this.machines.delete(id);
  }

  private forbidPlant(plantId: string): never {
    throw new ForbiddenException(`this API key has no access to plant ${plantId}`);
  }
}

/**
 * Every machine column is NOT NULL, and the DTOs' optional fields let `null` through validation
 * (`@IsOptional` skips null as it skips a missing field), which the database then refused with a 500.
 * A field is left out to keep (or default) it; `null` is a 400.
 */
function refuseNulls(dto: object): void {
  const nulls = Object.entries(dto)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  if (nulls.length > 0)
    throw new BadRequestException(`${nulls.join(', ')} may not be null (leave a field out to keep its value)`);
}
