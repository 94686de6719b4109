import * as path from 'node:path';
import {
  disposeTwinModel,
  loadDefaultModels,
  loadTwinModelFromRow,
  type ModelRow,
  type TwinModel,
} from '@continuum/neural';

/** Where the registry reads active models. */
export interface ModelSource {
  activeModelIds(): Promise<{ id: string; assetType: string }[]>;
  model(id: string): Promise<ModelRow | null>;
}

/**
 * The model of each asset type: the active version in the `models` table (polled, so a newly activated
 * version is picked up without a restart), else the shipped default (`models/default/<asset-type>`,
 * trained by `npm run train:default-model`), else none (the machine's readings are counted `no-model`).
 * A model row that cannot be loaded (kind without a filter form, bad weights) is logged once and the
 * default stays in use.
 */
export class ModelRegistry {
  private loadedDefaults: Map<string, TwinModel> | null = null;
  private readonly active = new Map<string, TwinModel>();
  private readonly failed = new Set<string>();

  constructor(
    private readonly defaultsDir: string,
    private readonly source: ModelSource | null,
    private readonly log: (level: 'log' | 'warn', message: string) => void = () => undefined,
  ) {}

  /**
   * The shipped defaults, loaded on first use: by then the service has chosen the TensorFlow.js
   * backend, so the weights live on it (loading them earlier put them on the slow CPU backend).
   */
  private get defaults(): Map<string, TwinModel> {
    this.loadedDefaults ??= loadDefaultModels(path.resolve(this.defaultsDir), (m) => this.log('warn', m));
    return this.loadedDefaults;
  }

  /** Asset types with a shipped default. */
  get defaultAssetTypes(): string[] {
    return [...this.defaults.keys()];
  }

  /** The model an asset type runs now. */
  modelFor(assetType: string): TwinModel | undefined {
    return this.active.get(assetType) ?? this.defaults.get(assetType);
  }

  /** Adds or replaces a model directly (tests, benchmarks). */
  use(model: TwinModel): void {
    const old = this.active.get(model.assetType);
    this.active.set(model.assetType, model);
    if (old && old !== model) disposeTwinModel(old);
  }

  /** Reads which versions are active and loads those not loaded yet; returns the asset types that changed. */
  async poll(): Promise<string[]> {
    if (!this.source) return [];
    const rows = await this.source.activeModelIds();
    const changed: string[] = [];
    const activeTypes = new Set(rows.map((r) => r.assetType));
    for (const { id, assetType } of rows) {
      if (this.active.get(assetType)?.id === id || this.failed.has(id)) continue;
      const row = await this.source.model(id);
      if (!row) continue;
      try {
        const model = loadTwinModelFromRow(row);
        this.use(model);
        changed.push(assetType);
        this.log('log', `asset type ${assetType} now runs model ${model.version}`);
      } catch (err) {
        this.failed.add(id);
        this.log('warn', `model ${id} (${assetType}) not usable, keeping the previous one: ${(err as Error).message}`);
      }
    }
    // A retired model without a successor: back to the default.
    for (const [assetType, model] of this.active)
      if (model.id !== null && !activeTypes.has(assetType)) {
        this.active.delete(assetType);
        disposeTwinModel(model);
        changed.push(assetType);
      }
    return changed;
  }

  dispose(): void {
    for (const m of [...this.active.values(), ...(this.loadedDefaults?.values() ?? [])]) disposeTwinModel(m);
    this.active.clear();
    this.loadedDefaults?.clear();
  }
}
