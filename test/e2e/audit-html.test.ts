/**
 * `audit --format html --output <file>` as an operator runs it (the CLI in its own process, moto, the Datagrid
 * emulator, real MCP servers): the page is read back with an HTML parser and checked against the JSON evidence the
 * same run printed, then opened in headless Chromium, offline, to check that it lays out without errors.
 */
import * as cheerio from 'cheerio';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BoundingBox } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditResult, RunSummary } from '../../lambda/types/results.ts';
import { startMoto, type RunningMoto } from '../../local/moto.ts';
import { LocalStack, type StackServer } from '../../local/stack.ts';
import { canary, leakedCanaries } from './support/canaries.ts';
import { launchChromium, skipWithoutChromium } from './support/chromium.ts';
import { runCli, type CliRun } from './support/cli-process.ts';

/** A server name as someone with access to Datagrid could set it: markup that must stay text in the page. */
const HOSTILE_NAME = `</td></tr></table><script>window.pwned=1</script><img src=x onerror="window.pwned=2"><b>"'&amp;`;

const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const label = (server: StackServer) => `${server.teamspaceId}/${server.serverId}`;

let moto: RunningMoto;
let stack: LocalStack;
let alpha: StackServer;
let hostile: StackServer;
let gamma: StackServer;
let configFile: string;
let reportFile: string;
/** The audit run that wrote the page, with --json: stdout is the JSON evidence. */
let audit: CliRun;
let page: string;

const aws = () => ['--table', stack.tableName, '--bus', stack.busName];

beforeAll(async () => {
  moto = await startMoto();
  stack = await LocalStack.start({ moto, apiKey: canary('dg-api-key'), name: `audit-html-${process.pid}` });
  [alpha, hostile, gamma] = await Promise.all([
    stack.addServer({ name: 'alpha', teamspaceId: 'ts_eng', token: canary('alpha-v1'), initialToken: canary('a0') }),
    stack.addServer({ name: 'hostile', teamspaceId: 'ts_eng', tools: 4, token: canary('hostile-v1') }),
    stack.addServer({ name: 'gamma', teamspaceId: 'ts_ops', token: canary('gamma-v1') }),
  ]);
  configFile = await stack.writeConfig({ targets: [alpha.target, hostile.target, gamma.target] });
  // alpha and the hostile one are rotated (compliant); gamma never was (non-compliant: NEVER_ROTATED).
  const rotate = await runCli(stack, ['rotate', ...aws(), '--targets', `${label(alpha)},${label(hostile)}`]);
  expect(rotate.code, rotate.stderr).toBe(0);
  await stack.callDatagrid('PATCH', `/organization/mcp-servers/${hostile.serverId}`, { name: HOSTILE_NAME }, 'ts_eng');

  reportFile = join(stack.workDir, 'evidence.html');
  audit = await runCli(stack, ['audit', ...aws(), '--format', 'html', '--output', reportFile, '--json']);
  page = await readFile(reportFile, 'utf8');
});

afterAll(async () => {
  await stack?.close();
  await moto?.close();
});

describe('audit --format html --output', () => {
  it('writes the page, prints the JSON evidence it was made from, and exits 1 for the non-compliant target', () => {
    expect(audit.code, audit.stderr).toBe(1);
    const summary = JSON.parse(audit.stdout) as RunSummary;
    expect(summary).toMatchObject({ action: 'audit', counts: { compliant: 2, noncompliant: 1 } });
    expect(leakedCanaries(page), 'no secret, token or API key in the page').toEqual([]);
  });

  it('matches the JSON evidence of the same run: run, digest, and one row per result', async () => {
    const summary = JSON.parse(audit.stdout) as RunSummary;
    const $ = cheerio.load(page);
    expect($('#evidence-sha256').text()).toBe(sha256(audit.stdout));
    expect($('#evidence-json').text()).toBe(audit.stdout);
    expect($('#evidence-explanation').text()).toContain('audit --format json');
    expect($('#run-id').text()).toBe(summary.runId);
    expect($('#started-at').text()).toBe(summary.startedAt);
    expect($('#finished-at').text()).toBe(summary.finishedAt);
    // moto's account; the region the CLI ran in.
    expect($('#aws-account').text()).toBe('123456789012');
    expect($('#aws-region').text()).toBe(stack.moto.region);
    expect($('#config-file').text()).toBe(configFile);
    expect($('#config-sha256').text()).toBe(sha256(await readFile(configFile)));

    const results = summary.results as AuditResult[];
    const rows = $('#servers tbody tr').toArray();
    expect(rows.map((tr) => $(tr).find('td.target').text())).toEqual(
      results.map((r) => `${r.teamspaceId}/${r.serverId}`),
    );
    expect(rows.map((tr) => $(tr).find('td.name').text())).toEqual(['alpha', HOSTILE_NAME, 'gamma']);
    expect(rows.map((tr) => $(tr).find('td.compliant').text())).toEqual(
      results.map((r) => (r.compliant ? 'yes' : 'no')),
    );
    expect(rows.map((tr) => $(tr).find('td.findings li code').text())).toEqual(
      results.map((r) => r.findings.map((f) => f.code).join('')),
    );
    expect($(rows[2]).find('td.findings').text()).toContain('NEVER_ROTATED');

    const bars = (id: string) =>
      $(`#${id} g.bar`)
        .toArray()
        .map((g) => [$(g).attr('data-label'), Number($(g).attr('data-value'))]);
    expect(bars('chart-compliance')).toEqual([
      ['compliant', summary.counts.compliant],
      ['non-compliant', summary.counts.noncompliant],
    ]);
    expect(bars('chart-findings')).toEqual([['NEVER_ROTATED', 1]]);
    expect(bars('chart-age')).toContainEqual(['0–7 days', 2]);
    expect(bars('chart-age')).toContainEqual(['no rotation recorded', 1]);
  });

  it('keeps the hostile server name as text and loads nothing from anywhere', () => {
    const $ = cheerio.load(page);
    expect($('script, img, link, iframe, object, embed')).toHaveLength(0);
    expect($('[src], [href], [onerror]')).toHaveLength(0);
    expect($('#servers tbody tr')).toHaveLength(3);
  });

  it('refuses --format html without --output before running anything', async () => {
    await stack.receiveEvents(1000);
    const run = await runCli(stack, ['audit', ...aws(), '--format', 'html']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --format html needs --output <file>: the page is a file to keep\n');
    expect(await stack.receiveEvents(1000)).toEqual([]);
  });

  it('without --json, says where the page is and its evidence digest', async () => {
    const other = join(stack.workDir, 'second.html');
    const run = await runCli(stack, ['audit', ...aws(), '--format', 'html', '--output', other]);
    expect(run.code).toBe(1);
    const $ = cheerio.load(await readFile(other, 'utf8'));
    expect(run.stdout).toMatch(/^compliant 2, noncompliant 1 \(run \S+, manual\)\n/);
    expect(run.stdout).toContain(`wrote ${other}: JSON evidence SHA-256 ${$('#evidence-sha256').text()}\n`);
    expect((await stat(other)).size).toBeGreaterThan(0);
  });
});

describe.skipIf(skipWithoutChromium('the browser test of the HTML audit report'))(
  'the page in headless Chromium',
  () => {
    it(
      'lays out offline without script errors, failed requests or overflow, and prints',
      { timeout: 90_000 },
      async () => {
        const browser = await launchChromium();
        try {
          const tab = await browser.newPage();
          const problems: string[] = [];
          const requests: string[] = [];
          tab.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
          tab.on('console', (message) => {
            if (message.type() === 'error' || message.type() === 'warn') problems.push(`console: ${message.text()}`);
          });
          tab.on('request', (request) => requests.push(request.url()));
          tab.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
          const url = pathToFileURL(reportFile).href;
          const viewBoxRatios = cheerio
            .load(page)('svg.chart')
            .toArray()
            .map((svg) => {
              const [, , width, height] = (svg.attribs.viewBox ?? '').split(' ').map(Number);
              return height! / width!;
            });

          for (const width of [1280, 480]) {
            await tab.setViewport({ width, height: 900 });
            await tab.goto(url, { waitUntil: 'load' });
            // Boxes through the DevTools protocol (no DOM types in this Node project); sizes in CSS pixels.
            const charts = await Promise.all(
              (await tab.$$('svg.chart')).map(async (svg) => (await svg.boundingBox())!),
            );
            expect(charts, `width ${width}`).toHaveLength(3);
            charts.forEach((chart, i) => {
              expect(chart.width, `chart ${i} width at ${width}`).toBeGreaterThan(100);
              // Drawn at the SVG's own proportions: neither squashed nor cut.
              expect(Math.abs(chart.height / chart.width - viewBoxRatios[i]!)).toBeLessThan(0.01);
            });
            const overlap = (a: BoundingBox, b: BoundingBox) =>
              a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
            expect(charts.some((a, i) => charts.some((b, j) => i < j && overlap(a, b)))).toBe(false);

            const table = (await (await tab.$('#servers'))!.boundingBox())!;
            expect(table.width).toBeGreaterThan(300);
            const rows = await tab.$$('#servers tbody tr');
            expect(rows).toHaveLength(3);
            const name = await (await (await rows[1]!.$('td.name'))!.getProperty('textContent')).jsonValue();
            expect(name).toBe(HOSTILE_NAME);
            expect(await tab.$$('script')).toHaveLength(0);
            expect(await tab.evaluate('typeof window.pwned')).toBe('undefined');
            // The page itself never scrolls sideways; the wide table scrolls inside its own box.
            expect(
              await tab.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
              `horizontal overflow at ${width}`,
            ).toBe(0);
          }
          if (process.env.AUDIT_HTML_SCREENSHOT)
            await tab.screenshot({ path: process.env.AUDIT_HTML_SCREENSHOT, fullPage: true });
          const pdf = await tab.pdf({ format: 'A4' });
          expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');

          expect(problems).toEqual([]);
          expect(new Set(requests)).toEqual(new Set([url]));
        } finally {
          await browser.close();
        }
      },
    );
  },
);
