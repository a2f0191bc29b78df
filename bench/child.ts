/**
 * One Lambda-like invocation in a fresh process: import the bundle, call `handler(event, context)` once, report.
 * Run as `node bench/child.ts <bundle.mjs>` with the event JSON on stdin; prints one line starting with
 * REPORT_MARKER followed by JSON (see ChildReport) and exits.
 */
import { pathToFileURL } from 'node:url';
import { LAMBDA_MAX_TIMEOUT_MS } from '../lambda/constants.ts';
import { readStdin } from '../local/invoke-handler.ts';
import { REPORT_MARKER } from './protocol.ts';
import type { ChildReport } from './protocol.ts';

interface Summary {
  counts: Record<string, number>;
  results: {
    serverId: string;
    outcome: string;
    attempts: number;
    durationMs: number;
    error?: { code: string; message: string };
  }[];
}

function cpuMs(): number {
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  return (userCPUTime + systemCPUTime) / 1000;
}

async function main(bundle: string): Promise<void> {
  const event: unknown = JSON.parse(await readStdin());
  // The budget Lambda would give the invocation: its 15-minute maximum.
  const deadline = Date.now() + LAMBDA_MAX_TIMEOUT_MS;
  const context = { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
  const importStart = performance.now();
  const mod = (await import(pathToFileURL(bundle).href)) as {
    handler: (event: unknown, context: unknown) => Promise<Summary>;
  };
  const importMs = performance.now() - importStart;
  const invokeStart = performance.now();
  let report: ChildReport;
  try {
    const summary = await mod.handler(event, context);
    report = {
      ok: true,
      importMs,
      invokeMs: performance.now() - invokeStart,
      maxRssKb: process.resourceUsage().maxRSS,
      cpuMs: cpuMs(),
      counts: summary.counts,
      notRotated: summary.results
        .filter((r) => r.outcome !== 'rotated')
        .slice(0, 20)
        .map((r) => ({
          serverId: r.serverId,
          outcome: r.outcome,
          ...(r.error && { code: r.error.code, message: r.error.message }),
        })),
      attempts: summary.results.reduce((sum, r) => sum + r.attempts, 0),
      meanTargetMs: summary.results.reduce((sum, r) => sum + r.durationMs, 0) / Math.max(1, summary.results.length),
    };
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) };
    report = {
      ok: false,
      importMs,
      invokeMs: performance.now() - invokeStart,
      maxRssKb: process.resourceUsage().maxRSS,
      cpuMs: cpuMs(),
      error: { name, message: message.slice(0, 2000) },
    };
  }
  // Keep-alive sockets would hold the process open, as a frozen Lambda container would: exit once the line is out.
  process.stdout.write(`\n${REPORT_MARKER}${JSON.stringify(report)}\n`, () => process.exit(report.ok ? 0 : 1));
}

const bundle = process.argv[2];
if (bundle === undefined) {
  console.error('usage: node bench/child.ts <bundle.mjs>  (event JSON on stdin)');
  process.exit(2);
}
await main(bundle);
