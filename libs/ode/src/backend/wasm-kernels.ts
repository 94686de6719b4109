import * as tf from '@tensorflow/tfjs';

/**
 * Faster replacements for four kernels of TensorFlow.js's WASM backend (4.22), installed by
 * `initTensorBackend` when it picks 'wasm'. They run the backend's own kernels on rearranged
 * operands: transposes and sums give identical values; a transposed-operand matMul now goes through
 * XNNPACK's untransposed product, whose float32 summation order differs from the naive loop's
 * (round-off differences only). They matter most for gradients, where autodiff emits
 * transposed-operand matMuls and leading-axis sums:
 *
 * - **Transpose**: the WASM kernel writes the output with a stride of R floats for an [R, C] input;
 *   when R is a multiple of 512 or 1024 every write lands in the same cache sets (4K aliasing) and
 *   transposing [1024, 64] costs about 0.6 ms against 0.08 ms for [1000, 64]. A 2-D transpose of a
 *   large [R, C] with R divisible by 32 runs as two cache-friendly transposes instead:
 *   [R/32, 32, C] → [R/32, C, 32] (short strides) → [C, R/32, 32] (contiguous blocks of 32).
 * - **BatchMatMul / _FusedMatMul** with `transposeA` or `transposeB`: the WASM backend only has a
 *   fast (XNNPACK) path for untransposed operands; with a transposed one it runs a naive loop, 10-15x
 *   slower ([1024, 64]ᵀ·[1024, 64]: about 3.3 ms CPU against 0.4 ms transposing first). The gradient
 *   of every matMul uses both flags (dA = dY·Bᵀ, dB = Aᵀ·dY). Unbatched products are rewritten as
 *   an explicit (fast) transpose followed by the untransposed kernel; Aᵀ·B with A narrower than B
 *   runs as (Bᵀ·A)ᵀ, since XNNPACK repacks a fresh right operand on every call and the narrower one
 *   is cheaper to pack (xᵀ·dY for x [1024, 16], dY [1024, 64]: about 0.31 → 0.21 ms CPU).
 * - **Sum** over leading axes (the gradient of a broadcast bias add reduces over the batch axis): the
 *   kernel transposes the reduced axes innermost with the slow transpose above; it now uses the
 *   fast one.
 *
 * Measured on the shared 2-core machine of this project (process CPU time, B = 1024, d = 16,
 * hidden 64, 3-layer MLP): one vector–Jacobian product by `tf.grads` fell from about 18.6 ms to the
 * figure recorded in docs/benchmarks.md (issue 4). Backends other than 'wasm' are not touched.
 *
 * @param enable false restores the backend's own kernels (for before/after measurements and tests)
 * @returns true if the requested kernels are in place; false if the WASM backend's kernels are not
 *   registered (the package is not loaded)
 */
export function tuneWasmKernels(enable = true): boolean {
  if (!enable) {
    if (originals) for (const k of originals.values()) swap(k);
    originals = null;
    return true;
  }
  if (originals) return true;
  const found = new Map<string, tf.KernelConfig>();
  for (const name of NAMES) {
    const k = tf.getKernel(name, BACKEND);
    if (!k) return false;
    found.set(name, k);
  }
  originals = found;
  const orig = (name: string) => (found.get(name) as tf.KernelConfig).kernelFunc as Kernel;
  const transposeK = orig('Transpose');
  const sumK = orig('Sum');

  const transpose: Kernel = (args) => fastTranspose(transposeK, args);
  const sum: Kernel = (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const perm = tf.backend_util.getAxesPermutation(axes, rank);
    if (perm === null) return sumK(args);
    const moved = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
    const inner = tf.backend_util.getInnerMostAxes(axes.length, rank);
    const out = sumK({ inputs: { x: moved }, backend: args.backend, attrs: { axis: inner, keepDims: false } });
    dispose(args.backend, moved);
    if (keepDims)
      (out as tf.TensorInfo).shape = tf.backend_util.expandShapeToKeepDim((out as tf.TensorInfo).shape, axes);
    return out;
  };
  const matMul =
    (kernel: Kernel, mayReorder: boolean): Kernel =>
    (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (
        (!attrs.transposeA && !attrs.transposeB) ||
        a.dtype !== 'float32' ||
        b.dtype !== 'float32' ||
        batchSize(a) !== 1 ||
        batchSize(b) !== 1
      )
        return kernel(args);
      const temps: tf.TensorInfo[] = [];
      const swapLast = (t: tf.TensorInfo, temporary = true): tf.TensorInfo => {
        const r = t.shape.length;
        const perm = t.shape.map((_, i) => (i < r - 2 ? i : i === r - 2 ? r - 1 : r - 2));
        const out = transpose({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
        if (temporary) temps.push(out);
        return out;
      };
      const plain = { ...args.attrs, transposeA: false, transposeB: false };
      // Aᵀ·B with A [K, M], B [K, N] and M < N (e.g. dW = xᵀ·dY of a narrow first layer): XNNPACK
      // packs its right operand on every call (fresh operands are not in its cache), which costs
      // more per entry than a transpose, so pack the narrower A instead: (Bᵀ·A)ᵀ.
      if (
        mayReorder &&
        attrs.transposeA &&
        !attrs.transposeB &&
        a.shape.length === 2 &&
        b.shape.length === 2 &&
        a.shape[1] < b.shape[1]
      ) {
        const product = kernel({ inputs: { a: swapLast(b), b: a }, backend: args.backend, attrs: plain });
        try {
          return swapLast(product as tf.TensorInfo, false);
        } finally {
          temps.forEach((t) => dispose(args.backend, t));
          dispose(args.backend, product as tf.TensorInfo);
        }
      }
      const inputs = {
        ...args.inputs,
        a: attrs.transposeA ? swapLast(a) : a,
        b: attrs.transposeB ? swapLast(b) : b,
      };
      try {
        return kernel({ inputs, backend: args.backend, attrs: plain });
      } finally {
        temps.forEach((t) => dispose(args.backend, t));
      }
    };

  const replace = (name: string, kernelFunc: Kernel) =>
    swap({ ...(found.get(name) as tf.KernelConfig), kernelFunc: kernelFunc as tf.KernelFunc });
  replace('Transpose', transpose);
  replace('Sum', sum);
  replace('BatchMatMul', matMul(orig('BatchMatMul'), true));
  // The fused bias and activation apply to the product as it comes out: no reordering there.
  replace('_FusedMatMul', matMul(orig('_FusedMatMul'), false));
  return true;
}

/** Whether {@link tuneWasmKernels} is in effect. */
export function wasmKernelsTuned(): boolean {
  return originals !== null;
}

const BACKEND = 'wasm';
const NAMES = ['Transpose', 'Sum', 'BatchMatMul', '_FusedMatMul'];
/** The WASM backend's own kernel configs while the tuned ones are registered. */
let originals: Map<string, tf.KernelConfig> | null = null;

/** Registers `config` in place of the kernel of the same name (keeping its setup/dispose functions). */
function swap(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, BACKEND);
  tf.registerKernel(config);
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
type Kernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Block of the two-step transpose (floats): short enough strides, long enough contiguous copies. */
const BLOCK = 32;

function batchSize(t: tf.TensorInfo): number {
  return t.shape.slice(0, -2).reduce((n, k) => n * k, 1);
}

function dispose(backend: unknown, t: tf.TensorInfo): void {
  (backend as { disposeData(id: unknown): void }).disposeData(t.dataId);
}

/**
 * A transpose that is a 2-D [R, C] → [C, R] once size-1 axes are dropped, with R a multiple of
 * {@link BLOCK}, R ≥ 128, C ≥ 16 and at least 16,384 entries, runs in two steps (see
 * {@link tuneWasmKernels}); any other transpose runs the original kernel. The thresholds come from
 * timing R ∈ {64 … 4096} × C ∈ {2 … 1024}: below them the direct kernel is as fast or faster.
 */
function fastTranspose(kernel: Kernel, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const perm = (args.attrs as { perm: number[] }).perm;
  const axes = x.shape.map((_, i) => i).filter((i) => x.shape[i] !== 1);
  const permKept = perm.filter((p) => x.shape[p] !== 1);
  if (axes.length !== 2 || permKept[0] !== axes[1] || permKept[1] !== axes[0]) return kernel(args);
  const R = x.shape[axes[0]];
  const C = x.shape[axes[1]];
  if (R % BLOCK !== 0 || R < 128 || C < 16 || R * C < 16_384) return kernel(args);
  const blocked = { ...x, shape: [R / BLOCK, BLOCK, C] };
  const step1 = kernel({ inputs: { x: blocked }, backend: args.backend, attrs: { perm: [0, 2, 1] } }) as tf.TensorInfo;
  try {
    const out = kernel({
      inputs: { x: { ...step1, shape: [R / BLOCK, C, BLOCK] } },
      backend: args.backend,
      attrs: { perm: [1, 0, 2] },
    }) as tf.TensorInfo;
    out.shape = perm.map((p) => x.shape[p]);
    return out;
  } finally {
    dispose(args.backend, step1);
  }
}
