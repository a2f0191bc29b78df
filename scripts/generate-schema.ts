/** `npm run schema`: regenerate rotation.schema.json (committed; a unit test fails when it is stale). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText } from '../lambda/config/json-schema.ts';

const outfile = fileURLToPath(new URL('../rotation.schema.json', import.meta.url));
writeFileSync(outfile, configJsonSchemaText());
console.log(`wrote ${outfile}`);
