import 'reflect-metadata';
import { createServer } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from '@continuum/config';
import { eventTransportOptions } from '@continuum/messaging';
import { openInfrastructure, readSecretFile, type Infrastructure } from './infrastructure';
import { logUnloggedRefusals } from './refusal-log';

export interface ProcessSpec {
  /** Name of the process in logs and MQTT client ids (platform, ingestion, ...). */
  role: string;
  /** The root module, built from the process's infrastructure. */
  rootModule: (infra: Infrastructure) => DynamicModule;
  /** Application-level setup before listening (global prefix, OpenAPI document, ...). */
  configure?: (app: INestApplication) => void;
  /** Serve HTTP on PORT (health, REST, dashboard). */
  http: boolean;
  /** Receive internal events (`@EventPattern` handlers). */
  events: boolean;
  /** Whether the process may run on embedded defaults (one process owns PGlite and aedes). */
  embedded: boolean;
}

/** A running Continuum process. */
export interface RunningProcess {
  app: INestApplication;
  infra: Infrastructure;
  /** HTTP URL when serving HTTP. */
  url: string | null;
  /** Stops the app (every module's shutdown hook), then closes the infrastructure. */
  close(): Promise<void>;
}

/**
 * Starts a process: validates configuration, opens the infrastructure, creates the Nest
 * application, connects the event transport and listens. Failures are Errors with a one-line
 * message (see {@link main}); nothing is left open after one.
 */
export async function startProcess(spec: ProcessSpec, env: NodeJS.ProcessEnv = process.env): Promise<RunningProcess> {
  const config = loadConfig(env);
  if (!spec.embedded && (config.database.mode === 'embedded' || config.mqtt.mode === 'embedded')) {
    throw new ConfigError(
      `${spec.role} runs alone only against an external database and broker: set DATABASE_URL and MQTT_URL (or run the whole platform with npm start)`,
    );
  }
  // Refuse a taken HTTP port before spending seconds opening the database and the broker.
  if (spec.http && config.http.port !== 0) await assertPortFree(config.http.port, config.http.host);
  // HTTPS: the certificate and key are read here, once, and handed to Node's TLS server only.
  const httpsOptions =
    spec.http && config.tls.http
      ? {
          cert: readSecretFile('HTTP_TLS_CERT_FILE', config.tls.http.certFile),
          key: readSecretFile('HTTP_TLS_KEY_FILE', config.tls.http.keyFile),
          minVersion: 'TLSv1.2' as const,
        }
      : undefined;
  const infra = await openInfrastructure(config, spec.role);
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(spec.rootModule(infra), { bufferLogs: true, abortOnError: false, httpsOptions });
    app.useLogger(app.get(Logger));
    app.flushLogs();
    if (spec.http) logUnloggedRefusals(app);
    spec.configure?.(app);
    if (spec.events) {
      app.connectMicroservice(eventTransportOptions(infra.messaging, 'events-in'));
      await app.startAllMicroservices();
    }
    let url: string | null = null;
    if (spec.http) {
      await listen(app, config.http.port, config.http.host);
      url = await app.getUrl();
    } else {
      await app.init();
    }
    const running = app;
    return {
      app,
      infra,
      url,
      close: async () => {
        await running.close();
        await infra.close();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await infra.close();
    throw err;
  }
}

/** Throws the same one-line error as {@link listen} when nothing can listen on the port now. */
async function assertPortFree(port: number, host: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => reject(portError(err, port)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function portError(err: NodeJS.ErrnoException, port: number): Error {
  if (err.code === 'EADDRINUSE')
    return new Error(`HTTP port ${port} is already in use (set PORT to a free port)`, { cause: err });
  if (err.code === 'EACCES')
    return new Error(`not allowed to listen on port ${port} (set PORT to a port above 1024)`, { cause: err });
  return err;
}

async function listen(app: INestApplication, port: number, host: string): Promise<void> {
  try {
    await app.listen(port, host);
  } catch (err) {
    throw portError(err as NodeJS.ErrnoException, port);
  }
}

/**
 * The `main` of every app: start, log where it listens, shut down cleanly on SIGINT/SIGTERM
 * (the database is closed last, so nothing written is lost), and on a start-up failure print
 * one line with the reason and exit with status 1.
 */
export function main(spec: ProcessSpec): void {
  startProcess(spec).then(
    (proc) => {
      const logger = proc.app.get(Logger);
      const { config, broker } = proc.infra;
      logger.log(
        `${spec.role} started${proc.url ? ` on ${proc.url}` : ''} (database ${config.database.mode}, broker ${broker ? `embedded on :${broker.port}${broker.tlsPort !== null ? `, TLS on :${broker.tlsPort}` : ''}` : 'external'})`,
        'Bootstrap',
      );
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        logger.log(`${signal}: shutting down`, 'Bootstrap');
        const force = setTimeout(() => {
          console.error(`continuum ${spec.role}: shutdown took longer than 30 s, exiting`);
          process.exit(1);
        }, 30_000);
        force.unref();
        proc.close().then(
          () => {
            logger.log('stopped; database closed', 'Bootstrap');
            process.exit(0);
          },
          (err: Error) => {
            console.error(`continuum ${spec.role}: error during shutdown: ${err.message}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err: Error) => {
      console.error(`continuum ${spec.role}: ${err.message.split('\n')[0]}`);
      process.exit(1);
    },
  );
}
