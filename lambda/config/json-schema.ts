/**
 * rotation.schema.json, generated from the zod schema so editors validate exactly what the Lambda accepts (the
 * cross-field rules, loopback http and target uniqueness, are enforced only by parseConfig). Kept out of
 * the schema module so the handler bundle never carries the JSON Schema generator.
 */
import * as z from 'zod/mini';
import { rotationConfigSchema } from './schema.ts';

/** The JSON Schema (draft 2020-12) of rotation.config.json, as the file is written (before resolution). */
export function configJsonSchema(): object {
  return z.toJSONSchema(rotationConfigSchema, { io: 'input', target: 'draft-2020-12' });
}

/** The exact text of the committed rotation.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
