import { Logger, type INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

const logger = new Logger('Http');

/**
 * Logs every refused HTTP request (4xx) that the request logger (pino-http, bound to the Nest
 * routes) does not see: a body refused by the parser (413, malformed JSON), paths no route or
 * static file serves (404, traversal attempts included). Registered first, so it sees them all.
 * Method, path and status only: headers (the bearer token) and bodies are never logged.
 */
export function logUnloggedRefusals(app: INestApplication): void {
  app.use((req: Request & { log?: unknown }, res: Response, next: NextFunction) => {
    res.once('finish', () => {
      if (res.statusCode >= 400 && res.statusCode < 500 && !req.log)
        logger.warn(`refused: ${res.statusCode} ${req.method} ${req.originalUrl}`);
    });
    next();
  });
}
