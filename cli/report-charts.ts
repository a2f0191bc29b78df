/**
 * The audit report's summary pictures as inline SVG (a filed report must open offline, so no chart library loaded
 * from anywhere): compliant vs non-compliant, findings by code, and the credential age distribution. Each chart
 * is a horizontal bar chart whose bars carry their label and count as data attributes and as text.
 */
import type { AuditResult } from '../lambda/types/results.ts';
import { safeHtml, type SafeHtml } from './html.ts';

export interface Bar {
  label: string;
  value: number;
  /** CSS class of the bar: `good`, `bad` or `neutral`. */
  tone: 'good' | 'bad' | 'neutral';
}

const LABEL_WIDTH = 200;
const BAR_AREA = 320;
const VALUE_WIDTH = 60;
const ROW_HEIGHT = 26;
const BAR_HEIGHT = 18;

/** A bar chart; `title` is its accessible name. Bars are scaled to the largest value (at least one pixel if > 0). */
export function barChart(id: string, title: string, bars: readonly Bar[]): SafeHtml {
  const width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH;
  const height = Math.max(bars.length, 1) * ROW_HEIGHT + 4;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.map((bar, i) => {
    const y = i * ROW_HEIGHT + 4;
    const barWidth = bar.value === 0 ? 0 : Math.max(1, Math.round((bar.value / max) * BAR_AREA));
    const textY = y + BAR_HEIGHT - 4;
    return safeHtml`<g class="bar ${bar.tone}" data-label="${bar.label}" data-value="${bar.value}">
<text x="${LABEL_WIDTH - 8}" y="${textY}" text-anchor="end">${bar.label}</text>
<rect x="${LABEL_WIDTH}" y="${y}" width="${barWidth}" height="${BAR_HEIGHT}" rx="2"></rect>
<text x="${LABEL_WIDTH + barWidth + 6}" y="${textY}">${bar.value}</text>
</g>`;
  });
  const empty = bars.length === 0 ? safeHtml`<text x="${LABEL_WIDTH}" y="${ROW_HEIGHT - 8}">none</text>` : '';
  return safeHtml`<svg id="${id}" class="chart" role="img" aria-labelledby="${id}-title" xmlns="http://www.w3.org/2000/svg"
 viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">
<title id="${id}-title">${title}</title>
${rows}${empty}
</svg>`;
}

export function complianceBars(audits: readonly AuditResult[]): Bar[] {
  const compliant = audits.filter((a) => a.compliant).length;
  return [
    { label: 'compliant', value: compliant, tone: 'good' },
    { label: 'non-compliant', value: audits.length - compliant, tone: 'bad' },
  ];
}

/** How many targets have each finding code (a target counts once per code), most frequent first. */
export function findingBars(audits: readonly AuditResult[]): Bar[] {
  const counts = new Map<string, number>();
  for (const audit of audits) {
    for (const code of new Set(audit.findings.map((f) => f.code))) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([label, value]) => ({ label, value, tone: 'bad' as const }));
}

/** Credential age bins in days, both ends included. */
export const AGE_BINS: readonly { label: string; min: number; max: number }[] = [
  { label: '0–7 days', min: 0, max: 7 },
  { label: '8–30 days', min: 8, max: 30 },
  { label: '31–60 days', min: 31, max: 60 },
  { label: '61–90 days', min: 61, max: 90 },
  { label: '91–180 days', min: 91, max: 180 },
  { label: 'over 180 days', min: 181, max: Number.POSITIVE_INFINITY },
];

export const NO_AGE_LABEL = 'no rotation recorded';

export function ageBars(audits: readonly AuditResult[]): Bar[] {
  const bars: Bar[] = AGE_BINS.map((bin) => ({
    label: bin.label,
    value: audits.filter(
      (a) => a.credentialAgeDays !== undefined && a.credentialAgeDays >= bin.min && a.credentialAgeDays <= bin.max,
    ).length,
    // Thresholds are per target (maxCredentialAgeDays): the findings say which ages are too old, not the colour.
    tone: 'neutral',
  }));
  bars.push({
    label: NO_AGE_LABEL,
    value: audits.filter((a) => a.credentialAgeDays === undefined).length,
    tone: 'neutral',
  });
  return bars;
}
