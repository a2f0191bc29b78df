import { describe, expect, it } from 'vitest';
import { systemClock } from '../../lambda/runtime.ts';

describe('toolchain', () => {
  it('runs the tests on Node 24, the Lambda runtime we deploy on', () => {
    expect(process.version).toMatch(/^v24\./);
  });
});

describe('systemClock.sleep', () => {
  it('waits the time asked', async () => {
    const started = performance.now();
    await systemClock.sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('wakes as soon as its signal aborts, and at once when it already has', async () => {
    const wake = new AbortController();
    const started = performance.now();
    const sleeping = systemClock.sleep(60_000, wake.signal);
    setTimeout(() => wake.abort(), 10);
    await sleeping;
    expect(performance.now() - started).toBeLessThan(5_000);
    await systemClock.sleep(60_000, wake.signal);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
