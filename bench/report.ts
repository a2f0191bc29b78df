/** The benchmark's table (cli-table3): throughput, calls and cold start, each figure beside its bound or floor. */
import Table from 'cli-table3';
import type { Results } from './run.ts';

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const ms = (value: number): string => `${value.toFixed(0)} ms`;
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;
const x = (ratio: number): string => `${ratio.toFixed(2)}×`;
const mark = (met: boolean): string => (met ? 'met' : 'MISSED');

/** The per-target Datagrid time of the latency bound, measured, beside the injected latency and delay it includes. */
function perTargetTime(st: Results['settings'][number]): string {
  const { patch, resync, get } = st.bound.perTargetMs;
  const { patchLatencyMs, asyncDelayMs } = st.setting;
  const patchText = patch > patchLatencyMs ? `${patch.toFixed(0)} (${patchLatencyMs} injected)` : `${patchLatencyMs}`;
  if (st.setting.resync === 'sync') return patchText;
  return `${patchText} + re-sync ${resync.toFixed(0)} (${asyncDelayMs} delay) + GET ${get.toFixed(0)}`;
}

export function printReport(r: Results): void {
  const c = r.concurrency;
  console.log(
    `\n${r.shape.targets} targets over ${r.shape.teamspaces} teamspaces (${r.shape.mcpServers} real MCP servers), ` +
      `concurrency global ${c.global} / perTeamspace ${c.perTeamspace} unless a row says otherwise, ` +
      `forced rotation of every target; ` +
      `Node ${r.machine.node}, ${r.machine.cpus} × ${r.machine.cpuModel}; commit ${r.commit}\n`,
  );

  const throughput = new Table({
    head: [
      'setting',
      'concurrency',
      'lower bound',
      'rotator wall',
      'ratio',
      `≤ ${r.targets.wallRatio}×`,
      'rotated / failed',
      'Datagrid 429s',
      'Promise.all loop',
      'speed-up vs sequential',
    ],
  });
  for (const st of r.settings) {
    const b = st.bound;
    const how =
      b.binding === 'rate limit'
        ? `${b.requests} req − ${st.setting.rateLimit!.burst} burst ÷ ${st.setting.rateLimit!.requestsPerSecond}/s`
        : `${perTargetTime(st)} ms × ${r.shape.targets} ÷ ${b.concurrency}`;
    const counts = st.rotator.counts;
    throughput.push([
      st.setting.name,
      `${st.concurrency.global} / ${st.concurrency.perTeamspace}`,
      `${s(b.boundMs)}\n(${how})`,
      st.rotator.ok || counts ? s(st.rotator.invokeMs) : `error: ${st.rotator.error?.message.slice(0, 60)}`,
      x(st.rotator.wallRatio),
      st.setting.preflight ? 'n/a' : mark(st.rotator.ok && st.rotator.wallRatio <= r.targets.wallRatio),
      counts ? `${counts.rotated} / ${counts.failed}` : 'run failed',
      String(st.calls.datagrid.rateLimited),
      `${s(st.promiseAll.wallMs)}, ${st.promiseAll.failed} failed`,
      x(r.sequential.wallMs / st.rotator.invokeMs),
    ]);
  }
  console.log(
    'Throughput (rotator wall = handler(event) until it resolved, in a fresh process running dist/handler.mjs)',
  );
  console.log(throughput.toString());
  console.log(
    'Lower bound: per target, the mean Datagrid time the emulator measured in the run (a synchronous PATCH answers ' +
      'after its MCP re-sync; an async re-sync is waited for, then read), at least the injected latency and delay. ' +
      'Against the injected latency and delay alone: ' +
      r.settings.map((st) => `${st.setting.name} ${x(st.rotator.nominalWallRatio)}`).join(', '),
  );
  const withoutPreflight = r.settings.find(
    (st) => !st.setting.preflight && !st.setting.rateLimit && st.setting.resync === 'sync',
  );
  for (const st of r.settings.filter((row) => row.setting.preflight && withoutPreflight)) {
    const base = withoutPreflight!.rotator.invokeMs;
    console.log(
      `Pre-flight cost ("${st.setting.name}" against "${withoutPreflight!.setting.name}"): ` +
        `${x(st.rotator.invokeMs / base)} the wall time, ${ms((st.rotator.invokeMs - base) / r.shape.targets)} more per target ` +
        `(its MCP calls are not in the lower bound, so the wall-time target does not apply to this row)`,
    );
  }
  console.log(
    `Sequential loop (official datagrid-ai client, one PATCH after another, under "${r.sequential.setting}"): ` +
      `${s(r.sequential.wallMs)}, ${r.sequential.failed} failed of ${r.sequential.ok + r.sequential.failed}\n`,
  );

  const calls = new Table({ head: ['calls per run (actual / minimum)', ...r.settings.map((st) => st.setting.name)] });
  const operations = Object.keys(r.settings[0]!.calls.minimum);
  for (const op of operations) {
    calls.push([op, ...r.settings.map((st) => `${st.calls.actual[op] ?? 0} / ${st.calls.minimum[op]}`)]);
  }
  const extra = new Set(
    r.settings.flatMap((st) => Object.keys(st.calls.actual)).filter((op) => !operations.includes(op)),
  );
  for (const op of extra) calls.push([op, ...r.settings.map((st) => `${st.calls.actual[op] ?? 0} / 0`)]);
  calls.push([
    'Datagrid 429 answers (not in the minimum)',
    ...r.settings.map((st) => String(st.calls.datagrid.rateLimited)),
  ]);
  calls.push(['at the minimum (async GETs: within 2%)', ...r.settings.map((st) => mark(st.calls.atMinimum))]);
  console.log(calls.toString());

  const cold = r.coldStart;
  const coldTable = new Table({
    head: ['cold start', 'dist/handler.mjs', 'floor (3 SDK clients only)', 'ratio', `≤ ${r.targets.importRatio}×`],
  });
  const processes = `median of ${cold.handler.samplesMs.length} fresh processes`;
  coldTable.push(
    [
      'size loaded at init (entry + static chunks)',
      kb(cold.handler.bytes),
      kb(cold.floor.bytes),
      x(cold.handler.bytes / cold.floor.bytes),
      '',
    ],
    [
      `import() of the entry file (Lambda's init), ${processes}`,
      ms(cold.handler.medianMs),
      ms(cold.floor.medianMs),
      x(cold.importRatio),
      mark(cold.importRatio <= r.targets.importRatio),
    ],
    ['chunks loaded on demand, size', kb(cold.handler.chunkBytes), kb(cold.floor.chunkBytes), '', ''],
    [
      'import() of the entry file, then of every chunk',
      ms(cold.handler.withChunks.medianMs),
      ms(cold.floor.withChunks.medianMs),
      x(cold.handler.withChunks.medianMs / cold.floor.withChunks.medianMs),
      '',
    ],
    ['peak RSS of the 600-target run', `${(cold.peakRssKb / 1024).toFixed(0)} MB`, '', '', ''],
  );
  console.log(coldTable.toString());
  console.log(
    `Targets: ${Object.entries(r.met)
      .map(([k, v]) => `${k} ${mark(v)}`)
      .join(', ')}`,
  );
}
