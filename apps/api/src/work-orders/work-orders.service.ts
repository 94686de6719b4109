import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { MachinesRepository, WorkOrdersRepository, type WorkOrderEntity } from '@continuum/persistence';
import type { Principal } from '../auth/principal';
import type { Page } from '../common/pagination.dto';
import { LiveService } from '../live/live.service';
import { MachinesService } from '../machines/machines.service';
import type { CreateWorkOrderDto, ListWorkOrdersQuery, UpdateWorkOrderDto } from './dto/work-order.dto';

/** Work orders, scoped to the plants the caller may see. */
@Injectable()
export class WorkOrdersService {
  constructor(
    private readonly orders: WorkOrdersRepository,
    private readonly machinesRepo: MachinesRepository,
    private readonly machines: MachinesService,
    private readonly live: LiveService,
  ) {}

  async list(principal: Principal, q: ListWorkOrdersQuery): Promise<Page<WorkOrderEntity>> {
    let machineIds: string[] | undefined;
    if (q.machineId) {
      await this.machines.get(principal, q.machineId);
      machineIds = [q.machineId];
    } else if (principal.plantIds) {
      machineIds = (await Promise.all(principal.plantIds.map((plantId) => this.machinesRepo.list({ plantId }))))
        .flat()
        .map((m) => m.id);
    }
    const { items, total } = await this.orders.page(
      { machineIds, statuses: q.status ? [q.status] : undefined },
      q.limit,
      q.offset,
    );
    return { items, total, limit: q.limit, offset: q.offset };
  }

  async get(principal: Principal, id: string): Promise<WorkOrderEntity> {
    const order = await this.orders.findById(id);
    if (!order) throw new NotFoundException(`work order ${id} does not exist`);
    await this.machines.get(principal, order.machineId);
    return order;
  }

  async create(principal: Principal, dto: CreateWorkOrderDto): Promise<WorkOrderEntity> {
    const machine = await this.machines.get(principal, dto.machineId);
    checkWindow(dto.windowStart, dto.windowEnd);
    const order = await this.orders.create(dto);
    this.live.workOrderChanged(order, machine.plantId);
    return order;
  }

  async update(principal: Principal, id: string, dto: UpdateWorkOrderDto): Promise<WorkOrderEntity> {
    const current = await this.get(principal, id);
    if (dto.machineId) await this.machines.get(principal, dto.machineId);
    checkWindow(dto.windowStart ?? current.windowStart ?? undefined, dto.windowEnd ?? current.windowEnd ?? undefined);
    await this.orders.update(id, dto);
    const order = (await this.orders.findById(id))!;
    this.live.workOrderChanged(order, (await this.machines.get(principal, order.machineId)).plantId);
    return order;
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const order = await this.get(principal, id);
    await this.orders.delete(id);
    this.live.workOrderChanged(order, (await this.machines.get(principal, order.machineId)).plantId, true);
  }
}

function checkWindow(start: Date | undefined, end: Date | undefined): void {
  if (start && end && end.getTime() <= start.getTime())
    throw new BadRequestException('windowEnd must be after windowStart');
}
