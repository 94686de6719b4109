import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { InternalEvent } from '@continuum/contracts';
import { EventBus } from '@continuum/messaging';
import { AlertsRepository, toAlertMessage } from '@continuum/persistence';
import { startProcess, waitFor, type RunningProcess } from '@continuum/runtime';
import { ApiModule } from '../apps/api/src/api.module';
import { PlatformModule } from '../apps/platform/src/platform.module';

/**
 * The operator dashboard in a real browser (Debian's Chromium, headless, through playwright-core)
 * against the whole platform on embedded defaults with the simulator. UPDATE_SCREENSHOTS=1 writes
 * the screenshots to docs/screenshots/ (referenced from README.md).
 */
const TOKEN = 'ck_dashboard_e2e_admin_token_0123';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = process.env.UPDATE_SCREENSHOTS ? join(__dirname, '..', 'docs', 'screenshots') : null;

describe('operator dashboard (Chromium)', () => {
  let dataDir: string;
  let platform: RunningProcess;
  let browser: Browser;
  let page: Page;
  let url: string;
  let machineId: string;

  const screenshot = async (name: string) => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'continuum-dashboard-'));
    if (shots) mkdirSync(shots, { recursive: true });
    platform = await startProcess(
      {
        role: 'platform',
        rootModule: PlatformModule.register,
        configure: ApiModule.configure,
        http: true,
        events: true,
        embedded: true,
      },
      {
        DATABASE_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        MQTT_PORT: '0',
        LOG_LEVEL: 'warn',
        CONTINUUM_ADMIN_TOKEN: TOKEN,
        SIMULATOR_MACHINES: '3',
        SIMULATOR_SPEED: '600',
        TWIN_FORECAST_INTERVAL_MS: '10000',
        TWIN_PREDICTIONS_INTERVAL_MS: '5000',
      },
    );
    url = platform.url!.replace('[::1]', '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('asks for the API key once, then shows the machines sorted by risk', async () => {
    await page.goto(url);
    await page.locator('#api-key').fill(TOKEN);
    await page.locator('#login button[type=submit]').click();
    await page.locator('.machine').first().waitFor({ timeout: 30_000 });
    await waitFor(async () => ((await page.locator('.machine').count()) >= 3 ? true : undefined), 30_000, '3 machines');
    expect(await page.evaluate(() => (globalThis as any).localStorage.getItem('continuum.apiKey'))).toBe(TOKEN);
    await page.locator('#live-status.on').waitFor({ timeout: 30_000 });
    if (shots) {
      // Let the twins publish a few updates (colours, anomaly scores, RUL) before the picture.
      await page.waitForTimeout(8000);
      await page.reload();
      await page.locator('.machine').first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(3000);
    }
    await screenshot('plant-overview');
  }, 150_000);

  it('shows live sensor points on the machine charts', async () => {
    // Cards re-render as twin updates arrive: navigate by the first card's id rather than clicking it.
    machineId = (await page.locator('.machine').first().getAttribute('data-machine-id'))!;
    await page.goto(`${url}/#/machine/${encodeURIComponent(machineId)}`);
    const chart = page.locator('#charts .chart').first();
    await chart.waitFor({ timeout: 30_000 });
    const points = async () => Number((await chart.getAttribute('data-points')) ?? 0);
    const before = await points();
    await waitFor(async () => ((await points()) > before ? true : undefined), 45_000, 'live points on the chart');
    if (shots) await page.waitForTimeout(5000);
    await screenshot('machine-view');
  }, 90_000);

  it('acknowledges an alert from the page, and the database says so', async () => {
    const machine = (await (
      await fetch(`${url}/api/v1/machines/${machineId}`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { plantId: string };
    const alerts = new AlertsRepository(platform.infra.database.dataSource);
    const { alert } = await alerts.raiseOrMerge({
      machineId,
      plantId: machine.plantId,
      ruleId: 'e2e-dashboard',
      kind: 'threshold',
      severity: 'major',
      message: 'bearing temperature above its limit (test)',
      value: 101,
      details: {},
      at: new Date(),
      by: 'dashboard e2e',
    });
    await platform.app.get(EventBus).emit(InternalEvent.AlertChanged, toAlertMessage(alert));
    // A fresh load reads the alert through the REST API (the live path is tested in socket.e2e-spec).
    await page.goto(`${url}/?alerts#/alerts`);
    const row = page.locator(`tr[data-alert-id="${alert.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await screenshot('alerts');
    await row.locator('button[data-action=acknowledge]').click();
    await page.locator(`tr[data-alert-id="${alert.id}"][data-status=acknowledged]`).waitFor({ timeout: 30_000 });
    const stored = await alerts.findById(alert.id);
    expect(stored!.status).toBe('acknowledged');
    expect(stored!.history.at(-1)).toMatchObject({ from: 'open', to: 'acknowledged' });
  }, 90_000);

  it('proposes a maintenance schedule on the timeline', async () => {
    await page.goto(`${url}/#/work`);
    await page.locator('#propose').click();
    await waitFor(
      async () => ((await page.locator('#schedule-status').textContent())?.trim() ? true : undefined),
      30_000,
      'the proposal',
    );
    expect(await page.locator('#schedule-status').textContent()).not.toBe('solving…');
    await screenshot('maintenance');
    await page.goto(`${url}/#/training`);
    await screenshot('training');
  }, 90_000);
});
