import { AlertEntity } from './alert.entity';
import { AlertRuleEntity } from './alert-rule.entity';
import { ApiKeyEntity } from './api-key.entity';
import { DeadLetterEntity } from './dead-letter.entity';
import { MachineEntity } from './machine.entity';
import { MachineEventEntity } from './machine-event.entity';
import { ModelEntity } from './model.entity';
import { ReadingEntity } from './reading.entity';
import { TrainingJobEntity } from './training-job.entity';
import { TwinStateEntity } from './twin-state.entity';
import { WorkOrderEntity } from './work-order.entity';

export * from './alert.entity';
export * from './alert-rule.entity';
export * from './api-key.entity';
export * from './dead-letter.entity';
export * from './machine.entity';
export * from './machine-event.entity';
export * from './model.entity';
export * from './reading.entity';
export * from './training-job.entity';
export * from './twin-state.entity';
export * from './work-order.entity';

export const ENTITIES = [
  AlertEntity,
  AlertRuleEntity,
  ApiKeyEntity,
  DeadLetterEntity,
  MachineEntity,
  MachineEventEntity,
  ModelEntity,
  ReadingEntity,
  TrainingJobEntity,
  TwinStateEntity,
  WorkOrderEntity,
];
