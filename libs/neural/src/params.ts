import * as tf from '@tensorflow/tfjs';
import { Rng } from './random';

/** How a parameter starts: Glorot-uniform (fan-in, fan-out from the shape), zeros, a constant or given values. */
export type Init = 'glorot' | 'zeros' | number | Float32Array;

/**
 * An ordered, named collection of trainable `tf.Variable`s shared by the parts of a model. Names are
 * '/'-separated paths ("encoder/gru/wx"); the order of creation is the order of serialisation.
 */
export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();

  /** @param rng generator used by every initialiser (a seeded model is reproducible) */
  constructor(readonly rng: Rng) {}

  /** Creates a variable (the name must be new). */
  create(name: string, shape: number[], init: Init = 'glorot', scale = 1): tf.Variable {
    if (this.vars.has(name)) throw new Error(`Parameter '${name}' already exists`);
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (init instanceof Float32Array) {
      if (init.length !== size) throw new Error(`Parameter '${name}': ${init.length} values for shape [${shape}]`);
      values = Float32Array.from(init);
    } else if (init === 'zeros') values = new Float32Array(size);
    else if (typeof init === 'number') values = new Float32Array(size).fill(init);
    else {
      const fanIn = shape.length >= 2 ? shape[0] : 1;
      const fanOut = shape[shape.length - 1];
      const limit = scale * Math.sqrt(6 / (fanIn + fanOut));
      values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = (2 * this.rng.uniform() - 1) * limit;
    }
    const v = tf.variable(tf.tensor(values, shape, 'float32'), true, `${name}_${uid++}`);
    this.vars.set(name, v);
    return v;
  }

  /** A view that prefixes names with `prefix/`. */
  scope(prefix: string): ParamScope {
    return new ParamScope(this, prefix);
  }

  /** Every variable, in creation order. */
  list(): tf.Variable[] {
    return [...this.vars.values()];
  }

  /** Every (name, variable) pair, in creation order. */
  entries(): [string, tf.Variable][] {
    return [...this.vars.entries()];
  }

  get(name: string): tf.Variable | undefined {
    return this.vars.get(name);
  }

  /** Number of scalar parameters. */
  count(): number {
    return this.list().reduce((n, v) => n + v.size, 0);
  }

  /** Copies of every variable's values (for early stopping's best weights). */
  snapshot(): Float32Array[] {
    return this.list().map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  /** Restores values taken by {@link snapshot}. */
  restore(values: Float32Array[]): void {
    const list = this.list();
    if (values.length !== list.length) throw new Error('Snapshot does not match the parameters');
    list.forEach((v, i) => v.assign(tf.tensor(values[i], v.shape, 'float32')));
  }

  dispose(): void {
    this.vars.forEach((v) => v.dispose());
    this.vars.clear();
  }
}

let uid = 0;

/** A prefixed view of a {@link ParamStore}. */
export class ParamScope {
  constructor(
    readonly store: ParamStore,
    readonly prefix: string,
  ) {}

  create(name: string, shape: number[], init: Init = 'glorot', scale = 1): tf.Variable {
    return this.store.create(`${this.prefix}/${name}`, shape, init, scale);
  }

  scope(prefix: string): ParamScope {
    return new ParamScope(this.store, `${this.prefix}/${prefix}`);
  }
}
