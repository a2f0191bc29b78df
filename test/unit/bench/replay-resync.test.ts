import { describe, expect, it } from 'vitest';
import { replay } from '../../../bench/replay-resync.ts';
import { DEFAULT_RESYNC_POLICY } from '../../../lambda/engine/resync-timing.ts';

describe('bench replay of recorded re-syncs', () => {
  it('runs the real verification: one scout probes, every other target polls once, just after its re-sync', async () => {
    const r = await replay(Array<number>(80).fill(150), DEFAULT_RESYNC_POLICY, 150, 8);
    // The scout polls at 25, 75 and 175 ms; the rest at 165 ms (150 ms + 10%) after their PATCH answer.
    expect(r.gets).toBe(82);
    expect(r.late).toBe(1);
    // 10 rounds of 150 ms PATCH + ~165 ms wait + 2 ms GET, the first a little longer.
    expect(r.wallMs).toBeGreaterThan(10 * (150 + 150));
    expect(r.wallMs).toBeLessThan(10 * (150 + 150) * 1.15);
  });

  it('counts a second GET for a re-sync slower than the learned time', async () => {
    const resyncs = [...Array<number>(40).fill(150), 400, ...Array<number>(39).fill(150)];
    const r = await replay(resyncs, DEFAULT_RESYNC_POLICY, 150, 8);
    expect(r.late).toBe(2);
    expect(r.gets).toBeGreaterThan(83);
  });

  it('times slow and fast upstreams apart when they are at different origins', async () => {
    const resyncs = Array.from({ length: 200 }, (_, k) => (k % 10 === 9 ? 1150 : 150));
    const origins = resyncs.map((ms) => (ms > 1000 ? 'https://slow.example' : 'https://fast.example'));
    const perOrigin = await replay(resyncs, DEFAULT_RESYNC_POLICY, 150, 8, origins);
    const wholeRun = await replay(resyncs, { ...DEFAULT_RESYNC_POLICY, byOrigin: false }, 150, 8, origins);
    expect(perOrigin.wallMs).toBeLessThan(wholeRun.wallMs * 0.7);
    expect(perOrigin.gets).toBeLessThan(wholeRun.gets);
  });
});
