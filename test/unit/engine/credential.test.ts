import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_AUTHORIZATION_LENGTH } from '../../../lambda/constants.ts';
import {
  authorizationFor,
  buildAuthorization,
  credentialForms,
  extractCredential,
  validateAuthorization,
} from '../../../lambda/engine/credential.ts';
import { InvalidSecretValueError } from '../../../lambda/errors.ts';
import type { SecretValue } from '../../../lambda/types/index.ts';

const CANARY = 'CANARY-9f3e1c7a-credential';

function secret(value: string, secretId = 'mcp/github'): SecretValue {
  return {
    secretId,
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`,
    name: secretId,
    versionId: 'v1',
    value,
  };
}

/** The thrown InvalidSecretValueError, so tests can assert on its message. */
function invalid(fn: () => unknown): InvalidSecretValueError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect((error as InvalidSecretValueError).code).toBe('INVALID_SECRET_VALUE');
    return error as InvalidSecretValueError;
  }
  throw new Error('expected InvalidSecretValueError, nothing was thrown');
}

const isForbidden = (char: string): boolean => {
  const unit = char.charCodeAt(0);
  return unit <= 0x1f || unit === 0x7f || unit > 0xff;
};
/** Printable Latin-1 characters: what a header value may carry. */
const allowedChar = fc
  .integer({ min: 0x20, max: 0xff })
  .filter((unit) => unit !== 0x7f)
  .map((unit) => String.fromCharCode(unit));
const forbiddenChar = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((unit) => String.fromCharCode(unit)),
  fc.constant('\u007f'),
  fc.integer({ min: 0x100, max: 0x10ffff }).map((point) => String.fromCodePoint(point)),
);
/** A credential that is valid on its own: allowed characters, not only whitespace. */
const validCredential = fc
  .string({ unit: allowedChar, minLength: 4, maxLength: 200 })
  .filter((value) => value.trim() !== '');

describe('extractCredential', () => {
  it.each([
    ['a', undefined, 'secret mcp/github: the secret value is 1 character long; at least 4 are required'],
    ['abc', undefined, 'secret mcp/github: the secret value is 3 characters long; at least 4 are required'],
    [
      JSON.stringify({ token: 'x1', other: 'a-long-neighbour' }),
      'token',
      'secret mcp/github: JSON field "token" is 2 characters long; at least 4 are required',
    ],
  ])('rejects a credential shorter than 4 characters, which could not be redacted (%j)', (value, jsonKey, message) => {
    const error = invalid(() => extractCredential(secret(value), jsonKey));
    expect(error.code).toBe('INVALID_SECRET_VALUE');
    expect(error.message).toBe(message);
  });

  it('accepts a credential of exactly 4 characters', () => {
    expect(extractCredential(secret('abcd'), undefined)).toBe('abcd');
  });

  it('returns the whole SecretString when there is no jsonKey', () => {
    expect(extractCredential(secret(CANARY), undefined)).toBe(CANARY);
  });

  it('returns the string field named by jsonKey', () => {
    expect(extractCredential(secret(JSON.stringify({ token: CANARY, other: 1 })), 'token')).toBe(CANARY);
  });

  it('names the secret and the key when the field is missing', () => {
    const error = invalid(() => extractCredential(secret(JSON.stringify({ tokn: CANARY })), 'token'));
    expect(error.message).toBe('secret mcp/github: JSON field "token" is missing');
  });

  it('does not take a key from the object prototype', () => {
    const error = invalid(() => extractCredential(secret(JSON.stringify({ token: CANARY })), 'constructor'));
    expect(error.message).toBe('secret mcp/github: JSON field "constructor" is missing');
  });

  it.each([
    [{ token: 42 }, 'number'],
    [{ token: null }, 'null'],
    [{ token: [CANARY] }, 'array'],
    [{ token: { nested: CANARY } }, 'object'],
    [{ token: true }, 'boolean'],
  ])('rejects a non-string field %j', (object, found) => {
    const error = invalid(() => extractCredential(secret(JSON.stringify(object)), 'token'));
    expect(error.message).toBe(`secret mcp/github: JSON field "token" is not a string (found ${found})`);
    expect(error.message).not.toContain(CANARY);
  });

  it.each([
    ['not JSON at all', `${CANARY} plain text`],
    ['truncated JSON', `{"token": "${CANARY}"`],
    ['a JSON string', JSON.stringify(CANARY)],
    ['a JSON array', JSON.stringify([CANARY])],
    ['JSON null', 'null'],
  ])('rejects %s without quoting the parser message or the value', (_label, value) => {
    const error = invalid(() => extractCredential(secret(value), 'token'));
    expect(error.message).toBe('secret mcp/github: secret is not a JSON object (jsonKey "token")');
  });

  it('rejects an empty or whitespace-only credential: a target is never cleared', () => {
    expect(invalid(() => extractCredential(secret(''), undefined)).message).toBe(
      'secret mcp/github: the secret value is empty',
    );
    expect(invalid(() => extractCredential(secret(JSON.stringify({ token: '  ' })), 'token')).message).toBe(
      'secret mcp/github: JSON field "token" is only whitespace',
    );
  });
});

describe('buildAuthorization', () => {
  it('replaces the placeholder with the credential', () => {
    expect(buildAuthorization('Bearer {{secret}}', 'abc')).toBe('Bearer abc');
    expect(buildAuthorization('{{secret}}', 'Token abc')).toBe('Token abc');
    expect(buildAuthorization('Basic {{secret}}; realm=x', 'abc')).toBe('Basic abc; realm=x');
  });

  it.each(['$&', '$1', '$$', "$'", '$`', '$<name>', 'a$&b$1c$$d'])(
    'inserts a credential containing %s literally (no String.replace patterns)',
    (credential) => {
      expect(buildAuthorization('Bearer {{secret}}!', credential)).toBe(`Bearer ${credential}!`);
    },
  );

  it('does not expand a placeholder that appears inside the credential', () => {
    expect(buildAuthorization('Bearer {{secret}}', 'x{{secret}}y')).toBe('Bearer x{{secret}}y');
  });

  it('rejects a template without exactly one placeholder, without naming the credential', () => {
    expect(invalid(() => buildAuthorization('Bearer token', CANARY)).message).toBe(
      'header template must contain {{secret}} exactly once (found 0)',
    );
    expect(invalid(() => buildAuthorization('{{secret}}:{{secret}}', CANARY)).message).toBe(
      'header template must contain {{secret}} exactly once (found 2)',
    );
  });
});

describe('validateAuthorization', () => {
  it('accepts a header value of printable Latin-1', () => {
    expect(() => validateAuthorization('Bearer abc.DEF-123_~+/=')).not.toThrow();
    expect(() => validateAuthorization('Basic caf\u00e9 \u00ff')).not.toThrow();
  });

  it('rejects an empty value', () => {
    expect(invalid(() => validateAuthorization('')).message).toBe('Authorization value is empty');
  });

  it('rejects a value that is only whitespace', () => {
    expect(invalid(() => validateAuthorization('   ')).message).toBe(
      'Authorization value is only whitespace (3 characters)',
    );
    expect(invalid(() => validateAuthorization('\u00a0')).message).toBe(
      'Authorization value is only whitespace (1 characters)',
    );
  });

  it.each([
    ['LF', '\n', 'U+000A'],
    ['CR', '\r', 'U+000D'],
    ['NUL', '\u0000', 'U+0000'],
    ['TAB', '\t', 'U+0009'],
    ['US', '\u001f', 'U+001F'],
    ['DEL', '\u007f', 'U+007F'],
  ])('rejects %s and gives its code point and position', (_name, char, code) => {
    const error = invalid(() => validateAuthorization(`Bearer ${CANARY}${char}x`));
    const position = `Bearer ${CANARY}`.length;
    expect(error.message).toBe(`Authorization value contains a control character (${code}) at position ${position}`);
  });

  it('reports the first forbidden character', () => {
    expect(invalid(() => validateAuthorization('ab\r\n')).message).toBe(
      'Authorization value contains a control character (U+000D) at position 2',
    );
  });

  it.each([
    ['U+0100', '\u0100'],
    ['U+2019', '\u2019'],
    ['U+FEFF', '\ufeff'],
    ['U+1F511', '\u{1f511}'],
  ])('rejects %s, which cannot travel in an HTTP header', (code, char) => {
    expect(invalid(() => validateAuthorization(`${char}Bearer abc`)).message).toBe(
      `Authorization value contains a character above U+00FF (${code}) at position 0; HTTP header values are Latin-1`,
    );
  });

  it('accepts exactly MAX_AUTHORIZATION_LENGTH characters and rejects one more, naming the length', () => {
    expect(MAX_AUTHORIZATION_LENGTH).toBe(64_000);
    expect(() => validateAuthorization('a'.repeat(MAX_AUTHORIZATION_LENGTH))).not.toThrow();
    expect(invalid(() => validateAuthorization('a'.repeat(MAX_AUTHORIZATION_LENGTH + 1))).message).toBe(
      'Authorization value is 64001 characters long; at most 64000 are allowed',
    );
  });
});

describe('authorizationFor', () => {
  it('extracts, builds and validates', () => {
    const value = authorizationFor(secret(JSON.stringify({ token: 'abcd' })), {
      jsonKey: 'token',
      headerTemplate: 'Bearer {{secret}}',
    });
    expect(value).toBe('Bearer abcd');
    expect(authorizationFor(secret('Token xyz'), { headerTemplate: '{{secret}}' })).toBe('Token xyz');
  });

  it('accepts a resolved target whose jsonKey is undefined', () => {
    const target: { jsonKey: string | undefined; headerTemplate: string } = {
      jsonKey: undefined,
      headerTemplate: 'Bearer {{secret}}',
    };
    expect(authorizationFor(secret('abcd'), target)).toBe('Bearer abcd');
  });

  it('names the secret when the built value is invalid, never the value', () => {
    const error = invalid(() => authorizationFor(secret(`${CANARY}\n`), { headerTemplate: 'Bearer {{secret}}' }));
    expect(error.message).toBe(
      `secret mcp/github: Authorization value contains a control character (U+000A) at position ${7 + CANARY.length}`,
    );
  });

  it('names the secret when the template is unusable', () => {
    const error = invalid(() => authorizationFor(secret(CANARY), { headerTemplate: 'Bearer' }));
    expect(error.message).toBe('secret mcp/github: header template must contain {{secret}} exactly once (found 0)');
  });

  it('rejects a credential that makes the header too long', () => {
    const credential = 'a'.repeat(MAX_AUTHORIZATION_LENGTH - 6);
    expect(authorizationFor(secret(credential), { headerTemplate: 'Basic {{secret}}' })).toHaveLength(64_000);
    const error = invalid(() => authorizationFor(secret(credential), { headerTemplate: 'Bearer {{secret}}' }));
    expect(error.message).toBe(
      'secret mcp/github: Authorization value is 64001 characters long; at most 64000 are allowed',
    );
  });
});

describe('properties', () => {
  const templateAffix = fc.string({ unit: allowedChar, maxLength: 20 });

  it('a clean credential builds to prefix + credential + suffix and validates', () => {
    fc.assert(
      fc.property(templateAffix, validCredential, templateAffix, (prefix, credential, suffix) => {
        const built = buildAuthorization(`${prefix}{{secret}}${suffix}`, credential);
        expect(built).toBe(prefix + credential + suffix);
        expect(() => validateAuthorization(built)).not.toThrow();
        expect(authorizationFor(secret(credential), { headerTemplate: `${prefix}{{secret}}${suffix}` })).toBe(built);
      }),
    );
  });

  it('a credential with a forbidden character is rejected, at its position, without leaking the credential', () => {
    fc.assert(
      fc.property(
        // Not only whitespace, so the credential is not rejected as blank before validation looks at positions.
        fc.string({ unit: allowedChar, minLength: 4, maxLength: 40 }).filter((value) => value.trim() !== ''),
        forbiddenChar,
        fc.string({ unit: allowedChar, minLength: 4, maxLength: 40 }),
        (before, bad, after) => {
          const credential = before + bad + after;
          const error = invalid(() => authorizationFor(secret(credential), { headerTemplate: 'Bearer {{secret}}' }));
          expect(error.message).toContain(`at position ${7 + before.length}`);
          expect(error.message).not.toContain(credential);
        },
      ),
    );
  });

  it('any string containing a forbidden character fails validation', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }), (value) => {
        const hasForbidden = [...value].some(isForbidden);
        if (hasForbidden) expect(() => validateAuthorization(value)).toThrow(InvalidSecretValueError);
      }),
    );
  });

  it('a JSON credential never appears in any extraction error', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 60 }),
        fc.oneof(
          fc.constant('missing'),
          fc.constant('number'),
          fc.constant('truncated'),
          fc.constant('array'),
          fc.constant('control'),
        ),
        (credential, shape) => {
          const value = {
            missing: JSON.stringify({ other: credential }),
            number: JSON.stringify({ token: 1, other: credential }),
            truncated: JSON.stringify({ token: credential }).slice(0, -1),
            array: JSON.stringify([credential]),
            control: JSON.stringify({ token: `${credential}\n` }),
          }[shape];
          try {
            authorizationFor(secret(value), { jsonKey: 'token', headerTemplate: 'Bearer {{secret}}' });
          } catch (error) {
            expect((error as Error).message).not.toContain(credential);
            return;
          }
          throw new Error(`shape ${shape} was accepted`);
        },
      ),
    );
  });

  it('lengths around the limit: valid up to 64000, rejected above', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_AUTHORIZATION_LENGTH - 50, max: MAX_AUTHORIZATION_LENGTH + 50 }), (length) => {
        const value = 'x'.repeat(length);
        if (length <= MAX_AUTHORIZATION_LENGTH) expect(() => validateAuthorization(value)).not.toThrow();
        else expect(invalid(() => validateAuthorization(value)).message).toContain(`is ${length} characters long`);
      }),
      { numRuns: 40 },
    );
  });
});

describe('credentialForms', () => {
  it('gives the whole secret string, the bare jsonKey credential and the Authorization value', () => {
    const value = JSON.stringify({ token: CANARY, note: 'n' });
    expect(credentialForms(secret(value), { jsonKey: 'token', headerTemplate: 'Bearer {{secret}}' })).toEqual([
      value,
      CANARY,
      `Bearer ${CANARY}`,
    ]);
  });

  it('gives at least the whole secret string when no credential can be extracted', () => {
    expect(credentialForms(secret('not json'), { jsonKey: 'token', headerTemplate: 'Bearer {{secret}}' })).toEqual([
      'not json',
    ]);
  });
});
