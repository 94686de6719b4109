import fc from 'fast-check';
import { MqttFramer } from './packet-size-guard';

/** MQTT's variable-length "remaining length" (1-4 bytes, 7 bits each, least significant first). */
function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** A stream of packets with the given body lengths (arbitrary header and body bytes), and their total sizes. */
function packets(lengths: number[], fill: number): { bytes: Uint8Array; sizes: number[] } {
  const headers = lengths.map((len) => [0x30 | (len & 0x0f), ...encodeLength(len)]);
  const sizes = lengths.map((len, i) => headers[i].length + len);
  const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0)).fill(fill);
  let at = 0;
  lengths.forEach((len, i) => {
    bytes.set(headers[i], at);
    at += sizes[i];
  });
  return { bytes, sizes };
}

/** Cuts `bytes` at the given fractions into chunks, as TCP may deliver them. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

describe('MqttFramer (properties)', () => {
  it('lets through any stream of packets within the limit, however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 16_000, max: 20_000 })), {
          maxLength: 20,
        }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 255 }),
        (lengths, cuts, fill) => {
          const framer = new MqttFramer(20_005);
          for (const chunk of chunked(packets(lengths, fill).bytes, cuts)) expect(framer.push(chunk)).toBeNull();
        },
      ),
    );
  });

  it('reports the first packet over the limit with its size, before its body arrives', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 10 }),
        fc.integer({ min: 3000, max: 2_000_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        (before, big, cuts) => {
          const max = 3004; // a 3000-byte body with its header (1 + 2 length bytes) fits
          const { bytes, sizes } = packets([...before, big], 0xff);
          const expectedSize = sizes[sizes.length - 1];
          // Only the header of the big packet: the violation must be found without its body.
          const headerEnd = bytes.length - big;
          const framer = new MqttFramer(max);
          let violation = null;
          for (const chunk of chunked(bytes.subarray(0, headerEnd), cuts)) violation ??= framer.push(chunk);
          if (expectedSize > max) expect(violation).toEqual({ kind: 'too-large', bytes: expectedSize });
          else expect(violation).toBeNull();
        },
      ),
    );
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(new MqttFramer(Number.MAX_SAFE_INTEGER).push(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toEqual({
      kind: 'malformed-length',
    });
  });
});
