export { loadConfig, ConfigError } from './app-config';
export type {
  AlertingConfig,
  AppConfig,
  DatabaseConfig,
  IngestionConfig,
  MqttConfig,
  SimulatorConfig,
  TlsConfig,
  TrainingConfig,
  TwinConfig,
} from './app-config';
export { ConfigModule, APP_CONFIG } from './config.module';
