import { BadRequestException, HttpException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * The api's validation of bodies, query strings and parameters: class-validator DTOs, unknown
 * properties refused, values transformed to their declared types. A value that class-transformer
 * itself cannot convert (a `dueBy` object whose `toString` is not a function makes `new Date()`
 * throw) is a 400 like any other invalid value, not a 500 (found by the security suite's random
 * bodies).
 */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (err) {
      if (err instanceof HttpException) throw err;
      throw new BadRequestException(`malformed ${metadata.type}: ${(err as Error).message}`);
    }
  }
}
