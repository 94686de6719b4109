/**
 * Concentric annuli (Dupont, Doucet & Teh 2019, §4.1): g(x) = −1 for ‖x‖ ≤ 0.5, +1 for 1 ≤ ‖x‖ ≤ 1.5
 * in 2-D. A Neural ODE (a homeomorphism of the plane followed by a linear map) cannot represent g; an
 * augmented NODE with one extra dimension can, with fewer function evaluations.
 *
 *   node -r @swc-node/register libs/neural/experiments/run-annuli.ts [--seconds 120]
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
    const r = inner ? 0.5 * Math.sqrt(rng.uniform()) : 1 + 0.5 * rng.uniform();
    const a = 2 * Math.PI * rng.uniform();
    x[2 * i] = r * Math.cos(a);
    x[2 * i + 1] = r * Math.sin(a);
    y[i] = inner ? -1 : 1;
  }
  return { x, y };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const seconds = argv.includes('--seconds') ? Number(argv[argv.indexOf('--seconds') + 1]) : 120;
  await initTensorBackend({ backend: 'wasm', log: () => undefined });
  const data = annuli(512, 1);
  const test = annuli(512, 2);
  const results: Record<string, unknown> = { seconds };
  for (const augmentDim of [0, 1]) {
    const model = new AugmentedNeuralOde({
      inputDim: 2,
      augmentDim,
      hidden: [32],
      outputDim: 1,
      activation: 'relu',
      solver: { method: 'dopri5', rtol: 1e-3, atol: 1e-3, gradient: 'adjoint' },
      seed: 1,
    });
    const X = tf.keep(tf.tensor2d(data.x, [512, 2]));
    const Y = tf.keep(tf.tensor2d(data.y, [512, 1]));
    const r = train(model, {
      epochs: 400,
      lr: 1e-2,
      maxSeconds: seconds,
      batches: () => [0],
      lossFn: () => {
        const loss = tf.mean(tf.square(tf.sub(model.forward(X), Y))) as tf.Scalar;
        return { loss, parts: { mse: loss.dataSync()[0] } };
      },
      onProgress: (p) => {
        if (p.epoch % 10 === 0)
          console.log(
            `augment ${augmentDim} epoch ${p.epoch + 1} mse ${p.loss.toFixed(4)} NFE ${p.nfeForward}/${p.nfeBackward} ${p.elapsed.toFixed(0)} s`,
          );
      },
    });
    const out = tf.tidy(() => model.forward(tf.tensor2d(test.x, [512, 2])).dataSync());
    const nfe = model.nfe.take();
    let correct = 0;
    let se = 0;
    out.forEach((v, i) => {
      correct += Math.sign(v) === test.y[i] ? 1 : 0;
      se += (v - test.y[i]) ** 2;
    });
    const last = r.history.at(-1);
    results[augmentDim === 0 ? 'node' : 'anode'] = {
      epochs: r.history.length,
      trainMse: last?.loss,
      testMse: se / 512,
      testAccuracy: correct / 512,
      nfeForwardLastEpoch: last?.nfeForward,
      nfeBackwardLastEpoch: last?.nfeBackward,
      nfeForwardTest: nfe.forward,
      seconds: r.seconds,
    };
    console.log(JSON.stringify(results));
    X.dispose();
    Y.dispose();
  }
  fs.mkdirSync('libs/neural/experiments/results', { recursive: true });
  fs.writeFileSync('libs/neural/experiments/results/annuli.json', JSON.stringify(results, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
