/**
 * The HTML evidence page, read back with a standards-conforming HTML parser (cheerio on parse5) as a browser would:
 * the run facts, the charts' counts, the per-server table, the evidence digest, and that hostile text stays text.
 */
import * as cheerio from 'cheerio';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jsonEvidence } from '../../../cli/evidence.ts';
import { escapeHtml, safeHtml } from '../../../cli/html.ts';
import { auditHtml, type HtmlReportContext } from '../../../cli/render-html.ts';
import { AUDIT_HEAD } from '../../../cli/render.ts';
import type { RunSummary } from '../../../lambda/types/results.ts';
import { audit, summary } from '../../support/result-fixtures.ts';

const HOSTILE = `</td></tr></table><script>window.pwned=1</script><img src=x onerror="window.pwned=2">"'&amp;`;

const run = summary(
  [
    audit({ serverId: 'srv_1', serverName: 'github', credentialAgeDays: 4 }),
    audit({
      serverId: 'srv_2',
      serverName: HOSTILE,
      compliant: false,
      findings: [
        { code: 'CREDENTIAL_TOO_OLD', message: `credential is 120 days old <b>${HOSTILE}</b>` },
        { code: 'CREDENTIAL_DRIFT', message: 'current version v3 is not the applied v2' },
      ],
      credentialAgeDays: 120,
    }),
    audit({
      serverId: 'srv_3',
      teamspaceId: undefined,
      serverName: 'jira',
      compliant: false,
      findings: [{ code: 'NEVER_ROTATED', message: 'never rotated by this rotator' }],
      appliedVersionId: undefined,
      lastRotatedAt: undefined,
      credentialAgeDays: undefined,
    }),
    audit({
      serverId: 'srv_4',
      serverName: 'slack',
      compliant: false,
      findings: [{ code: 'CREDENTIAL_TOO_OLD', message: 'credential is 95 days old' }],
      credentialAgeDays: 95,
    }),
  ],
  { counts: { rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 1, noncompliant: 3 } },
);

const context = (s: RunSummary, fields: Partial<HtmlReportContext> = {}): HtmlReportContext => ({
  identity: { account: '123456789012', region: 'eu-west-1' },
  config: { file: '/etc/rotator/rotation.config.json', sha256: 'a'.repeat(64) },
  evidence: jsonEvidence(s),
  generator: 'datagrid-mcp-rotator 0.1.0',
  ...fields,
});

const page = auditHtml(run, context(run));
const $ = cheerio.load(page);

/** A chart's bars as `label: count`. */
const bars = (id: string) =>
  $(`#${id} g.bar`)
    .toArray()
    .map((g) => `${$(g).attr('data-label')}: ${$(g).attr('data-value')}`);

describe('audit HTML page', () => {
  it('names the run, the account and region, and the configuration digest', () => {
    expect($('head > title').text()).toBe(`Datagrid MCP credential audit ${run.runId}`);
    expect($('#run-id').text()).toBe(run.runId);
    expect($('#started-at').text()).toBe(run.startedAt);
    expect($('#finished-at').text()).toBe(run.finishedAt);
    expect($('#requested-by').text()).toBe('alice');
    expect($('#aws-account').text()).toBe('123456789012');
    expect($('#aws-region').text()).toBe('eu-west-1');
    expect($('#config-file').text()).toBe('/etc/rotator/rotation.config.json');
    expect($('#config-sha256').text()).toBe('a'.repeat(64));
    expect($('#targets').text()).toBe('4 (compliant 1, non-compliant 3)');
    expect($('header .verdict').text()).toBe('3 of 4 target(s) non-compliant');
  });

  it('says why the account is missing when STS could not be asked', () => {
    const $$ = cheerio.load(
      auditHtml(run, context(run, { identity: { region: 'eu-west-1', accountError: 'GetCallerIdentity failed (X)' } })),
    );
    expect($$('#aws-account').text()).toBe('unknown: GetCallerIdentity failed (X)');
  });

  it('draws compliance, findings by code and credential age as inline SVG bar charts', () => {
    expect($('svg.chart')).toHaveLength(3);
    expect(bars('chart-compliance')).toEqual(['compliant: 1', 'non-compliant: 3']);
    // A target counts once per code; most frequent first, then by name.
    expect(bars('chart-findings')).toEqual(['CREDENTIAL_TOO_OLD: 2', 'CREDENTIAL_DRIFT: 1', 'NEVER_ROTATED: 1']);
    expect(bars('chart-age')).toEqual([
      '0–7 days: 1',
      '8–30 days: 0',
      '31–60 days: 0',
      '61–90 days: 0',
      '91–180 days: 2',
      'over 180 days: 0',
      'no rotation recorded: 1',
    ]);
    // Bars are scaled to the largest count: 3 non-compliant is the full width, 1 compliant a third of it.
    const widths = $('#chart-compliance rect')
      .toArray()
      .map((r) => Number($(r).attr('width')));
    expect(widths).toEqual([107, 320]);
    expect($('#chart-compliance title').text()).toBe('Targets by compliance');
  });

  it('has one table row per server with the columns of the other formats', () => {
    expect(
      $('#servers thead th')
        .toArray()
        .map((th) => $(th).text()),
    ).toEqual(AUDIT_HEAD);
    const rows = $('#servers tbody tr').toArray();
    expect(rows.map((tr) => $(tr).find('td').first().text())).toEqual([
      'ts_1/srv_1',
      'ts_1/srv_2',
      'srv_3',
      'ts_1/srv_4',
    ]);
    expect(rows.map((tr) => $(tr).attr('class'))).toEqual([
      'compliant',
      'noncompliant',
      'noncompliant',
      'noncompliant',
    ]);
    const jira = $(rows[2]).find('td');
    expect(jira.toArray().map((td) => $(td).text())).toEqual([
      'srv_3',
      'jira',
      'no',
      'active',
      '3',
      '',
      'v1',
      '',
      '',
      'NEVER_ROTATED: never rotated by this rotator',
    ]);
    expect($(rows[1]).find('td.findings li')).toHaveLength(2);
  });

  it('keeps hostile server names and messages as text: no script, image or handler gets into the page', () => {
    expect($('script')).toHaveLength(0);
    expect($('img')).toHaveLength(0);
    expect($('[onerror]')).toHaveLength(0);
    expect($('#servers tbody tr')).toHaveLength(4);
    const hostileRow = $('#servers tbody tr').eq(1);
    expect(hostileRow.find('td.name').text()).toBe(HOSTILE);
    expect(hostileRow.find('td.findings li').first().text()).toBe(
      `CREDENTIAL_TOO_OLD: credential is 120 days old <b>${HOSTILE}</b>`,
    );
    expect($('#evidence-json').text()).toContain(JSON.stringify(HOSTILE).slice(1, -1));
  });

  it('carries the JSON evidence it was made from and its SHA-256, and says what was hashed', () => {
    const json = `${JSON.stringify(run, null, 2)}\n`;
    const sha256 = createHash('sha256').update(json, 'utf8').digest('hex');
    expect($('#evidence-json').text()).toBe(json);
    expect($('#evidence-sha256').text()).toBe(sha256);
    expect($('#evidence-explanation').text()).toMatch(/SHA-256 of the UTF-8 bytes .* audit --format json/);
  });

  it('loads nothing: no external reference, and a policy that forbids fetching anything', () => {
    expect($('link, script, iframe, object, embed, img')).toHaveLength(0);
    expect($('[src], [href]')).toHaveLength(0);
    expect($('meta[http-equiv="Content-Security-Policy"]').attr('content')).toMatch(/^default-src 'none'/);
    expect($('style').text()).not.toMatch(/url\(|@import/);
  });

  it('renders an audit of zero targets', () => {
    const empty = summary([], {
      counts: { rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 },
    });
    const $$ = cheerio.load(auditHtml(empty, context(empty)));
    expect($$('#servers tbody tr')).toHaveLength(0);
    expect($$('#chart-findings').text()).toContain('none');
    expect($$('header .verdict').text()).toBe('all 0 target(s) compliant');
  });
});

describe('safeHtml', () => {
  it('escapes interpolated text, including in attributes, and keeps markup it made', () => {
    const name = `"><script>x</script>`;
    expect(safeHtml`<td title="${name}">${name}</td>`.markup).toBe(
      '<td title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">&quot;&gt;&lt;script&gt;x&lt;/script&gt;</td>',
    );
    expect(safeHtml`<ul>${['a&b', 'c'].map((item) => safeHtml`<li>${item}</li>`)}</ul>`.markup).toBe(
      '<ul><li>a&amp;b</li><li>c</li></ul>',
    );
    expect(escapeHtml(`'&`)).toBe('&#39;&amp;');
  });
});
