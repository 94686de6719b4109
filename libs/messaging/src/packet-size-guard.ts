import type { Duplex } from 'node:stream';

/** Why a connection was cut by {@link PacketSizeGuard}. */
export type PacketViolation = { kind: 'too-large'; bytes: number } | { kind: 'malformed-length' };

/**
 * Follows MQTT framing (fixed header byte, 1–4 byte "remaining length", body) across arbitrary
 * chunk boundaries without buffering anything, and reports the first packet whose total size
 * exceeds `maxBytes` as soon as its length is known — before its body has been received.
 * Only header bytes are looked at; bodies are skipped by count.
 */
export class MqttFramer {
  private state: 'header' | 'length' | 'body' = 'header';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  constructor(private readonly maxBytes: number) {}

  /** Feeds the next bytes of the stream; returns a violation, or null while every packet fits. */
  push(chunk: Uint8Array): PacketViolation | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) this.state = 'header';
        continue;
      }
      const byte = chunk[i++];
      if (this.state === 'header') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // Remaining length: 7 bits per byte, least significant first, at most 4 bytes (MQTT 3.1.1 §2.2.3).
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return { kind: 'malformed-length' };
        continue;
      }
      const total = 1 + this.lengthBytes + this.length;
      if (total > this.maxBytes) return { kind: 'too-large', bytes: total };
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'header' : 'body';
    }
    return null;
  }
}

/**
 * Makes `socket` disconnect a client that sends a packet larger than `maxBytes` (mqtt-packet's
 * parser, which aedes uses, has no limit and would buffer a 256 MB packet whole). aedes reads a
 * connection with `read()` on 'readable'; the socket's `read` is wrapped so that every chunk passes
 * the {@link MqttFramer} first — no extra stream in the path (a Duplex in front cost 10-20% of the
 * broker's throughput in bench/broker.bench.ts). The broker test that sends an oversized packet
 * checks that aedes still reads this way.
 */
export function guardPacketSize<S extends Duplex>(
  socket: S,
  maxBytes: number,
  onViolation: (violation: PacketViolation) => void,
): S {
  const framer = new MqttFramer(maxBytes);
  const read = socket.read.bind(socket);
  let violated = false;
  socket.read = (size?: number) => {
    if (violated) return null;
    const chunk = read(size) as Buffer | string | null;
    if (chunk === null || typeof chunk === 'string') return chunk;
    const violation = framer.push(chunk);
    if (!violation) return chunk;
    violated = true;
    onViolation(violation);
    socket.destroy();
    return null;
  };
  return socket;
}
