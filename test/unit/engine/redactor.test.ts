import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../../lambda/engine/redactor.ts';

describe('Redactor', () => {
  it('scrubs every registered value, longest first, in strings and nested objects', () => {
    const r = new Redactor();
    r.add('token-abc');
    r.add('Bearer token-abc');
    expect(r.scrub('got Bearer token-abc and token-abc')).toBe(`got ${REDACTED} and ${REDACTED}`);
    const scrubbed = r.scrubDeep({ a: ['x token-abc'], b: { c: new Error('echo Bearer token-abc') }, n: 3 });
    expect(JSON.stringify(scrubbed)).not.toContain('token-abc');
    expect(scrubbed.n).toBe(3);
  });

  it('scrubs the JSON-escaped form of values with quotes or backslashes', () => {
    const r = new Redactor();
    r.add('se"cr\\et-value');
    expect(JSON.stringify({ m: 'x se"cr\\et-value y' })).toContain('se\\"cr');
    expect(r.scrub(JSON.stringify({ m: 'x se"cr\\et-value y' }))).not.toContain('cr\\\\et');
  });

  it('treats regular-expression characters literally', () => {
    const r = new Redactor();
    r.add('a.b*c+(d)');
    expect(r.scrub('axbxc a.b*c+(d)')).toBe(`axbxc ${REDACTED}`);
  });

  it('property: no registered value of 4+ characters survives in any text containing it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 40 }), fc.string(), fc.string(), (secret, before, after) => {
        const r = new Redactor();
        r.add(secret);
        expect(r.scrub(before + secret + after)).not.toContain(secret);
      }),
    );
  });
});
