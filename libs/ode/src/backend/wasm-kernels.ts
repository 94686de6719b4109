import * as tf from '@tensorflow/tfjs';
import { FLAT_CONCAT, LIN_COMB, registerFlatConcatGradient, registerLinCombGradient } from './lin-comb';
import { instantiateSimdKernels, type SimdKernels, type WasmMemory } from './wasm-simd';

/**
 * Faster replacements for five kernels of TensorFlow.js's WASM backend (4.22), installed by
 * `initTensorBackend` when it picks 'wasm'. They run the backend's own kernels on rearranged
 * operands, or the SIMD kernels of wasm-simd.ts on the backend's memory: transposes, sums and
 * clones give identical values; a transposed-operand matMul sums in another float32 order than the
 * naive loop (round-off differences only). They matter most for gradients, where autodiff emits
 * transposed-operand matMuls, leading-axis sums and a copy of every tensor an op saves:
 *
 * - **Transpose**: the WASM kernel writes the output with a stride of R floats for an [R, C] input;
 *   when R is a multiple of 512 or 1024 every write lands in the same cache sets (4K aliasing) and
 *   transposing [1024, 64] costs about 0.6 ms against 0.08 ms for [1000, 64]. A 2-D transpose of a
 *   large [R, C] with R divisible by 32 runs as two cache-friendly transposes instead:
 *   [R/32, 32, C] → [R/32, C, 32] (short strides) → [C, R/32, 32] (contiguous blocks of 32).
 * - **BatchMatMul / _FusedMatMul** with `transposeA` or `transposeB`: the WASM backend only has a
 *   fast (XNNPACK) path for untransposed operands; with a transposed one it runs a naive loop, 10-15x
 *   slower ([1024, 64]ᵀ·[1024, 64]: about 3.3 ms CPU). The gradient of every matMul uses both flags
 *   (dA = dY·Bᵀ, dB = Aᵀ·dY). Unbatched plain products Aᵀ·B and A·Bᵀ with M a multiple of 4 and N of
 *   8 run on the SIMD GEMM of wasm-simd.ts (A·Bᵀ after transposing B, a weight): XNNPACK repacks
 *   a fresh right operand on every call (≈ 0.2 ms for [1024, 64], more than the product's
 *   arithmetic), and every operand of a gradient is fresh ([1024, 64]ᵀ·[1024, 64]: 0.37 → 0.23 ms;
 *   [1024, 16]ᵀ·[1024, 64] and [1024, 64]ᵀ·[1024, 16]: 0.11-0.16 → 0.04 ms). Other shapes, and
 *   the fused kernel, are rewritten as an explicit (fast) transpose followed by the untransposed
 *   XNNPACK kernel; there Aᵀ·B with A narrower than B runs as (Bᵀ·A)ᵀ (the narrower operand is the
 *   cheaper one to pack).
 * - **Sum** over leading axes (the gradient of a broadcast bias add reduces over the batch axis): the
 *   kernel transposes the reduced axes innermost with the slow transpose above. Float32 sums with a
 *   trailing size that is a multiple of 4 now run as one SIMD pass of column sums (0.08 → 0.013 ms
 *   for [1024, 64]), others through the fast transpose.
 * - **Identity** (`tf.clone`, and the engine's copy of every tensor that a recorded op saves for its
 *   gradient) shares the data by reference count instead of copying it, as the backend's own Reshape
 *   and the CPU backend's Identity do (tensors are immutable).
 *
 * Kernels of our own are registered for 'wasm' alongside: `ContinuumLinComb` (Σ c_i·x_i in one
 * pass, lin-comb.ts: each Runge–Kutta stage combination of `TensorOps` and of the adjoint's
 * `AugmentedOps` becomes one kernel instead of a multiply per term plus an addN, 0.10 → 0.011 ms for
 * six [1024, 16] terms; gradient registered) and `ContinuumSigmoidGrad` (the gradient of σ, which
 * TensorFlow.js composes from three kernels; its registered gradient is replaced while the tuned
 * kernels are in place, and composes the original ops when a tape records it or off 'wasm'), and
 * `ContinuumFlatConcat` (the adjoint's parameter gradients flattened into one channel by a copy per
 * input instead of a reshape per parameter plus a concat). All give the composed ops' values bit for bit.
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
    if (tf.getKernel(LIN_COMB, BACKEND)) tf.unregisterKernel(LIN_COMB, BACKEND);
    if (tf.getKernel(FLAT_CONCAT, BACKEND)) tf.unregisterKernel(FLAT_CONCAT, BACKEND);
    if (tf.getKernel(SIGMOID_GRAD, BACKEND)) tf.unregisterKernel(SIGMOID_GRAD, BACKEND);
    if (originalSigmoidGradient) tf.registerGradient(originalSigmoidGradient);
    originalSigmoidGradient = null;
    originals = null;
    simd = null;
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
  const wasmBackend = tf.findBackend(BACKEND) as unknown as WasmBackendInternals | undefined;
  simd = wasmBackend?.wasm?.asm?.memory ? instantiateSimdKernels(wasmBackend.wasm.asm.memory) : null;
  // The SIMD module is bound to this backend instance's memory: a kernel call on another instance
  // (the backend removed and registered again) takes the other paths.
  const simdOn = (backend: unknown): SimdKernels | null => (backend === wasmBackend ? simd : null);
  const sum: Kernel = (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const perm = tf.backend_util.getAxesPermutation(axes, rank);
    if (perm === null) return sumK(args);
    // Leading axes of a float32 tensor, trailing size a multiple of 4: one SIMD pass of column sums.
    const lead = [...axes].sort((p, q) => p - q).every((p, i) => p === i);
    const R = x.shape.slice(0, axes.length).reduce((n, k) => n * k, 1);
    const C = x.shape.slice(axes.length).reduce((n, k) => n * k, 1);
    const kernels = simdOn(args.backend);
    if (kernels && lead && x.dtype === 'float32' && R > 0 && C > 0 && C % 4 === 0) {
      const b = args.backend as WasmBackendInternals;
      const shape = keepDims ? x.shape.map((k, i) => (i < axes.length ? 1 : k)) : x.shape.slice(axes.length);
      const out = b.makeOutput(shape, 'float32');
      kernels.colsum(offsetOf(b, x), offsetOf(b, out), R, C);
      return out;
    }
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
      // Aᵀ·B, or A·Bᵀ with B transposed first (a weight: small), on the SIMD kernel: no XNNPACK
      // packing of a fresh right operand, no transpose of A. Plain products only (no bias/activation).
      const kernels = simdOn(args.backend);
      if (kernels && mayReorder && attrs.transposeA !== attrs.transposeB) {
        const K = a.shape[a.shape.length - (attrs.transposeA ? 2 : 1)];
        const M = a.shape[a.shape.length - (attrs.transposeA ? 1 : 2)];
        const N = b.shape[b.shape.length - (attrs.transposeB ? 2 : 1)];
        if (M % 4 === 0 && N % 8 === 0 && M > 0 && N > 0 && K > 0) {
          const backend = args.backend as WasmBackendInternals;
          const bb = attrs.transposeB ? swapLast(b) : b;
          try {
            const rank = Math.max(a.shape.length, b.shape.length);
            const out = backend.makeOutput([...new Array(rank - 2).fill(1), M, N], 'float32');
            const [sAi, sAk] = attrs.transposeA ? [4, 4 * M] : [4 * K, 4];
            kernels.gemm(offsetOf(backend, a), offsetOf(backend, bb), offsetOf(backend, out), M, N, K, sAi, sAk);
            return out;
          } finally {
            temps.forEach((t) => dispose(args.backend, t));
          }
        }
      }
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

  // Identity (tf.clone, and the engine's copy of every tensor a recorded op saves for its gradient:
  // about 14 [B, width] copies per vector–Jacobian product of a 3-layer MLP) shares the data with a
  // reference count, as the backend's own Reshape does and as the CPU backend's Identity does:
  // tensors are immutable, so a copy is never needed.
  const identityK = orig('Identity');
  const identity: Kernel = (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return identityK(args);
    (args.backend as WasmBackendInternals).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  // Σ c_i·x_i in one kernel (lin-comb.ts): a Runge–Kutta stage combination without a multiply per term.
  if (simd) {
    const kernels = simd;
    const linComb: Kernel = (args) => {
      const backend = args.backend as WasmBackendInternals;
      const { coeffs } = args.attrs as { coeffs: number[] };
      const x0 = args.inputs.x0;
      const n = tf.util.sizeFromShape(x0.shape);
      const out = backend.makeOutput(x0.shape, 'float32');
      const xs = coeffs.map((_, i) => args.inputs[`x${i}`]);
      if (simdOn(backend)) {
        const o = offsetOf(backend, out);
        kernels.scale(o, offsetOf(backend, x0), n, coeffs[0]);
        for (let i = 1; i < xs.length; i++) kernels.axpy(o, offsetOf(backend, xs[i]), n, coeffs[i]);
      } else {
        const ov = backend.typedArrayFromHeap(out);
        xs.forEach((x, i) => {
          const xv = backend.typedArrayFromHeap(x);
          const c = Math.fround(coeffs[i]);
          for (let k = 0; k < n; k++) ov[k] = i === 0 ? c * xv[k] : ov[k] + Math.fround(c * xv[k]);
        });
      }
      return out;
    };
    tf.registerKernel({ kernelName: LIN_COMB, backendName: BACKEND, kernelFunc: linComb as tf.KernelFunc });
    registerLinCombGradient();
    // The gradient of σ from its saved output, dy·(y·(1 − y)), in one pass instead of three kernels
    // (a broadcast subtraction from 1 and two products); same operations in the same order.
    const sigmoidGrad: Kernel = (args) => {
      const backend = args.backend as WasmBackendInternals;
      const { y, dy } = args.inputs;
      const out = backend.makeOutput(y.shape, 'float32');
      const n = tf.util.sizeFromShape(y.shape);
      if (simdOn(backend)) kernels.sigmoidGrad(offsetOf(backend, out), offsetOf(backend, y), offsetOf(backend, dy), n);
      else {
        const [ov, yv, gv] = [out, y, dy].map((t) => backend.typedArrayFromHeap(t));
        for (let k = 0; k < n; k++) ov[k] = gv[k] * Math.fround(yv[k] * Math.fround(1 - yv[k]));
      }
      return out;
    };
    tf.registerKernel({ kernelName: SIGMOID_GRAD, backendName: BACKEND, kernelFunc: sigmoidGrad as tf.KernelFunc });
    originalSigmoidGradient = tf.getGradient('Sigmoid') ?? null;
    const fallback = originalSigmoidGradient;
    if (fallback)
      tf.registerGradient({
        ...fallback,
        gradFunc: (dy, saved, attrs) => {
          const [y] = saved;
          const g = Array.isArray(dy) ? dy[0] : dy;
          // The fused kernel has no gradient of its own: compose the ops when this gradient is itself
          // being recorded (higher-order derivatives), or off the WASM backend.
          if (
            tf.getBackend() !== BACKEND ||
            tapeRecording() ||
            y.dtype !== 'float32' ||
            g.dtype !== 'float32' ||
            !tf.util.arraysEqual(y.shape, g.shape)
          )
            return fallback.gradFunc(dy, saved, attrs);
          return { x: () => tf.engine().runKernel(SIGMOID_GRAD, { y, dy: g }) as tf.Tensor };
        },
      });
  }
  // The flattened concatenation of fusedFlatConcat (lin-comb.ts): one copy per input, no reshapes.
  const flatConcat: Kernel = (args) => {
    const backend = args.backend as WasmBackendInternals;
    const { shapes } = args.attrs as { shapes: number[][] };
    const xs = shapes.map((_, i) => args.inputs[`x${i}`]);
    const out = backend.makeOutput([xs.reduce((n, x) => n + tf.util.sizeFromShape(x.shape), 0)], 'float32');
    const ov = backend.typedArrayFromHeap(out);
    let offset = 0;
    for (const x of xs) {
      const v = backend.typedArrayFromHeap(x);
      ov.set(v, offset);
      offset += v.length;
    }
    return out;
  };
  tf.registerKernel({ kernelName: FLAT_CONCAT, backendName: BACKEND, kernelFunc: flatConcat as tf.KernelFunc });
  registerFlatConcatGradient();
  const replace = (name: string, kernelFunc: Kernel) =>
    swap({ ...(found.get(name) as tf.KernelConfig), kernelFunc: kernelFunc as tf.KernelFunc });
  replace('Transpose', transpose);
  replace('Sum', sum);
  replace('Identity', identity);
  replace('BatchMatMul', matMul(orig('BatchMatMul'), true));
  // The fused bias and activation apply to the product as it comes out: no reordering there.
  replace('_FusedMatMul', matMul(orig('_FusedMatMul'), false));
  return true;
}

/** The WASM backend's fields the SIMD kernels need (internal to @tensorflow/tfjs-backend-wasm 4.x). */
interface WasmBackendInternals {
  wasm?: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  incRef(dataId: unknown): void;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** Byte offset of a tensor's data in the WASM backend's memory. */
function offsetOf(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor data not found in the WASM backend');
  return d.memoryOffset;
}

/** Kernel name of the fused gradient of σ (registered for the WASM backend only). */
const SIGMOID_GRAD = 'ContinuumSigmoidGrad';
/** TensorFlow.js's own gradient of Sigmoid while ours is registered. */
let originalSigmoidGradient: tf.GradConfig | null = null;

/** Whether TensorFlow.js is recording ops on a gradient tape right now (engine internals, 4.x). */
function tapeRecording(): boolean {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; kernelDepth: number } }).state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/** The SIMD kernels of wasm-simd.ts on the backend's memory (null: unavailable, or not tuned). */
let simd: SimdKernels | null = null;

/** Whether {@link tuneWasmKernels} is in effect. */
export function wasmKernelsTuned(): boolean {
  return originals !== null;
}

const BACKEND = 'wasm';
const NAMES = ['Transpose', 'Sum', 'BatchMatMul', '_FusedMatMul', 'Identity'];
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
