/**
 * `npm run models -- list [--asset-type t] | show <id> | compare <id-a> <id-b> | activate <id> [--force] | rollback <asset-type>`
 *
 * The model registry from the command line. Uses DATABASE_URL, else the embedded database.
 */
import { loadConfig } from '@continuum/config';
import { Database, ModelsRepository } from '@continuum/persistence';
import { ModelRegistryService } from '../registry/model-registry.service';
import { parseArgs } from './cli-args';

const fmt = (v: unknown) =>
  typeof v === 'number' ? v.toPrecision(4) : v === undefined || v === null ? '-' : String(v);

async function main(): Promise<void> {
  const { positional, options } = parseArgs(process.argv.slice(2));
  const [command, a, b] = positional;
  const db = await Database.open(loadConfig().database);
  try {
    const registry = new ModelRegistryService(new ModelsRepository(db.dataSource));
    switch (command) {
      case 'list':
      case undefined: {
        const rows = await registry.list(typeof options['asset-type'] === 'string' ? options['asset-type'] : undefined);
        console.log(['asset type', 'version', 'status', 'kind', 'valLoss', 'created', 'id'].join('\t'));
        for (const m of rows)
          console.log(
            [
              m.assetType,
              `v${m.version}`,
              m.status,
              m.kind,
              fmt(m.metrics.valLoss),
              m.createdAt.toISOString(),
              m.id,
            ].join('\t'),
          );
        break;
      }
      case 'show':
        console.log(JSON.stringify(await registry.get(a), null, 2));
        break;
      case 'compare':
        console.log(JSON.stringify(await registry.compare(a, b), null, 2));
        break;
      case 'activate': {
        const r = await registry.activate(a, options.force === true);
        console.log(
          `${r.model.assetType}: v${r.model.version} active${r.previous ? ` (v${r.previous.version} retired)` : ''}`,
        );
        break;
      }
      case 'rollback': {
        const r = await registry.rollback(a);
        console.log(`${r.model.assetType}: rolled back to v${r.model.version}`);
        break;
      }
      default:
        throw new Error(`unknown command '${command}' (list, show, compare, activate, rollback)`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err: Error & { status?: number }) => {
  console.error(`models: ${err.message}`);
  process.exit(err.status ? 2 : 1);
});
