// The HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core (no
// browser download), opens the report of the fragmenting scenario and checks what an operator sees
// first: the verdict with the first problem, the path picture with every hop of the busiest flow,
// the evidence with its marked fields; that the page asked for nothing but itself (no network, no
// CDN) and ran without a script error; and that the table sorting works. Expectations come from
// the JSON report of the same captures, not from knowing the sample. A screenshot goes to
// test/artifacts/ (ignored by git) for a person to look at.
// Skipped with a printed reason where Chromium is absent; CI installs it (samples/lab/install-deps.sh)
// and there a missing Chromium fails the test instead.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { analyzeJson, runCli } from '../analyze/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.HOPSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';
if (!available && !inCi) {
  console.log(`browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium; CI installs it)`);
}

function scenarioArgs(scenario: string): string[] {
  const dir = join(root, 'samples', scenario);
  const topology = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as {
    path: Array<{ file: string }>;
  };
  return ['--topology', join(dir, 'topology.json'), ...topology.path.map((p) => join(dir, p.file))];
}

describe.skipIf(!available && !inCi)('the HTML report in Chromium', () => {
  it('shows the verdict, the path picture and the evidence, and loads nothing from the network', async () => {
    expect(existsSync(CHROMIUM), `Chromium must be installed at ${CHROMIUM} in CI`).toBe(true);
    const { chromium } = await import('playwright-core');
    const args = scenarioArgs('fragmenting-underlay');
    const { report } = await analyzeJson(args);
    const scratch = mkdtempSync(join(tmpdir(), 'hopscope-browser-'));
    const html = join(scratch, 'report.html');
    const run = await runCli(['report', '--log-level', 'silent', ...args, '-o', html]);
    expect(run.code).toBe(0);

    const context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1200, height: 1000 },
    });
    try {
      const url = pathToFileURL(html).href;
      const requested: string[] = [];
      const refused: string[] = [];
      // Anything but the report itself would be a network request: refused and remembered.
      await context.route('**/*', (route) => {
        const target = route.request().url();
        if (target === url) return route.continue();
        refused.push(target);
        return route.abort();
      });
      const page = await context.newPage();
      page.on('request', (request) => requested.push(request.url()));
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      await page.goto(url);

      // The verdict: the first problem's title, as the catalogue words it in the JSON.
      const problem = report.findings.find((f) => f.severity === 'error') as Report['findings'][number];
      expect(problem).toBeDefined();
      const verdict = page.locator('#verdict');
      await expect.poll(() => verdict.isVisible()).toBe(true);
      expect(await verdict.getByRole('heading', { name: 'Verdict' }).isVisible()).toBe(true);
      expect(await verdict.innerText()).toContain(problem.title);
      expect(await verdict.innerText()).toContain(problem.fix.slice(0, 40));

      // The path picture: an image whose name says the flow, every hop of the busiest flow drawn.
      const path = report.paths[0] as Report['paths'][number];
      const picture = page.locator('#path svg[role="img"]');
      expect(await picture.isVisible()).toBe(true);
      const box = await picture.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(600);
      expect(await picture.locator('title').textContent()).toContain(path.flow);
      const drawn = await picture.locator('text.hop-name').allTextContents();
      expect(drawn).toEqual(path.hops.map((h) => h.hop));
      expect(await picture.locator('.hop-box.problem').count()).toBeGreaterThan(0);
      expect((await picture.locator('desc').textContent())?.length ?? 0).toBeGreaterThan(50);

      // The evidence of the first problem: its first frame, named by capture file and number, with marks.
      const article = page.locator(`article.finding[data-severity="error"]`).first();
      const first = problem.evidence[0] as { hop: string; frame: number };
      const capture = report.captures.find((c) => c.hops.includes(first.hop))?.path ?? '';
      const row = article.locator('table.evidence tbody tr').first();
      expect(await row.isVisible()).toBe(true);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(basename(capture));
      expect(cells[1]).toBe(String(first.frame));
      expect(await row.locator('mark').count()).toBeGreaterThan(0);

      // Accessible: one h1, every picture an image with a name and a description, every table with headers.
      expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
      const pictures = page.locator('svg');
      const count = await pictures.count();
      expect(count).toBeGreaterThan(report.hops.length);
      for (let i = 0; i < count; i++) {
        const svg = pictures.nth(i);
        expect(await svg.getAttribute('role')).toBe('img');
        expect(((await svg.locator(':scope > title').textContent()) ?? '').length).toBeGreaterThan(5);
        expect(((await svg.locator(':scope > desc').textContent()) ?? '').length).toBeGreaterThan(5);
      }
      const tables = page.locator('table');
      for (let i = 0; i < (await tables.count()); i++)
        expect(await tables.nth(i).locator('th').count()).toBeGreaterThan(0);

      // The little script: the hops table sorts by frames when its header is clicked.
      const hopsTable = page.locator('#hops table.sortable');
      await hopsTable.getByRole('button', { name: 'Frames', exact: true }).click();
      const frames = (await hopsTable.locator('tbody tr td:nth-child(4)').allInnerTexts()).map((t) =>
        Number(t.replace(/,/g, '')),
      );
      expect(frames).toEqual([...frames].sort((a, b) => a - b));

      mkdirSync(join(root, 'test', 'artifacts'), { recursive: true });
      await page.screenshot({
        path: join(root, 'test', 'artifacts', 'report-fragmenting-underlay.png'),
        fullPage: true,
      });

      expect(errors).toEqual([]);
      expect(refused).toEqual([]);
      expect([...new Set(requested)]).toEqual([url]);
    } finally {
      await context.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
