/**
 * Concentric annuli (Dupont, Doucet & Teh 2019, §4.1): g(x) = −1 for ‖x‖ ≤ 0.5, +1 for 1 ≤ ‖x‖ ≤ 1.5
 * in 2-D. A Neural ODE (a homeomorphism of the plane followed by a linear map) cannot represent g: the
 * image of every circle of the outer annulus encloses the image of the origin, so it has a point whose
 * linear read-out is at most the origin's — some point of every such circle is scored like the inner
 * disk. "It is often possible for NODEs to approximate these functions in practice" (on finite samples),
 * but with complex, expensive flows; an augmented NODE (one extra dimension) lifts the disk out of the
 * plane with a simple flow and fewer function evaluations.
 *
 *   node -r @swc-node/register libs/neural/experiments/run-annuli.ts [--seconds 120] [--epochs 400] [--seeds 3]
 *
 * Per model and seed: full-batch MSE training on 512 points (half inner disk, half outer annulus),
 * Adam 1e-2, dopri5 rtol = atol = 1e-3 with the adjoint, field MLP 2(+1) → 32 → 2(+1) (ReLU), linear
 * read-out; reports the training curve (MSE and NFE), test accuracy/MSE on 512 fresh points, and the
 * topological check: on 3 circles of the outer annulus (r = 1, 1.25, 1.5, 4096 angles each) the
 * smallest output and the fraction scored as the inner class (< 0), against the output at the origin.
 *
 * Writes libs/neural/experiments/results/annuli.json.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initTensorBackend } from '@continuum/ode';
import { AugmentedNeuralOde, Rng, train } from '@continuum/neural';

function annuli(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const inner = i % 2 === 0;
    const r = inner ? 0.5 * Math.sqrt(rng.uniform()) : Math.sqrt(1 + 1.25 * rng.uniform()); // uniform in area
    const a = 2 * Math.PI * rng.uniform();
    x[2 * i] = r * Math.cos(a);
    x[2 * i + 1] = r * Math.sin(a);
    y[i] = inner ? -1 : 1;
  }
  return { x, y };
}

/** Points on circles of the outer annulus, plus the origin last. */
function circles(radii: number[], angles: number): Float32Array {
  const out: number[] = [];
  for (const r of radii)
    for (let k = 0; k < angles; k++)
      out.push(r * Math.cos((2 * Math.PI * k) / angles), r * Math.sin((2 * Math.PI * k) / angles));
  out.push(0, 0);
  return Float32Array.from(out);
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (k: string, d: number) => (argv.includes(`--${k}`) ? Number(argv[argv.indexOf(`--${k}`) + 1]) : d);
  const seconds = opt('seconds', 120);
  const epochs = opt('epochs', 400);
  const seeds = opt('seeds', 3);
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  const n = 512;
  const data = annuli(n, 1);
  const test = annuli(n, 2);
  const radii = [1, 1.25, 1.5];
  const angles = 4096;
  const ring = circles(radii, angles);
  const runs: Record<string, unknown>[] = [];
  for (let seed = 1; seed <= seeds; seed++)
    for (const augmentDim of [0, 1]) {
      const name = augmentDim === 0 ? 'node' : 'anode';
      const model = new AugmentedNeuralOde({
        inputDim: 2,
        augmentDim,
        hidden: [32],
        outputDim: 1,
        activation: 'relu',
        solver: { method: 'dopri5', rtol: 1e-3, atol: 1e-3, gradient: 'adjoint' },
        seed,
      });
      const X = tf.keep(tf.tensor2d(data.x, [n, 2]));
      const Y = tf.keep(tf.tensor2d(data.y, [n, 1]));
      const r = train(model, {
        epochs,
        lr: 1e-2,
        maxSeconds: seconds,
        seed,
        batches: () => [0],
        lossFn: () => {
          const loss = tf.mean(tf.square(tf.sub(model.forward(X), Y))) as tf.Scalar;
          return { loss, parts: { mse: loss.dataSync()[0] } };
        },
        onProgress: (p) => {
          if (p.epoch % 50 === 0)
            console.log(
              `${name} seed ${seed} epoch ${p.epoch + 1} mse ${p.loss.toFixed(4)} NFE ${p.nfeForward}/${p.nfeBackward} ${p.elapsed.toFixed(0)} s`,
            );
        },
      });
      const h = r.history;
      const out = tf.tidy(() => model.forward(tf.tensor2d(test.x, [n, 2])).dataSync());
      const testNfe = model.nfe.take().forward;
      let correct = 0;
      let se = 0;
      out.forEach((v, i) => {
        correct += Math.sign(v) === test.y[i] ? 1 : 0;
        se += (v - test.y[i]) ** 2;
      });
      const ringOut = tf.tidy(() => model.forward(tf.tensor2d(ring, [ring.length / 2, 2])).dataSync());
      model.nfe.take();
      const origin = ringOut[ringOut.length - 1];
      const perCircle = radii.map((radius, c) => {
        const v = Array.from(ringOut.subarray(c * angles, (c + 1) * angles));
        return { radius, min: Math.min(...v), innerFraction: v.filter((x) => x < 0).length / angles };
      });
      const firstBelow = (thr: number) => {
        const hit = h.find((p) => p.loss < thr);
        return hit ? hit.epoch + 1 : null;
      };
      const run = {
        model: name,
        seed,
        epochs: h.length,
        seconds: r.seconds,
        trainMseFinal: h.at(-1)?.loss,
        trainMseAt: Object.fromEntries([50, 100, 200, 400].filter((e) => e <= h.length).map((e) => [e, h[e - 1].loss])),
        epochToMse: { '0.05': firstBelow(0.05), '0.01': firstBelow(0.01) },
        nfeForwardMean: mean(h.map((p) => p.nfeForward)),
        nfeBackwardMean: mean(h.map((p) => p.nfeBackward ?? 0)),
        nfeForwardLast: h.at(-1)?.nfeForward,
        nfeBackwardLast: h.at(-1)?.nfeBackward,
        testNfe,
        testMse: se / n,
        testAccuracy: correct / n,
        originOutput: origin,
        circles: perCircle,
      };
      console.log(JSON.stringify(run));
      runs.push(run);
      X.dispose();
      Y.dispose();
      model.dispose();
    }
  const summary = (name: string) => {
    const rs = runs.filter((r) => r.model === name) as Record<string, number>[];
    const pick = (k: string) => mean(rs.map((r) => r[k]));
    return {
      runs: rs.length,
      trainMseFinal: pick('trainMseFinal'),
      testAccuracy: pick('testAccuracy'),
      testMse: pick('testMse'),
      nfeForwardMean: pick('nfeForwardMean'),
      nfeBackwardMean: pick('nfeBackwardMean'),
      seconds: pick('seconds'),
    };
  };
  const result = {
    command: `run-annuli.ts --seconds ${seconds} --epochs ${epochs} --seeds ${seeds}`,
    setup:
      '512 train / 512 test points, full-batch MSE, Adam 1e-2, dopri5 rtol=atol=1e-3, adjoint, field 32 ReLU, linear read-out',
    summary: { node: summary('node'), anode: summary('anode') },
    runs,
  };
  console.log(JSON.stringify(result.summary));
  fs.mkdirSync('libs/neural/experiments/results', { recursive: true });
  fs.writeFileSync('libs/neural/experiments/results/annuli.json', JSON.stringify(result, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
