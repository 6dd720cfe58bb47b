// Writes schemas/<contract>.schema.json from the built package. Run after
// `pnpm build`; the contracts test suite fails when the committed files differ.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildJsonSchemas } from '../dist/index.js';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
await mkdir(dir, { recursive: true });
for (const [name, schema] of Object.entries(buildJsonSchemas())) {
  await writeFile(`${dir}${name}.schema.json`, JSON.stringify(schema, null, 2) + '\n');
}
console.log(`wrote ${Object.keys(buildJsonSchemas()).length} schemas to ${dir}`);
