import { describe, expect, it } from 'vitest';

describe('toolchain', () => {
  it('runs the tests on Node 24, the Lambda runtime we deploy on', () => {
    expect(process.version).toMatch(/^v24\./);
  });
});
