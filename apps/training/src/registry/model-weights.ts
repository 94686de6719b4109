import type { NeuralModel } from '@continuum/neural';

/**
 * A model's weights as the `models.weights` column holds them and the twin reads them
 * (`loadTwinModelFromRow`): float32 little-endian, every parameter in `params.entries()` order —
 * the bytes of the `weights.bin` that `saveModel` writes.
 */
export function modelWeights(model: NeuralModel): Buffer {
  const arrays = model.params.entries().map(([, v]) => v.dataSync() as Float32Array);
  const buf = Buffer.alloc(arrays.reduce((n, a) => n + a.length, 0) * 4);
  let o = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++, o += 4) buf.writeFloatLE(a[i], o);
  return buf;
}
