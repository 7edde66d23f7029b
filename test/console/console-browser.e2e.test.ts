// The console in a real headless Chromium (Debian's, driven by playwright-core): the page draws the
// topology, its lag goes up while a process is held and back to 0 once it runs, a process that fails
// on a notification shows its error, and its skip button (confirm, then a reason) lets it recover,
// with a SkippedNotification recorded. A screenshot is saved to test-output/console.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ActorRunner, Projection, SkippedNotification, SqlView, System, type ConsoleServer, type DomainEvent, type ViewWriter } from '../../src';
import { World } from '../seed-example';
import { eventsIn, failingCounters, Worlds } from '../actors/support/systems';

// What the functions run in the page see (the tests' TypeScript has no DOM library).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(__dirname, '..', '..', 'test-output', 'console.png');
const TOKEN = 'browser-test-token';

/** A policy that waits while `held` (so lag builds up), and refuses the thing called 'poison'. */
let held: Promise<void> | undefined;
const PoisonCounters = failingCounters('PoisonCounters', (event: DomainEvent) => event instanceof World.SomethingHappened && event.what === 'poison');
class HeldCounters extends PoisonCounters {
  static override applicationName = 'HeldCounters';
  override async policy(...args: Parameters<InstanceType<typeof PoisonCounters>['policy']>): Promise<void> {
    await held;
    return super.policy(...args);
  }
}
const Audit = failingCounters('Audit', () => false);

/** A projection beside the process applications: how many things happened. */
class ThingCount extends SqlView {
  static override tables = { thing_count: 'one INTEGER PRIMARY KEY, n BIGINT NOT NULL' };
  update(events: readonly DomainEvent[], sql: ViewWriter): void {
    const n = events.filter((event) => event instanceof World.SomethingHappened).length;
    const table = sql.table('thing_count');
    if (n > 0) sql.run(`INSERT INTO ${table} (one, n) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET n = ${table}.n + excluded.n`, [n]);
  }
}
class Things extends Projection<ThingCount> {
  static override view = ThingCount;
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`the console's browser test is skipped: ${CHROMIUM} is missing (apt-get install -y chromium); under CI it fails`);
}

(haveChromium || process.env.CI ? describe : describe.skip)('the console in headless Chromium', () => {
  let directory: string;
  let runner: ActorRunner;
  let server: ConsoleServer;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`the console's browser test needs Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    directory = mkdtempSync(join(tmpdir(), 'es-console-'));
    runner = new ActorRunner(new System({ pipes: [[Worlds, HeldCounters], [Worlds, Audit], [Worlds, Things]] }), {
      env: { PERSISTENCE: 'sqlite', SQLITE_DBNAME: join(directory, 'store.sqlite') },
      supervision: { minBackoffMs: 1, maxBackoffMs: 5, maxRestarts: 2 },
    });
    await runner.start();
    server = await runner.console({ port: 0, token: TOKEN, intervalMs: 100 });
    // A fresh profile (--user-data-dir, which playwright passes for a persistent context).
    browser = await chromium.launchPersistentContext(join(directory, 'chromium'), {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 640 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await runner?.stop().catch(() => undefined);
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  const row = (name: string) => page.locator(`tr[data-process="${name}:0"]`);
  const cell = (name: string, column: string) => row(name).locator(`td.c-${column}`);

  it('shows the topology, lag going up and back to 0, a failure, and a skip that lets the process recover', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}?token=${TOKEN}`);

    // The topology: a box per application, an arrow per pipe.
    for (const name of ['Worlds', 'HeldCounters', 'Audit', 'Things']) {
      await page.locator(`svg#topology g.node[data-app="${name}"] text.name`).filter({ hasText: name }).waitFor();
    }
    expect(await page.locator('svg#topology path.pipe').count()).toBe(3);
    await expect(cell('Things', 'kind').textContent()).resolves.toBe('projection');
    await expect(cell('Audit', 'kind').textContent()).resolves.toBe('process');
    await page.locator('#connection.live').waitFor();
    await expect(cell('HeldCounters', 'lag').textContent()).resolves.toBe('0');

    // Lag goes up while the process is held, and back to 0 once it runs.
    let release!: () => void;
    held = new Promise((resolve) => (release = resolve));
    const worlds = runner.get(Worlds);
    const id = await worlds.createWorld();
    for (let index = 0; index < 20; index++) await worlds.makeItSo(id, `thing ${index}`);
    await page.waitForFunction(() => Number(document.querySelector('tr[data-process="HeldCounters:0"] td.c-lag')?.textContent) >= 20);
    await expect(cell('Audit', 'lag').textContent()).resolves.toBe('0');
    await page.waitForFunction(() => document.querySelector('tr[data-process="Things:0"] td.c-position')?.textContent === '21');
    release();
    held = undefined;
    await page.waitForFunction(() => document.querySelector('tr[data-process="HeldCounters:0"] td.c-lag')?.textContent === '0');

    // A notification the policy refuses: the process fails, the page shows its error and the skip button.
    await worlds.makeItSo(id, 'poison'); // notification 22
    await worlds.makeItSo(id, 'after');
    await cell('HeldCounters', 'state').filter({ hasText: 'failed' }).waitFor();
    await expect(cell('HeldCounters', 'error').textContent()).resolves.toBe(
      "HeldCounters failed to process notification 22 of Worlds (pipeline 0): PoisonCounters refuses 'poison'",
    );
    await expect(cell('HeldCounters', 'lag').textContent()).resolves.toBe('2');
    await expect(page.locator('svg#topology g.node[data-app="HeldCounters"]')).toBeDefined();
    expect(await page.locator('svg#topology g.node.state-failed').getAttribute('data-app')).toBe('HeldCounters');
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`the console's screenshot (a failed process): ${SCREENSHOT}`);

    // Skip: confirm, then give a reason.
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message().split('\n')[0]}`);
      void (dialog.type() === 'prompt' ? dialog.accept('poison pill (browser test)') : dialog.accept());
    });
    await row('HeldCounters').locator('button.skip').click();
    await page.locator('#message').filter({ hasText: 'Skipped notification 22 of Worlds for HeldCounters (pipeline 0).' }).waitFor();
    expect(dialogs).toEqual([
      'confirm: Skip notification 22 of Worlds for HeldCounters (pipeline 0)? It will never be processed.',
      'prompt: Why skip notification 22 of Worlds? (recorded with the SkippedNotification)',
    ]);
    await page.waitForFunction(() => {
      const cells = (name: string) => document.querySelector(`tr[data-process="HeldCounters:0"] td.c-${name}`)?.textContent;
      return cells('lag') === '0' && cells('error') === '' && /^(idle|running)/.test(cells('state') ?? '');
    });
    expect(await row('HeldCounters').locator('button.skip').isHidden()).toBe(true);
    const skipped = (await eventsIn(runner.get(HeldCounters), 0)).filter((event) => event instanceof SkippedNotification.Recorded);
    expect(skipped).toEqual([expect.objectContaining({ upstreamName: 'Worlds', notificationId: 22, reason: 'poison pill (browser test)' })]);
    expect(await runner.get(HeldCounters).getCount('after')).toBe(1);
    const recovered = SCREENSHOT.replace(/\.png$/, '-recovered.png');
    await page.screenshot({ path: recovered, fullPage: true });
    console.log(`the console's screenshot (recovered): ${recovered}`);
    expect(errors).toEqual([]);
    runner.errors.splice(0); // the poison's failures, seen above
  });
});
