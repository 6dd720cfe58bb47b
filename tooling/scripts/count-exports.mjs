// Counts the runtime names (functions, classes, constants) that built
// entry points export, as a consumer sees them (`Object.keys` of the
// module), so a package's public surface can be measured:
//   node tooling/scripts/count-exports.mjs packages/core/dist/index.js packages/core/dist/internal.js
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node tooling/scripts/count-exports.mjs <built entry .js>...');
  process.exit(2);
}
for (const file of files) {
  const names = Object.keys(await import(pathToFileURL(resolve(file)).href));
  console.log(`${file}: ${names.length} runtime names`);
}
