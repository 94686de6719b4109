import { MqttConnection, NO_MATCHING_SUBSCRIBERS } from '@continuum/messaging';
import { resolve } from 'node:path';
import { PrivateMosquitto } from '../../../../test/faults/support/mosquitto';
import { StoreAndForwardPublisher } from './store-and-forward';

const FILTER = '$share/ingestion/plants/+/machines/+/telemetry';
const topic = (machine: string) => `plants/saf/machines/${machine}/telemetry`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mosquitto 2.0 with the repository's configuration: MQTT 5 PUBACK 0x10 when nobody is subscribed. */
describe('store-and-forward publisher -> Mosquitto (MQTT 5)', () => {
  let broker: PrivateMosquitto;
  const open: MqttConnection[] = [];
  const connect = async (clientId: string, clean = true, reconnectMs = 50) => {
    const c = await MqttConnection.open({
      url: broker.url,
      clientId,
      clean,
      protocolVersions: [5, 4],
      minReconnectMs: reconnectMs,
      maxReconnectMs: reconnectMs,
      ...(!clean && { properties: { sessionExpiryInterval: 3600 } }),
    });
    open.push(c);
    return c;
  };
  /** A shared subscriber recording every payload it receives. */
  const subscriber = async (clientId: string, clean = true, reconnectMs = 50) => {
    const c = await connect(clientId, clean, reconnectMs);
    const received: string[] = [];
    /**
     * Copies received again with the DUP flag: the broker's own redelivery, after its restart, of a
     * message it had sent to this persistent session (QoS 1 is at least once; ingestion stores a
     * reading once whatever the copies). A publisher's re-send is a new PUBLISH without DUP.
     */
    const redelivered: string[] = [];
    c.client.on('message', (_t, payload, packet) => {
      const body = payload.toString();
      if (packet.dup && received.includes(body)) redelivered.push(body);
      else received.push(body);
    });
    await c.subscribe(FILTER, 1);
    return { c, received, redelivered };
  };

  beforeAll(async () => {
    broker = await PrivateMosquitto.start(resolve(__dirname, '../../../..'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.client.endAsync(true)));
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('keeps what nobody received (PUBACK 0x10) and re-sends it, in order, until a subscriber takes it exactly once', async () => {
    const conn = await connect('saf-pub');
    expect(conn.protocolVersion).toBe(5);
    expect(await conn.publishForReason(topic('probe'), 'probe')).toBe(NO_MATCHING_SUBSCRIBERS);

    const publisher = new StoreAndForwardPublisher(conn, { retryMs: 50, maxRetryMs: 100 });
    const delivered: string[] = [];
    for (const body of ['m1-a', 'm1-b', 'm1-c'])
      await publisher.publish('m1', topic('m1'), Buffer.from(body), 1, () => delivered.push(body));
    await publisher.publish('m2', topic('m2'), Buffer.from('m2-a'), 1, () => delivered.push('m2-a'));
    expect(publisher.stats).toMatchObject({ noSubscribers: 2, held: 4, delivered: 0 });

    // Still nobody: the re-sends are answered 0x10 again and stay held.
    await sleep(400);
    expect(publisher.stats.resent).toBeGreaterThanOrEqual(4);
    expect(publisher.stats).toMatchObject({ held: 4, delivered: 0 });
    expect(delivered).toEqual([]);

    const { received } = await subscriber('saf-sub');
    await publisher.flush(5000);
    await sleep(300); // a duplicate would arrive by now
    expect(publisher.stats).toMatchObject({ held: 0, delivered: 4, dropped: 0, failed: 0 });
    expect(received.filter((p) => p.startsWith('m1-'))).toEqual(['m1-a', 'm1-b', 'm1-c']);
    expect(received.filter((p) => p.startsWith('m2-'))).toEqual(['m2-a']);
    expect(delivered.sort()).toEqual(['m1-a', 'm1-b', 'm1-c', 'm2-a']);
    publisher.close();
  });

  it('rides out a broker restart that forgets the shared subscription: nothing lost, nothing re-sent twice', async () => {
    // The subscriber comes back only when told to (its reconnect timer is a minute), after the
    // publisher has been answered 0x10 at least once: timing alone could not promise that order
    // (CI once saw a slow broker start let both reconnect in the same attempt).
    const { c: sub, received, redelivered } = await subscriber('saf-restart-sub', false, 60_000);
    const conn = await connect('saf-restart-pub');
    const publisher = new StoreAndForwardPublisher(conn, { retryMs: 20, maxRetryMs: 100 });
    let n = 0;
    let publishing = true;
    const loop = (async () => {
      while (publishing) {
        await publisher.publish('m1', topic('m1'), Buffer.from(String(n++)), 1).catch(() => undefined);
        await sleep(5);
      }
    })();
    const waitFor = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!ok() && Date.now() < deadline) await sleep(20);
      if (!ok()) throw new Error(`timed out waiting for ${what}`);
    };
    await sleep(200);
    await broker.restart(200);
    // Mosquitto resumes the subscriber's session without its $share subscription until
    // MqttConnection subscribes again; meanwhile the publisher's messages are answered 0x10.
    await waitFor('a PUBACK 0x10 after the restart', () => publisher.stats.noSubscribers > 0);
    expect(sub.connected).toBe(false);
    sub.client.reconnect();
    await waitFor('the subscriber to subscribe again', () => sub.subscribed && conn.connected);
    await sleep(300);
    publishing = false;
    await loop;
    await publisher.flush(5000);
    await sleep(300);
    expect(publisher.stats.noSubscribers).toBeGreaterThan(0);
    expect(publisher.stats.resent).toBe(publisher.stats.noSubscribers); // each 0x10 answered by one re-send
    expect(publisher.stats).toMatchObject({ held: 0, dropped: 0, failed: 0, delivered: n });
    expect(redelivered.length).toBeLessThanOrEqual(5); // the few in flight to the subscriber at SIGTERM
    expect(received.map(Number).sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
    publisher.close();
  });
});
