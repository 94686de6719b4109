import type { Activation, HostDenseLayer } from '../layers';
import type { OdeRnnModel } from '../ode-rnn-model';

/** An activation of one value, as `activate` computes it on tensors ('tanh' there is 2σ(2x) − 1, the same function). */
function activation(x: number, a: Activation): number {
  switch (a) {
    case 'tanh':
      return Math.tanh(x);
    case 'relu':
      return x > 0 ? x : 0;
    case 'softplus':
      return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'elu':
      return x > 0 ? x : Math.expm1(x);
    case 'linear':
      return x;
  }
}

/** out[o0 ..] += x[x0 .. x0 + inDim] · W for W [inDim, outDim] row-major (zero inputs skipped). */
function addProduct(
  out: Float64Array,
  o0: number,
  x: ArrayLike<number>,
  x0: number,
  w: Float64Array,
  inDim: number,
  outDim: number,
): void {
  for (let k = 0; k < inDim; k++) {
    const xv = x[x0 + k];
    if (xv === 0) continue;
    for (let o = 0, w0 = k * outDim; o < outDim; o++) out[o0 + o] += xv * w[w0 + o];
  }
}

/**
 * act(x W + b (+ t·wt)) for x [B, in] row-major; `t` (one time per row) and `wt` [out] add the time
 * input of a non-autonomous field's first layer.
 */
function dense(x: Float64Array, B: number, l: HostDenseLayer, t?: Float64Array, wt?: Float64Array): Float64Array {
  const { inDim, outDim, w, b } = l;
  const out = new Float64Array(B * outDim);
  for (let i = 0; i < B; i++) {
    const o0 = i * outDim;
    out.set(b, o0);
    if (t && wt) {
      const ti = t[i];
      for (let o = 0; o < outDim; o++) out[o0 + o] += ti * wt[o];
    }
    addProduct(out, o0, x, i * inDim, w, inDim, outDim);
    if (l.activation !== 'linear') for (let o = o0; o < o0 + outDim; o++) out[o] = activation(out[o], l.activation);
  }
  return out;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * An ODE-RNN's online-filter arithmetic — the latent vector field, the read-out and the masked GRU —
 * on plain `Float64Array`s, from a copy of the model's weights taken when it is built (a model the
 * twin runs is not trained further; build a new one after changing weights). The same functions as
 * the tensor forms (`NeuralVectorField.apply`, `OdeRnnModel.readout`, `MaskedGru.update`) in double
 * precision, without TensorFlow.js's per-operation cost: what `ModelBank.step` runs for small batches.
 */
export class HostOdeRnn {
  private constructor(
    readonly H: number,
    readonly D: number,
    private readonly fieldLayers: HostDenseLayer[],
    private readonly fieldWt: Float64Array | null,
    private readonly decoder: HostDenseLayer[],
    private readonly gruWeights: ReturnType<OdeRnnModel['rnn']['gru']['hostForm']>,
  ) {}

  static from(model: OdeRnnModel): HostOdeRnn {
    const field = model.rnn.field.hostForm();
    return new HostOdeRnn(
      model.config.hiddenDim,
      model.config.obsDim,
      field.layers,
      field.wt,
      model.decoder.hostForm(),
      model.rnn.gru.hostForm(),
    );
  }

  /** dz/dt = f(t, z) for states z [B · H] and each row's time t [B]. */
  field(t: Float64Array, z: Float64Array): Float64Array {
    const B = t.length;
    let h = dense(z, B, this.fieldLayers[0], t, this.fieldWt ?? undefined);
    for (let k = 1; k < this.fieldLayers.length; k++) h = dense(h, B, this.fieldLayers[k]);
    return h;
  }

  /** Decoder output [B · 2D]: per row the D sensor means, then the D log variances. */
  readout(h: Float64Array, B: number): Float64Array {
    let y = h;
    for (const l of this.decoder) y = dense(y, B, l);
    return y;
  }

  /**
   * The masked GRU update of states h [B · H] with normalised readings x [B · D] and their mask
   * [B · D] (1 = observed): u = σ(x W_u + h U_u + b_u), r = σ(x W_r + h U_r + b_r),
   * n = tanh(x W_n + (r ⊙ h) U_n + b_n), h' = n + u ⊙ (h − n) on the input [x ⊙ m, m]; a row with
   * nothing observed keeps its state exactly.
   */
  gru(h: Float64Array, x: ArrayLike<number>, mask: ArrayLike<number>, B: number): Float64Array {
    const { wx, wh, un, b, D, H } = this.gruWeights;
    const out = new Float64Array(B * H);
    const inp = new Float64Array(2 * D);
    const xw = new Float64Array(3 * H);
    const hw = new Float64Array(2 * H);
    const rh = new Float64Array(H);
    const nn = new Float64Array(H);
    for (let i = 0; i < B; i++) {
      const h0 = i * H;
      let any = false;
      for (let d = 0; d < D; d++) {
        const m = mask[i * D + d] ? 1 : 0;
        inp[d] = m ? x[i * D + d] : 0;
        inp[D + d] = m;
        if (m) any = true;
      }
      if (!any) {
        out.set(h.subarray(h0, h0 + H), h0);
        continue;
      }
      xw.set(b); // [x ⊙ m, m] W_x + b
      addProduct(xw, 0, inp, 0, wx, 2 * D, 3 * H);
      hw.fill(0); // h W_h (gates u, r)
      addProduct(hw, 0, h, h0, wh, H, 2 * H);
      for (let j = 0; j < H; j++) rh[j] = sigmoid(xw[H + j] + hw[H + j]) * h[h0 + j];
      nn.fill(0);
      addProduct(nn, 0, rh, 0, un, H, H);
      for (let j = 0; j < H; j++) {
        const u = sigmoid(xw[j] + hw[j]);
        const n = Math.tanh(xw[2 * H + j] + nn[j]);
        out[h0 + j] = n + u * (h[h0 + j] - n);
      }
    }
    return out;
  }
}
