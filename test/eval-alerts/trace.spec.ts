import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { TwinMessage } from '@continuum/contracts';
import { readTrace, scoredMessage, TRACE_FORMAT, TraceWriter, type TraceLine } from '../../scripts/eval-alerts/trace';

describe('eval:alerts recordings (EVAL_TRACE / EVAL_REPLAY)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'eval-trace-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const collect = async (file: string) => {
    const lines: TraceLine[] = [];
    for await (const line of readTrace(file)) lines.push(line);
    return lines;
  };

  const message: TwinMessage = {
    plantId: 'eval',
    machineId: 'pump-1',
    ts: 7_200_000,
    modelVersion: 'centrifugal-pump@v1',
    prediction: { flow: { mean: 41.5, std: 0.8 } },
    residuals: { flow: -0.25 },
    anomalyScore: 0.0625,
    nfe: 14,
    solverError: 1e-4,
  };

  it('reads back what a run wrote, in order, without the predictions no detector reads', async () => {
    const file = path.join(dir, 'run.jsonl.gz');
    const lines: TraceLine[] = [
      {
        kind: 'fleet',
        format: TRACE_FORMAT,
        settings: { seed: 11 },
        machines: [{ id: 'pump-1', assetType: 'centrifugal-pump', accelerated: true }],
      },
      // Enough messages to fill the gzip stream's buffer several times (the writer waits on drain).
      ...Array.from({ length: 2000 }, (_, i): TraceLine => ({
        kind: 'messages',
        assetType: 'centrifugal-pump',
        messages: [scoredMessage({ ...message, ts: message.ts + i * 1000 })],
      })),
      { kind: 'tick', t: 9000, stopped: [0] },
      {
        kind: 'end',
        truths: [{ failedAt: 8_000_000, onsetAt: 7_500_000, censored: false, watchedMs: 800_000 }],
        baselines: [{ name: 'baseline', raises: [[7_900_000]] }],
        stats: { readings: 2000, forecasts: 0, nfe: 28_000, seconds: 1, spent: { simulator: 0, twin: 0, forecast: 0 } },
      },
    ];
    const writer = new TraceWriter(file);
    for (const line of lines) await writer.write(line);
    await writer.close();

    const back = await collect(file);
    expect(back).toEqual(lines);
    expect(back[1]).toMatchObject({ messages: [{ residuals: { flow: -0.25 } }] });
    expect('prediction' in (back[1] as { messages: object[] }).messages[0]).toBe(false);
  });

  it('refuses a file that is not a recording, and one cut short', async () => {
    const other = path.join(dir, 'other.jsonl.gz');
    writeFileSync(other, gzipSync('{"kind":"messages","assetType":"x","messages":[]}\n'));
    await expect(collect(other)).rejects.toThrow(`not an eval:alerts trace of format ${TRACE_FORMAT}`);

    const cut = path.join(dir, 'cut.jsonl.gz');
    writeFileSync(
      cut,
      gzipSync(`${JSON.stringify({ kind: 'fleet', format: TRACE_FORMAT, settings: {}, machines: [] })}\n`),
    );
    await expect(collect(cut)).rejects.toThrow("ends before its 'end' line");

    const garbled = path.join(dir, 'garbled.jsonl.gz');
    writeFileSync(
      garbled,
      gzipSync(`${JSON.stringify({ kind: 'fleet', format: TRACE_FORMAT, settings: {}, machines: [] })}\n{"kind":`),
    );
    await expect(collect(garbled)).rejects.toThrow(':2: not a JSON line');
  });
});
