import {
  ForbiddenException,
  Injectable,
  Logger,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@continuum/persistence';
import { PUBLIC_KEY, ROLE_KEY } from './auth.decorators';
import { AuthService } from './auth.service';
import { hasRole } from './principal';

/**
 * Every HTTP route needs `Authorization: Bearer <API key>` unless marked `@Public()`; the key's
 * role must reach the route's `@RequireRole` (viewer by default). 401 without a valid key, 403
 * with too small a role; refusals are logged.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest();
    const header: string | undefined = request.headers.authorization;
    const token = /^Bearer ([\x21-\x7e]{1,200})$/.exec(header ?? '')?.[1];
    if (!token) {
      this.logger.warn(`401 ${request.method} ${request.url}: no bearer token`);
      throw new UnauthorizedException('an API key is required: Authorization: Bearer <token>');
    }
    const principal = await this.auth.authenticate(token);
    if (!principal) {
      this.logger.warn(`401 ${request.method} ${request.url}: unknown or revoked API key`);
      throw new UnauthorizedException('unknown or revoked API key');
    }
    const required = this.reflector.getAllAndOverride<Role>(ROLE_KEY, targets) ?? 'viewer';
    if (!hasRole(principal.role, required)) {
      this.logger.warn(
        `403 ${request.method} ${request.url}: key ${principal.keyId} is ${principal.role}, needs ${required}`,
      );
      throw new ForbiddenException(`this action needs the ${required} role; the API key has ${principal.role}`);
    }
    request.principal = principal;
    return true;
  }
}
