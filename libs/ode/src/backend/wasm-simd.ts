/**
 * Two small WebAssembly SIMD kernels that run on the WASM backend's own memory (the module imports
 * the backend's `WebAssembly.Memory`, so tensors are read and written in place, without copies):
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
 *
 * Hand-assembled (no toolchain here): the encoder below writes the binary directly; `WebAssembly
 * .validate` and the tests in wasm-kernels.spec.ts check it. Summation order: plain sequential float32
 * sums along k (gemm) and r (colsum), as the backend's naive kernels.
 */

/** The instantiated kernels, or null when WebAssembly SIMD is unavailable. */
export interface SimdKernels {
  gemm(a: number, b: number, c: number, M: number, N: number, K: number, sAi: number, sAk: number): void;
  colsum(x: number, out: number, R: number, C: number): void;
}

const I32 = 0x7f;
const V128 = 0x7b;

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
};
const v128Load = (offset = 0) => op.simd(0x00, 0, ...uleb(offset));
const v128Load32Splat = (offset = 0) => op.simd(0x09, 0, ...uleb(offset));
const v128Store = (offset = 0) => op.simd(0x0b, 0, ...uleb(offset));
const v128Zero = () => op.simd(0x0c, ...new Array(16).fill(0));
const f32x4Add = () => op.simd(0xe4);
const f32x4Mul = () => op.simd(0xe6);

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

/** The module's bytes. */
function simdModuleBytes(): Uint8Array {
  const gemmType = [0x60, ...vec(new Array(8).fill([I32])), 0x00];
  const colsumType = [0x60, ...vec(new Array(4).fill([I32])), 0x00];
  const types = section(1, vec([gemmType, colsumType]));
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]]));
  const funcs = section(3, vec([uleb(0), uleb(1)]));
  const exports = section(
    7,
    vec([
      [...str('gemm'), 0x00, 0],
      [...str('colsum'), 0x00, 1],
    ]),
  );
  const body = (f: { locals: number[][]; code: number[] }) => {
    const content = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, ...op.end];
    return [...uleb(content.length), ...content];
  };
  const code = section(10, vec([body(gemmBody()), body(colsumBody())]));
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
