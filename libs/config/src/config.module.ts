import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { type AppConfig } from './app-config';

/** Injection token of the process's {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Provides the validated configuration and the one structured logger (pino) every app uses.
 * The configuration is loaded once, in `main.ts`, and handed in here.
 */
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      imports: [
        LoggerModule.forRoot({
          // Every route, in path-to-regexp 8's syntax (NestJS 11): nestjs-pino's default '*' made
          // Nest warn "Unsupported route path: /api/v1/*" under the api's global prefix.
          forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
          pinoHttp: {
            level: config.log.level,
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
          },
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG, LoggerModule],
    };
  }
}
