import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';

/**
 * The REST rate limit, for HTTP only. As an APP_GUARD, ThrottlerGuard would also run on internal
 * `@EventPattern` handlers (where every event shares one key, so a busy bus would hit the limit
 * and drop events); `/live` has its own coalescing instead.
 */
@Injectable()
export class HttpThrottlerGuard extends ThrottlerGuard {
  override canActivate(context: ExecutionContext): Promise<boolean> {
    return context.getType() === 'http' ? super.canActivate(context) : Promise.resolve(true);
  }
}
