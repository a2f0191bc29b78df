/** What bench/child.ts reports to its parent: one line, REPORT_MARKER then this JSON. */
export const REPORT_MARKER = '@@bench-report@@ ';

export interface ChildReport {
  ok: boolean;
  /** `await import(bundle)`, ms. */
  importMs: number;
  /** handler(event, context) until it settled, ms. */
  invokeMs: number;
  /** Peak resident set size of this process, KB (process.resourceUsage().maxRSS). */
  maxRssKb: number;
  /** User + system CPU time of this process until the report, ms. */
  cpuMs: number;
  counts?: Record<string, number>;
  /** Results that did not end `rotated`, at most 20, without secret material. */
  notRotated?: { serverId: string; outcome: string; code?: string; message?: string }[];
  /** Total HTTP attempts the results report (retries included). */
  attempts?: number;
  /** Mean `durationMs` of the results: lease, PATCH, verification and record of one target. */
  meanTargetMs?: number;
  error?: { name: string; message: string };
}
