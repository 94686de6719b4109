import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { TrainingRequestError } from '@continuum/contracts';
import type { Request, Response } from 'express';

/** An RFC 7807 problem: `application/problem+json`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  /** Validation failures, one message per problem. */
  errors?: string[];
}

/**
 * Answers every error as RFC 7807 problem details. Unexpected errors become a 500 whose detail
 * says nothing of the internals (they are logged with their stack instead).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    const request = ctx.getRequest<Request>();
    const response = ctx.getResponse<Response>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let detail = 'an unexpected error occurred; it has been logged';
    let errors: string[] | undefined;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
      if (Array.isArray(message)) {
        errors = message;
        detail = message.join('; ');
      } else {
        detail = message ?? exception.message;
      }
    } else if (exception instanceof TrainingRequestError) {
      // A refused training-job or model-registry request (@continuum/contracts): 400/404/409/422.
      status = exception.status;
      detail = exception.message;
      if (exception.errors.length > 1) errors = exception.errors;
    } else if (isBodyParserError(exception)) {
      status = exception.status;
      detail =
        exception.type === 'entity.too.large'
          ? 'request body too large'
          : `malformed request body: ${exception.message}`;
    } else {
      this.logger.error(`${request.method} ${request.url}: ${(exception as Error)?.stack ?? String(exception)}`);
    }
    const problem: ProblemDetails = {
      type: `https://continuum.dev/problems/${status}`,
      title: (HttpStatus[status] ?? 'Error').toString().replace(/_/g, ' ').toLowerCase(),
      status,
      detail,
      instance: request.originalUrl ?? request.url,
      ...(errors && { errors }),
    };
    response.status(status).type('application/problem+json').json(problem);
  }
}

function isBodyParserError(e: unknown): e is { status: number; type: string; message: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { type?: unknown }).type === 'string'
  );
}
