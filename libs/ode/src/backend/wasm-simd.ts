/**
 * Small WebAssembly SIMD kernels that run on the WASM backend's own memory (the module imports the
 * backend's `WebAssembly.Memory`, so tensors are read and written in place, without copies):
 *
 * - `gemm(a, b, c, M, N, K, sAi, sAk)`: C[M, N] = A·B with B row-major [K, N], C row-major [M, N]
 *   and A addressed by byte strides (element (i, k) at a + i·sAi + k·sAk), so that one kernel serves
 *   A·B (sAi = 4K, sAk = 4) and Aᵀ·B for A stored [K, M] (sAi = 4, sAk = 4M). Tiles of 4 rows × 8
 *   columns kept in registers, rank-1 updates along k (the layout of XNNPACK's f32 GEMM micro-kernels),
 *   so M must be a multiple of 4 and N of 8. Unlike the backend's XNNPACK path, nothing is packed:
 *   XNNPACK repacks a fresh right operand on every call (≈ 3.5 ns per entry here: 0.2 ms for
 *   [1024, 64]), which is what a weight gradient Aᵀ·B of two fresh [batch, width] operands always is.
 * - `colsum(x, out, R, C)`: out[C] = Σ_r x[r, ·] for x row-major [R, C], C a multiple of 4 (the
 *   gradient of a bias broadcast over the batch).
 * - `scale(y, x, n, c)` and `axpy(y, x, n, c)`: y = c·x and y += c·x over n floats (the fused
 *   Runge–Kutta stage combinations of lin-comb.ts).
 * - `sigmoidGrad(out, y, dy, n)`: dy·(y·(1 − y)), the gradient of σ from its output.
 *
 * Hand-assembled (no toolchain here): the encoder below writes the binary directly; `WebAssembly
 * .validate` and the tests in wasm-kernels.spec.ts check it. Summation order: plain sequential float32
 * sums along k (gemm) and r (colsum), as the backend's naive kernels; the elementwise kernels do the
 * float32 operations of the ops they replace in the same order (bit-identical results).
 */

/** The instantiated kernels, or null when WebAssembly SIMD is unavailable. */
export interface SimdKernels {
  gemm(a: number, b: number, c: number, M: number, N: number, K: number, sAi: number, sAk: number): void;
  colsum(x: number, out: number, R: number, C: number): void;
  /** y[i] = c·x[i] for i < n (float32). */
  scale(y: number, x: number, n: number, c: number): void;
  /** y[i] += c·x[i] for i < n (float32: the product rounded, then the sum, as tf.mul then tf.add). */
  axpy(y: number, x: number, n: number, c: number): void;
  /** out[i] = dy[i]·(y[i]·(1 − y[i])) for i < n: the gradient of σ from its output (float32, in that order). */
  sigmoidGrad(out: number, y: number, dy: number, n: number): void;
}

const I32 = 0x7f;
const V128 = 0x7b;
const F32 = 0x7d;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...Array.from(Buffer.from(s, 'utf8'))];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** Instruction helpers (only what the two kernels use). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  geU: [0x4f],
  eqz: [0x45],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  end: [0x0b],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32Sub: [0x93],
  f32Const1: [0x43, 0x00, 0x00, 0x80, 0x3f],
  ltU: [0x49],
};
const v128Load = (offset = 0) => op.simd(0x00, 0, ...uleb(offset));
const v128Load32Splat = (offset = 0) => op.simd(0x09, 0, ...uleb(offset));
const v128Store = (offset = 0) => op.simd(0x0b, 0, ...uleb(offset));
const v128Zero = () => op.simd(0x0c, ...new Array(16).fill(0));
const f32x4Add = () => op.simd(0xe4);
const f32x4Sub = () => op.simd(0xe5);
const f32x4Mul = () => op.simd(0xe6);
const f32x4Splat = () => op.simd(0x13);

/** local += local2 (i32). */
const incr = (local: number, by: number[]) => [...op.get(local), ...by, ...op.add, ...op.set(local)];

function gemmBody(): { locals: number[][]; code: number[] } {
  // Params: 0 a, 1 b, 2 c, 3 M, 4 N, 5 K, 6 sAi, 7 sAk.
  const [a, b, c, M, N, , sAi, sAk] = [0, 1, 2, 3, 4, 5, 6, 7];
  const K = 5;
  // i32 locals
  const i0 = 8,
    j0 = 9,
    k = 10,
    pa0 = 11,
    pa1 = 12,
    pa2 = 13,
    pa3 = 14,
    pb = 15,
    pc = 16,
    sB = 17;
  // v128 locals: 8 accumulators, b0, b1, av
  const acc = [18, 19, 20, 21, 22, 23, 24, 25];
  const b0 = 26,
    b1 = 27,
    av = 28;
  const code: number[] = [];
  code.push(...op.get(N), ...op.i32(2), ...op.shl, ...op.set(sB));
  code.push(...op.i32(0), ...op.set(i0));
  code.push(...op.block, ...op.loop); // rows
  code.push(...op.get(i0), ...op.get(M), ...op.geU, ...op.brIf(1));
  code.push(...op.i32(0), ...op.set(j0));
  code.push(...op.block, ...op.loop); // columns
  code.push(...op.get(j0), ...op.get(N), ...op.geU, ...op.brIf(1));
  for (const r of acc) code.push(...v128Zero(), ...op.set(r));
  // pa0 = a + i0*sAi; pa_r = pa_{r-1} + sAi
  code.push(...op.get(a), ...op.get(i0), ...op.get(sAi), ...op.mul, ...op.add, ...op.set(pa0));
  code.push(...op.get(pa0), ...op.get(sAi), ...op.add, ...op.set(pa1));
  code.push(...op.get(pa1), ...op.get(sAi), ...op.add, ...op.set(pa2));
  code.push(...op.get(pa2), ...op.get(sAi), ...op.add, ...op.set(pa3));
  // pb = b + 4*j0
  code.push(...op.get(b), ...op.get(j0), ...op.i32(2), ...op.shl, ...op.add, ...op.set(pb));
  code.push(...op.get(K), ...op.set(k));
  code.push(...op.block, ...op.loop); // k
  code.push(...op.get(k), ...op.eqz, ...op.brIf(1));
  code.push(...op.get(pb), ...v128Load(0), ...op.set(b0));
  code.push(...op.get(pb), ...v128Load(16), ...op.set(b1));
  [pa0, pa1, pa2, pa3].forEach((pa, r) => {
    code.push(...op.get(pa), ...v128Load32Splat(0), ...op.set(av));
    code.push(...op.get(acc[2 * r]), ...op.get(av), ...op.get(b0), ...f32x4Mul(), ...f32x4Add(), ...op.set(acc[2 * r]));
    code.push(
      ...op.get(acc[2 * r + 1]),
      ...op.get(av),
      ...op.get(b1),
      ...f32x4Mul(),
      ...f32x4Add(),
      ...op.set(acc[2 * r + 1]),
    );
  });
  for (const pa of [pa0, pa1, pa2, pa3]) code.push(...incr(pa, op.get(sAk)));
  code.push(...incr(pb, op.get(sB)));
  code.push(...op.get(k), ...op.i32(1), ...op.sub, ...op.set(k));
  code.push(...op.br(0), ...op.end, ...op.end);
  // store the tile: pc = c + 4*(i0*N + j0)
  code.push(
    ...op.get(c),
    ...op.get(i0),
    ...op.get(N),
    ...op.mul,
    ...op.get(j0),
    ...op.add,
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.set(pc),
  );
  for (let r = 0; r < 4; r++) {
    code.push(...op.get(pc), ...op.get(acc[2 * r]), ...v128Store(0));
    code.push(...op.get(pc), ...op.get(acc[2 * r + 1]), ...v128Store(16));
    if (r < 3) code.push(...incr(pc, op.get(sB)));
  }
  code.push(...incr(j0, op.i32(8)), ...op.br(0), ...op.end, ...op.end);
  code.push(...incr(i0, op.i32(4)), ...op.br(0), ...op.end, ...op.end);
  return {
    locals: [
      [10, I32],
      [11, V128],
    ],
    code,
  };
}

function colsumBody(): { locals: number[][]; code: number[] } {
  // Params: 0 x, 1 out, 2 R, 3 C.
  const [x, out, R, C] = [0, 1, 2, 3];
  const j = 4,
    r = 5,
    p = 6,
    stride = 7;
  const s = 8;
  const code: number[] = [];
  code.push(...op.get(C), ...op.i32(2), ...op.shl, ...op.set(stride));
  code.push(...op.i32(0), ...op.set(j));
  code.push(...op.block, ...op.loop);
  code.push(...op.get(j), ...op.get(C), ...op.geU, ...op.brIf(1));
  code.push(...v128Zero(), ...op.set(s));
  code.push(...op.get(x), ...op.get(j), ...op.i32(2), ...op.shl, ...op.add, ...op.set(p));
  code.push(...op.get(R), ...op.set(r));
  code.push(...op.block, ...op.loop);
  code.push(...op.get(r), ...op.eqz, ...op.brIf(1));
  code.push(...op.get(s), ...op.get(p), ...v128Load(0), ...f32x4Add(), ...op.set(s));
  code.push(...incr(p, op.get(stride)));
  code.push(...op.get(r), ...op.i32(1), ...op.sub, ...op.set(r));
  code.push(...op.br(0), ...op.end, ...op.end);
  code.push(...op.get(out), ...op.get(j), ...op.i32(2), ...op.shl, ...op.add, ...op.get(s), ...v128Store(0));
  code.push(...incr(j, op.i32(4)), ...op.br(0), ...op.end, ...op.end);
  return {
    locals: [
      [4, I32],
      [1, V128],
    ],
    code,
  };
}

/**
 * y = c·x (accumulate = false) or y += c·x (accumulate = true) over n floats: 4 at a time with SIMD,
 * then the remainder one by one. Params: 0 y, 1 x, 2 n, 3 c (f32).
 */
function axpyBody(accumulate: boolean): { locals: number[][]; code: number[] } {
  const [y, x, n, c] = [0, 1, 2, 3];
  const i = 4,
    end4 = 5,
    py = 6,
    px = 7;
  const cv = 8;
  const code: number[] = [];
  code.push(...op.get(c), ...f32x4Splat(), ...op.set(cv));
  code.push(...op.get(n), ...op.i32(-4), ...[0x71] /* i32.and */, ...op.set(end4));
  code.push(...op.i32(0), ...op.set(i));
  const ptrs = () => {
    code.push(...op.get(y), ...op.get(i), ...op.i32(2), ...op.shl, ...op.add, ...op.set(py));
    code.push(...op.get(x), ...op.get(i), ...op.i32(2), ...op.shl, ...op.add, ...op.set(px));
  };
  code.push(...op.block, ...op.loop);
  code.push(...op.get(i), ...op.get(end4), ...op.geU, ...op.brIf(1));
  ptrs();
  code.push(...op.get(py));
  if (accumulate) code.push(...op.get(py), ...v128Load(0));
  code.push(...op.get(px), ...v128Load(0), ...op.get(cv), ...f32x4Mul());
  if (accumulate) code.push(...f32x4Add());
  code.push(...v128Store(0));
  code.push(...incr(i, op.i32(4)), ...op.br(0), ...op.end, ...op.end);
  code.push(...op.block, ...op.loop);
  code.push(...op.get(i), ...op.get(n), ...op.geU, ...op.brIf(1));
  ptrs();
  code.push(...op.get(py));
  if (accumulate) code.push(...op.get(py), ...op.f32Load);
  code.push(...op.get(px), ...op.f32Load, ...op.get(c), ...op.f32Mul);
  if (accumulate) code.push(...op.f32Add);
  code.push(...op.f32Store);
  code.push(...incr(i, op.i32(1)), ...op.br(0), ...op.end, ...op.end);
  return {
    locals: [
      [4, I32],
      [1, V128],
    ],
    code,
  };
}

/** out = dy·(y·(1 − y)) over n floats (SIMD, then the remainder). Params: 0 out, 1 y, 2 dy, 3 n. */
function sigmoidGradBody(): { locals: number[][]; code: number[] } {
  const [out, y, dy, n] = [0, 1, 2, 3];
  const i = 4,
    end4 = 5,
    off = 6;
  const one = 7,
    v = 8;
  const code: number[] = [];
  code.push(...op.f32Const1, ...f32x4Splat(), ...op.set(one));
  code.push(...op.get(n), ...op.i32(-4), 0x71, ...op.set(end4));
  code.push(...op.i32(0), ...op.set(i));
  const at = (base: number) => [...op.get(base), ...op.get(off), ...op.add];
  const blocks = (step: number, limit: number, load: number[], sub: number[], mul: number[], store: number[]) => {
    code.push(...op.block, ...op.loop);
    code.push(...op.get(i), ...op.get(limit), ...op.geU, ...op.brIf(1));
    code.push(...op.get(i), ...op.i32(2), ...op.shl, ...op.set(off));
    code.push(...at(y), ...load, ...op.set(v));
    code.push(...at(out), ...at(dy), ...load, ...op.get(v));
    code.push(...(step === 4 ? op.get(one) : op.f32Const1), ...op.get(v), ...sub, ...mul, ...mul, ...store);
    code.push(...incr(i, op.i32(step)), ...op.br(0), ...op.end, ...op.end);
  };
  blocks(4, end4, v128Load(0), f32x4Sub(), f32x4Mul(), v128Store(0));
  return {
    locals: [
      [3, I32],
      [2, V128],
    ],
    code: [...code, ...sigmoidGradTail(out, y, dy, n, i, off)],
  };
}

/** The scalar remainder of {@link sigmoidGradBody} (f32 locals cannot share the v128 slot). */
function sigmoidGradTail(out: number, y: number, dy: number, n: number, i: number, off: number): number[] {
  const code: number[] = [];
  const at = (base: number) => [...op.get(base), ...op.get(off), ...op.add];
  code.push(...op.block, ...op.loop);
  code.push(...op.get(i), ...op.get(n), ...op.geU, ...op.brIf(1));
  code.push(...op.get(i), ...op.i32(2), ...op.shl, ...op.set(off));
  // out = dy · (y · (1 − y)), y loaded twice (no f32 local).
  code.push(...at(out), ...at(dy), ...op.f32Load, ...at(y), ...op.f32Load);
  code.push(...op.f32Const1, ...at(y), ...op.f32Load, ...op.f32Sub, ...op.f32Mul, ...op.f32Mul, ...op.f32Store);
  code.push(...incr(i, op.i32(1)), ...op.br(0), ...op.end, ...op.end);
  return code;
}

/** The module's bytes. */
function simdModuleBytes(): Uint8Array {
  const gemmType = [0x60, ...vec(new Array(8).fill([I32])), 0x00];
  const colsumType = [0x60, ...vec(new Array(4).fill([I32])), 0x00];
  const axpyType = [0x60, ...vec([[I32], [I32], [I32], [F32]]), 0x00];
  const types = section(1, vec([gemmType, colsumType, axpyType]));
  // sigmoidGrad has the colsum signature (four i32).
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]]));
  const funcs = section(3, vec([uleb(0), uleb(1), uleb(2), uleb(2), uleb(1)]));
  const exports = section(
    7,
    vec([
      [...str('gemm'), 0x00, 0],
      [...str('colsum'), 0x00, 1],
      [...str('scale'), 0x00, 2],
      [...str('axpy'), 0x00, 3],
      [...str('sigmoidGrad'), 0x00, 4],
    ]),
  );
  const body = (f: { locals: number[][]; code: number[] }) => {
    const content = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, ...op.end];
    return [...uleb(content.length), ...content];
  };
  const code = section(
    10,
    vec([body(gemmBody()), body(colsumBody()), body(axpyBody(false)), body(axpyBody(true)), body(sigmoidGradBody())]),
  );
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...funcs,
    ...exports,
    ...code,
  ]);
}

/** The WebAssembly API (a global of every runtime the WASM backend runs on; not in this project's TS libs). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** An opaque `WebAssembly.Memory`. */
export type WasmMemory = object;

const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether this runtime accepts the module (WebAssembly with SIMD). */
export function simdModuleValid(): boolean {
  return wasmApi()?.validate(simdModuleBytes()) ?? false;
}

/**
 * Instantiates the kernels on `memory` (the WASM backend's memory), or returns null when this
 * runtime has no WebAssembly SIMD (validation fails) or instantiation fails.
 */
export function instantiateSimdKernels(memory: WasmMemory): SimdKernels | null {
  const api = wasmApi();
  const bytes = simdModuleBytes();
  if (!api || !api.validate(bytes)) return null;
  try {
    const instance = new api.Instance(new api.Module(bytes), { env: { memory } });
    return instance.exports as SimdKernels;
  } catch {
    return null;
  }
}
