import { main } from '@continuum/runtime';
import { PlatformModule } from './platform.module';

/** `npm start`: the whole platform in one process. */
main({ role: 'platform', rootModule: PlatformModule.register, http: true, events: true, embedded: true });
