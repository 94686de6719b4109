import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tuneWasmKernels } from './wasm-kernels';

/** Options of {@link initTensorBackend}. */
export interface TensorBackendOptions {
  /**
   * Backend to use: 'tensorflow' (tfjs-node-gpu or tfjs-node), 'wasm' or 'cpu'. Default: the
   * `CONTINUUM_TF_BACKEND` environment variable, else the fastest that loads.
   */
  backend?: string;
  /** Where to report the choice (default `console.info`). */
  log?: (message: string) => void;
}

let chosen: string | undefined;

/** Loads an optional package by name; undefined when it is not installed or fails to load. */
function tryRequire(name: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name);
  } catch {
    return undefined;
  }
}

async function tryBackend(name: string): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // The native bindings register the 'tensorflow' backend on import. They cannot be installed on
      // every machine (their install script downloads libtensorflow), hence optional.
      if (!tryRequire('@tensorflow/tfjs-node-gpu') && !tryRequire('@tensorflow/tfjs-node')) return false;
    } else if (name === 'wasm') {
      const wasm = tryRequire('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void } | undefined;
      if (!wasm) return false;
      // In Node the .wasm binaries are read from the package's dist directory.
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(dist + path.sep);
    }
    if (!tf.findBackendFactory(name)) return false;
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    // Transposed-operand matMuls and transposes of the gradients are 10x slower than they need be.
    if (ok && name === 'wasm') tuneWasmKernels();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Picks and initialises the TensorFlow.js backend of the tensor path: `tensorflow` (native
 * tfjs-node-gpu, then tfjs-node, only where installed), then `wasm` (SIMD), then the JS `cpu`
 * backend. `options.backend` or `CONTINUUM_TF_BACKEND` forces one (an error if it does not load).
 * On 'wasm' it also installs the faster transpose, sum and transposed-operand matMul kernels of
 * {@link tuneWasmKernels}.
 * Logs and returns the backend chosen; idempotent for the same request.
 */
export async function initTensorBackend(options: TensorBackendOptions = {}): Promise<string> {
  const log = options.log ?? ((m: string) => console.info(m));
  const forced = options.backend ?? process.env.CONTINUUM_TF_BACKEND;
  if (forced) {
    const name = forced === 'node' || forced === 'node-gpu' ? 'tensorflow' : forced;
    if (chosen === name && tf.getBackend() === name) return name;
    if (!(await tryBackend(name)))
      throw new Error(`TensorFlow.js backend '${forced}' (CONTINUUM_TF_BACKEND/backend option) could not be loaded`);
    chosen = name;
    log(`@continuum/ode: TensorFlow.js backend '${name}' (forced)`);
    return name;
  }
  if (chosen && tf.getBackend() === chosen) return chosen;
  for (const name of ['tensorflow', 'wasm', 'cpu']) {
    if (await tryBackend(name)) {
      chosen = name;
      log(`@continuum/ode: TensorFlow.js backend '${name}'`);
      return name;
    }
  }
  throw new Error('No TensorFlow.js backend could be initialised');
}

/** The TensorFlow.js backend currently in use by the tensor path (e.g. 'wasm', 'cpu', 'tensorflow'). */
export function tensorBackend(): string {
  return tf.getBackend();
}
