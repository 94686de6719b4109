import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { encodePubacks } from './telemetry.consumer';

describe('encodePubacks', () => {
  it("writes the same PUBACKs as mqtt-packet's encoder, back to back", () => {
    const ids = [1, 2, 255, 256, 513, 65_535];
    expect(encodePubacks(ids)).toEqual(Buffer.concat(ids.map((messageId) => generate({ cmd: 'puback', messageId }))));
  });

  it('is read back as PUBACKs by an MQTT 5 parser (no reason code means success)', () => {
    const parsed: Packet[] = [];
    const p = mqttParser({ protocolVersion: 5 });
    p.on('packet', (packet) => parsed.push(packet));
    p.parse(encodePubacks([7, 40_000]));
    expect(parsed.map((x) => [x.cmd, x.messageId, (x as { reasonCode?: number }).reasonCode ?? 0])).toEqual([
      ['puback', 7, 0],
      ['puback', 40_000, 0],
    ]);
  });

  it('is empty for no ids', () => {
    expect(encodePubacks([])).toHaveLength(0);
  });
});
