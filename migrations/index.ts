import { CreateCoreTables1764547200000 } from './1764547200000-CreateCoreTables';
import { ReadingsTimeSeries1764547200001 } from './1764547200001-ReadingsTimeSeries';
import { MachineEvents1764547200002 } from './1764547200002-MachineEvents';
import { ApiKeys1764547200010 } from './1764547200010-ApiKeys';
import { TwinPredictions1764547200011 } from './1764547200011-TwinPredictions';
import { AlertRules1764547200012 } from './1764547200012-AlertRules';
import { DeviceCredentials1764547200013 } from './1764547200013-DeviceCredentials';
import { ResidualMewmaDetector1764547200014 } from './1764547200014-ResidualMewmaDetector';

/** Every migration, in order. Add new ones at the end; never edit one that has landed. */
export const MIGRATIONS = [
  CreateCoreTables1764547200000,
  ReadingsTimeSeries1764547200001,
  MachineEvents1764547200002,
  ApiKeys1764547200010,
  TwinPredictions1764547200011,
  AlertRules1764547200012,
  DeviceCredentials1764547200013,
  ResidualMewmaDetector1764547200014,
];
