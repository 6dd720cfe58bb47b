#!/usr/bin/env node
// Write an item catalog (CSV) for the Diginetica sample, for the content_sim
// artifact. THE TAGS ARE SYNTHETIC: the Diginetica sample has no item
// metadata, so each item gets tags derived deterministically from
// sha256("diginetica-synthetic-tags:" + item_id). They carry no meaning
// about the real products; they only give content_sim realistic shape
// (a category, sometimes a second one, a brand, a price band).
//
// Usage: node src/catalog-diginetica.mjs [--csv FILE] [--out FILE] [--no-verify]
//   --csv   defaults to tooling/data/diginetica/train-item-views.csv
//   --out   defaults to apps/cli/sample-data/catalog/diginetica.csv
//
// Output: header `item_id,tags,namespace,tags_origin`, one row per distinct
// item id of the sample (numeric order), tags separated by `|`, namespace
// `web` (the converter's surface), tags_origin `synthetic` on every row.
// Same input => byte-identical file.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DIGINETICA_CSV, SURFACE, readDigineticaRows } from './convert-diginetica.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CATALOG_OUT = path.resolve(HERE, '../../../apps/cli/sample-data/catalog/diginetica.csv');
export const CATALOG_HEADER = 'item_id,tags,namespace,tags_origin';

const CATEGORIES = 40;
const BRANDS = 150;
const PRICE_BANDS = ['low', 'mid', 'high'];

/**
 * Synthetic tags of one item: `category-N`, for one item in eight a second
 * `category-M`, `brand-N`, `price-<band>`. Deterministic in the item id.
 * @param {string} itemId
 * @returns {string[]}
 */
export function syntheticTags(itemId) {
  const h = createHash('sha256').update(`diginetica-synthetic-tags:${itemId}`).digest();
  const tags = [`category-${h[0] % CATEGORIES}`];
  if (h[1] % 8 === 0) {
    const second = (h[0] % CATEGORIES + 1 + (h[2] % (CATEGORIES - 1))) % CATEGORIES;
    tags.push(`category-${second}`);
  }
  tags.push(`brand-${((h[3] << 8) | h[4]) % BRANDS}`);
  tags.push(`price-${PRICE_BANDS[h[5] % PRICE_BANDS.length]}`);
  return tags;
}

/**
 * The catalog CSV text for the given item ids (sorted numerically, then as
 * strings for non-numeric ids).
 * @param {Iterable<string>} itemIds
 * @returns {string}
 */
export function catalogCsv(itemIds) {
  const ids = [...new Set(itemIds)].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  const lines = [CATALOG_HEADER];
  for (const id of ids) {
    if (/[",\r\n]/.test(id)) throw new Error(`item id ${JSON.stringify(id)} would need CSV quoting`);
    lines.push(`${id},${syntheticTags(id).join('|')},${SURFACE},synthetic`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes the Diginetica catalog; returns the number of items.
 * @param {{ csvPath?: string, out?: string, verify?: boolean }} [options]
 * @returns {{ items: number, file: string }}
 */
export function writeDigineticaCatalog({ csvPath = DIGINETICA_CSV, out = DEFAULT_CATALOG_OUT, verify = true } = {}) {
  const rows = readDigineticaRows(csvPath, { verify });
  const text = catalogCsv(rows.map((r) => r.item_id));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
  return { items: text.split('\n').length - 2, file: out };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
    options: {
      csv: { type: 'string', default: DIGINETICA_CSV },
      out: { type: 'string', default: DEFAULT_CATALOG_OUT },
      'no-verify': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: catalog-diginetica.mjs [--csv FILE] [--out FILE] [--no-verify]\n');
    process.exit(0);
  }
  try {
    const { items, file } = writeDigineticaCatalog({ csvPath: path.resolve(values.csv), out: path.resolve(values.out), verify: !values['no-verify'] });
    process.stdout.write(`wrote ${items} items (synthetic tags) to ${file}\n`);
  } catch (err) {
    process.stderr.write(`catalog-diginetica: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
