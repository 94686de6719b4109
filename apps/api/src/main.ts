import { main } from '@continuum/runtime';
import { ApiModule } from './api.module';

/** The api app alone (external mode): `npm run start:api`. */
main({
  role: 'api',
  rootModule: ApiModule.register,
  configure: ApiModule.configure,
  http: true,
  events: true,
  embedded: false,
});
