import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Role } from '@continuum/persistence';
import type { Principal } from './principal';

export const PUBLIC_KEY = 'continuum:public';
export const ROLE_KEY = 'continuum:role';

/** The route needs no token (health, metrics, the OpenAPI document). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** The least role the route needs; routes without it need `viewer`. */
export const RequireRole = (role: Role) => SetMetadata(ROLE_KEY, role);

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal,
);
