import { main } from '@continuum/runtime';
import { ApiModule } from '../../api/src/api.module';
import { PlatformModule } from './platform.module';

/** `npm start`: the whole platform in one process. */
main({
  role: 'platform',
  rootModule: PlatformModule.register,
  configure: ApiModule.configure,
  http: true,
  events: true,
  embedded: true,
});
