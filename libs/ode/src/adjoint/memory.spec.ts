import * as tf from '@tensorflow/tfjs';
import { initTensorBackend, odeintAdjoint, type TensorField } from '@continuum/ode';
import { makeMlpField, uniformArray, unrolledGrads } from './test-fields';

beforeAll(async () => {
  await initTensorBackend({ backend: 'cpu', log: () => undefined });
});
afterAll(() => tf.disposeVariables());

const D = 8;
const H = 32;
const B = 16;

/**
 * The MLP field, scaled down, on top of a fixed rotation: f(y) = 0.2·MLP(y) + y S (S skew-symmetric,
 * angular frequency 0.5). Solutions keep turning instead of settling, so the number of steps grows
 * about in proportion to T (3 accepted steps at T = 1, about 100 at T = 100; checked below), which is
 * what makes a memory that grows with the steps visible. (The bare random MLP over T = 100 is
 * expanding enough that its backward solve costs minutes on the JS backend.)
 */
function oscillatingField() {
  const field = makeMlpField(D, H, 3);
  const s = new Float32Array(D * D);
  for (let i = 0; i < D; i += 2) {
    s[i * D + i + 1] = 0.5;
    s[(i + 1) * D + i] = -0.5;
  }
  const S = tf.tensor2d(s, [D, D]);
  const f: TensorField = (t, y) => tf.tidy(() => tf.add(tf.mul(field.f(t, y), 0.2), tf.matMul(y, S)));
  return { f, params: field.params, dispose: () => (field.dispose(), S.dispose()) };
}

/** Wraps f to record the largest live tensor count and byte count seen while `recording` is on. */
function probe(f: TensorField) {
  const peak = { tensors: 0, bytes: 0, recording: false };
  const wrapped: TensorField = (t, y) => {
    if (peak.recording) {
      const m = tf.memory();
      peak.tensors = Math.max(peak.tensors, m.numTensors);
      peak.bytes = Math.max(peak.bytes, m.numBytes);
    }
    return f(t, y);
  };
  return { wrapped, peak };
}

interface Measure {
  steps: number;
  backwardSteps: number;
  tensors: number;
  bytes: number;
}

function measureAdjoint(T: number): Measure {
  const field = oscillatingField();
  const { wrapped, peak } = probe(field.f);
  const y0 = tf.tensor2d(uniformArray(B * D, 21), [B, D]);
  const start = tf.memory();
  let steps = 0;
  let backwardStats: { accepted: number } = { accepted: 0 };
  const { value, grads } = tf.engine().gradients(() => {
    const r = odeintAdjoint(wrapped, y0, [0, T], field.params, { rtol: 1e-4, atol: 1e-5 });
    steps = r.stats.accepted;
    backwardStats = r.stats.backward;
    peak.recording = true; // from here on, f is only called by the backward pass
    return tf.sum(tf.square(r.ys));
  }, [y0, ...field.params]);
  peak.recording = false;
  console.info(
    `adjoint T=${T}: ${steps} forward / ${backwardStats.accepted} backward steps, peak +${peak.tensors - start.numTensors} tensors, +${peak.bytes - start.numBytes} bytes`,
  );
  [value, ...grads].forEach((x) => x.dispose());
  y0.dispose();
  field.dispose();
  return {
    steps,
    backwardSteps: backwardStats.accepted,
    tensors: peak.tensors - start.numTensors,
    bytes: peak.bytes - start.numBytes,
  };
}

function measureUnrolled(T: number): Measure {
  const field = oscillatingField();
  const { wrapped, peak } = probe(field.f);
  const y0 = tf.tensor2d(uniformArray(B * D, 21), [B, D]);
  const start = tf.memory();
  peak.recording = true; // the tape grows during the (recorded) forward solve
  const un = unrolledGrads(wrapped, y0, [0, T], field.params, (ys) => tf.sum(tf.square(ys)), {
    rtol: 1e-4,
    atol: 1e-5,
  });
  peak.recording = false;
  console.info(
    `unrolled T=${T}: peak +${peak.tensors - start.numTensors} tensors, +${peak.bytes - start.numBytes} bytes`,
  );
  un.grads.forEach((g) => g.dispose());
  y0.dispose();
  field.dispose();
  return { steps: 0, backwardSteps: 0, tensors: peak.tensors - start.numTensors, bytes: peak.bytes - start.numBytes };
}

describe('memory of the gradient', () => {
  it("'backsolve': live tensors and bytes during the backward pass do not grow with T = 1, 10, 100; unrolled backprop's do", () => {
    const adj = [1, 10, 100].map(measureAdjoint);
    // Steps really grow with T (about 30x from T = 1 to T = 100, forwards and backwards).
    expect(adj[2].steps).toBeGreaterThan(20 * adj[0].steps);
    expect(adj[2].backwardSteps).toBeGreaterThan(20 * adj[0].backwardSteps);
    // Constant memory: the backward pass holds the augmented state and one step's stages whatever T
    // (20 % slack for the stage count of a rejected step, which may fall in one run and not another).
    expect(adj[1].bytes).toBeLessThanOrEqual(1.2 * adj[0].bytes);
    expect(adj[2].bytes).toBeLessThanOrEqual(1.2 * adj[0].bytes);
    expect(adj[2].tensors).toBeLessThanOrEqual(1.2 * adj[0].tensors);

    const un = [1, 10].map(measureUnrolled);
    // Backprop keeps every stage of every step on the tape: memory grows with the steps (3 accepted
    // steps at T = 1, 11 at T = 10: 3.7x; measured 3.5x in bytes). T = 100 is left out to keep the
    // file under a minute; the benchmark measures it.
    expect(un[1].bytes).toBeGreaterThan(2.5 * un[0].bytes);
    expect(un[1].tensors).toBeGreaterThan(2.5 * un[0].tensors);
    // Even at T = 1 the tape outweighs the adjoint's backward pass; at T = 10 by far.
    expect(un[1].bytes).toBeGreaterThan(10 * adj[2].bytes);
  });

  it('leaks no tensors: after a gradient step (and after a forward-only solve) numTensors is back where it was', () => {
    const field = oscillatingField();
    const y0 = tf.tensor2d(uniformArray(B * D, 21), [B, D]);
    const opt = tf.train.adam(1e-3);
    const ts = tf.tensor1d([0, 0.5, 1]);
    // Warm-up step: Adam creates its slot variables on the first call.
    const step = (adjoint: 'backsolve' | 'checkpoint') =>
      opt.minimize(
        () => tf.sum(tf.square(odeintAdjoint(field.f, y0, ts, field.params, { adjoint, gradTimes: true }).ys)),
        false,
        field.params,
      );
    step('backsolve');
    const before = tf.memory().numTensors;
    step('backsolve');
    expect(tf.memory().numTensors).toBe(before);
    step('checkpoint');
    expect(tf.memory().numTensors).toBe(before);
    const r = odeintAdjoint(field.f, y0, ts, field.params, { adjoint: 'checkpoint' });
    r.ys.dispose();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    [y0, ts].forEach((x) => x.dispose());
    field.dispose();
  });
});
