import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, type Normalisation } from '../serialize';
import type { Engine } from './data';
import { predictRul, type RulPredictor, saveRul } from './pipeline';
import type { RulOdeRnn } from './rul-model';

/**
 * An ensemble of RUL predictors trained alike from different seeds; it predicts the mean of its
 * members' RUL. The members' run-to-run spread is the largest error left in docs/neural.md's
 * cross-validation (up to 5 RMSE within a fold), and averaging three cut the pooled RMSE by 0.4-0.5.
 *
 * On disk: `<dir>/ensemble.json` lists the member directories (`member-1`, ...), each a saved
 * {@link RulPredictor} (model.json + weights.bin). A directory with a plain model.json and no
 * ensemble.json loads as an ensemble of one, so models saved before ensembles keep working.
 */
export interface RulEnsemble {
  members: RulPredictor[];
}

const FORMAT = 'continuum-rul-ensemble';
const VERSION = 1;

interface EnsembleManifest {
  format: typeof FORMAT;
  version: number;
  members: string[];
  metrics: Record<string, unknown>;
  createdAt: string;
}

export function saveRulEnsemble(
  ensemble: RulEnsemble,
  dir: string,
  metrics: Record<string, unknown>,
  source: string,
): void {
  if (ensemble.members.length === 0) throw new Error('an ensemble needs at least one member');
  const members = ensemble.members.map((_, i) => path.join(dir, `member-${i + 1}`));
  ensemble.members.forEach((m, i) => saveRul(m, members[i], metrics, source));
  writeRulEnsembleManifest(dir, members, metrics);
}

/**
 * Writes `<dir>/ensemble.json` for members already saved in subdirectories of `dir` (as the
 * parallel training's child processes save them).
 */
export function writeRulEnsembleManifest(dir: string, memberDirs: string[], metrics: Record<string, unknown>): void {
  if (memberDirs.length === 0) throw new Error('an ensemble needs at least one member');
  const members = memberDirs.map((m) => path.relative(dir, m));
  for (const m of members)
    if (m.startsWith('..') || path.isAbsolute(m)) throw new Error(`member ${m} is not inside ${dir}`);
  fs.mkdirSync(dir, { recursive: true });
  const manifest: EnsembleManifest = {
    format: FORMAT,
    version: VERSION,
    members,
    metrics,
    createdAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(dir, 'ensemble.json'), JSON.stringify(manifest, null, 2) + '\n');
}

function loadPredictor(dir: string): RulPredictor {
  const { model, manifest } = loadModel<RulOdeRnn>(dir);
  if (!manifest.normalisation) throw new Error(`${dir}: the model has no normalisation statistics`);
  return {
    model,
    norm: manifest.normalisation as Normalisation,
    window: (manifest.extra?.window as number | undefined) ?? 50,
    ...(typeof manifest.extra?.span === 'number' ? { span: manifest.extra.span } : {}),
  };
}

export function loadRulEnsemble(dir: string): RulEnsemble {
  const file = path.join(dir, 'ensemble.json');
  if (!fs.existsSync(file)) {
    if (!fs.existsSync(path.join(dir, 'model.json')))
      throw new Error(`${dir}: neither ensemble.json nor model.json (not a saved RUL model)`);
    return { members: [loadPredictor(dir)] };
  }
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as EnsembleManifest;
  if (manifest.format !== FORMAT) throw new Error(`${file}: not a Continuum RUL ensemble`);
  if (manifest.version > VERSION)
    throw new Error(`${file}: format version ${manifest.version} is newer than this library's ${VERSION}`);
  if (!Array.isArray(manifest.members) || manifest.members.length === 0)
    throw new Error(`${file}: the ensemble lists no members`);
  return { members: manifest.members.map((m) => loadPredictor(path.join(dir, m))) };
}

/**
 * The ensemble's RUL (cycles) at the last reading of each engine: the mean of its members'
 * {@link predictRul}. Every member sees the same readings (the same `drop` and `seed`).
 */
export function predictRulEnsemble(ensemble: RulEnsemble, engines: Engine[], drop = 0, seed = 0): number[] {
  const all = ensemble.members.map((m) => predictRul(m, engines, drop, seed));
  return engines.map((_, i) => all.reduce((sum, p) => sum + p[i], 0) / all.length);
}

export function disposeRulEnsemble(ensemble: RulEnsemble): void {
  for (const m of ensemble.members) m.model.dispose();
}
