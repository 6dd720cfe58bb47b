import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecsysError } from '../errors.js';
import type { Sha256Factory } from '../ports.js';
import { loadCatalog, normalizeTags, parseCatalog, splitTagCell, type Catalog, type CatalogFormat } from './catalog.js';

const enc = new TextEncoder();

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield enc.encode(text);
}

const parse = (text: string, format: CatalogFormat = 'csv'): Promise<Catalog> => parseCatalog(once(text), format, 'test-catalog');

const brief = (c: Catalog) => c.items.map((i) => [i.item_id, [...i.tags], i.namespace ?? null]);

describe('normalizeTags / splitTagCell', () => {
  it.each([
    [['Red', ' red ', 'RED'], ['red']],
    [['  ', '', 'a'], ['a']],
    [['b', 'A', 'b', 'a'], ['b', 'a']],
    [['Summer Sale'], ['summer sale']],
  ])('normalizeTags(%j) = %j', (input, expected) => {
    expect(normalizeTags(input)).toEqual(expected);
  });

  it('splits on | ; and ,', () => {
    expect(splitTagCell('a|b;c,d')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitTagCell('')).toEqual(['']);
  });
});

describe('parseCatalog: CSV', () => {
  it('reads quoted cells, all three tag separators and ignores other columns', async () => {
    const c = await parse('item_id,title,tags\nA,"Alpha, the first","Red|Sale; red"\nB,"B ""two""","blue, summer"\n');
    expect(brief(c)).toEqual([
      ['A', ['red', 'sale'], null],
      ['B', ['blue', 'summer'], null],
    ]);
    expect(c.rows).toBe(2);
    expect(c.malformed).toBe(0);
  });

  it.each([
    ['itemid,tag_list', 'x,a|b'],
    ['id,tags', 'x,a|b'],
    [' Item_ID , TAGS ', 'x,a|b'],
    ['\uFEFFitem_id,tags', 'x,a|b'],
  ])('accepts header %j', async (header, row) => {
    const c = await parse(`${header}\n${row}\n`);
    expect(brief(c)).toEqual([['x', ['a', 'b'], null]]);
  });

  it('prefers item_id over its aliases when several are present', async () => {
    const c = await parse('id,item_id,tags\n7,x,a\n');
    expect(brief(c)).toEqual([['x', ['a'], null]]);
  });

  it('trims ids and namespaces; an empty namespace means none', async () => {
    const c = await parse('item_id,tags,namespace\n  A ,t, home \nB,t,  \n');
    expect(brief(c)).toEqual([
      ['A', ['t'], 'home'],
      ['B', ['t'], null],
    ]);
  });

  it('keeps rows whose tags normalise to nothing (content_sim skips them, they are not malformed)', async () => {
    const c = await parse('item_id,tags\nA," | ;"\nB,\n');
    expect(brief(c)).toEqual([
      ['A', [], null],
      ['B', [], null],
    ]);
    expect(c.malformed).toBe(0);
  });

  it('reports malformed rows with their line numbers and reasons, and keeps the rest', async () => {
    const text = [
      'item_id,tags,namespace', // 1
      'A,a,', // 2
      'B,b', // 3 field_count
      ',c,', // 4 missing_item_id
      'C,"c""x",', // 5 ok: tag c"x
      'D,d"x,', // 6 bad_quoting
      '', // 7 blank (not a row)
      'A,dup,', // 8 duplicate_item
      'A,other,web', // 9 ok: same id, other namespace
      'E,"multi', // 10 unterminated quote (swallows the rest)
      'line",',
      'F,f,',
      'G,"open', // 13 starts a quote never closed
    ].join('\n');
    const c = await parse(text);
    expect(brief(c)).toEqual([
      ['A', ['a'], null],
      ['C', ['c"x'], null],
      ['A', ['other'], 'web'],
      ['E', ['multi\nline'], null],
      ['F', ['f'], null],
    ]);
    expect(c.problems.map((p) => [p.line, p.reason])).toEqual([
      [3, 'field_count'],
      [4, 'missing_item_id'],
      [6, 'bad_quoting'],
      [8, 'duplicate_item'],
      [13, 'bad_quoting'],
    ]);
    expect(c.problems[3]!.detail).toContain('line 2');
    expect(c.rows).toBe(10);
    expect(c.malformed).toBe(5);
    expect(c.malformed_by_reason).toEqual({ field_count: 1, missing_item_id: 1, bad_quoting: 2, duplicate_item: 1 });
  });

  it.each([
    ['', 'empty'],
    ['\n\n', 'empty'],
    ['name,tags\nx,a\n', 'no item id column'],
    ['item_id,labels\nx,a\n', 'no tags column'],
    ['item_id,tags,tags\nx,a,b\n', 'appears more than once'],
    ['item_id,"ta"gs"\n', 'unreadable'],
  ])('rejects the catalog when the header is unusable: %j', async (text, message) => {
    const error = await parse(text).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error)).toBe(true);
    expect((error as RecsysError).kind).toBe('validation');
    expect((error as RecsysError).context.gate).toBe('catalog_header');
    expect((error as Error).message).toContain(message);
  });
});

describe('parseCatalog: JSONL', () => {
  it('reads objects, ignoring other keys; null namespace means none', async () => {
    const text = [
      '\uFEFF{"item_id":"A","tags":["Red"," sale ","red"],"namespace":"home","title":"x"}',
      '{"item_id":" B ","tags":[],"namespace":null}',
      '',
      '{"item_id":"C","tags":["x"]}',
    ].join('\n');
    const c = await parse(text, 'jsonl');
    expect(brief(c)).toEqual([
      ['A', ['red', 'sale'], 'home'],
      ['B', [], null],
      ['C', ['x'], null],
    ]);
    expect(c.rows).toBe(3);
  });

  it('reports malformed lines with their line numbers', async () => {
    const text = [
      '{"item_id":"A","tags":["a"]}', // 1
      '{"item_id":"A","tags":["b"]}', // 2 duplicate
      'not json', // 3
      '[1,2]', // 4
      '{"tags":["a"]}', // 5 missing id
      '{"item_id":7,"tags":["a"]}', // 6 bad_field
      '{"item_id":"B","tags":"a|b"}', // 7 bad_field
      '{"item_id":"C","tags":["a",1]}', // 8 bad_field
      '{"item_id":"D","tags":["a"],"namespace":3}', // 9 bad_field
      '{"item_id":"E","tags":["e"]}', // 10
    ].join('\n');
    const c = await parse(text, 'jsonl');
    expect(brief(c)).toEqual([
      ['A', ['a'], null],
      ['E', ['e'], null],
    ]);
    expect(c.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, 'duplicate_item'],
      [3, 'invalid_json'],
      [4, 'not_object'],
      [5, 'missing_item_id'],
      [6, 'bad_field'],
      [7, 'bad_field'],
      [8, 'bad_field'],
      [9, 'bad_field'],
    ]);
    expect(c.rows).toBe(10);
  });

  it('reports a deeply nested item_id or namespace as a malformed line instead of failing', async () => {
    const nested = '['.repeat(200_000) + ']'.repeat(200_000);
    const text = [`{"item_id":${nested},"tags":["a"]}`, `{"item_id":"B","tags":["a"],"namespace":${nested}}`, '{"item_id":"C","tags":["c"]}'].join('\n');
    const c = await parse(text, 'jsonl');
    expect(brief(c)).toEqual([['C', ['c'], null]]);
    expect(c.problems.map((p) => [p.line, p.reason, p.detail])).toEqual([
      [1, 'bad_field', 'item_id must be a string, got an array of 1'],
      [2, 'bad_field', 'namespace must be a string, got an array of 1'],
    ]);
  });
});

describe('parseCatalog: unpaired surrogates', () => {
  it('become U+FFFD in JSONL ids, tags and namespaces (as a UTF-8 reader would see them)', async () => {
    const c = await parse('{"item_id":"a\\ud800","tags":["\\udc00x"],"namespace":"n\\ud800"}\n', 'jsonl');
    expect(brief(c)).toEqual([['a\uFFFD', ['\uFFFDx'], 'n\uFFFD']]);
  });
});

describe('loadCatalog', () => {
  const sha256: Sha256Factory = () => {
    const h = createHash('sha256');
    return { update: (d) => void h.update(d), digest: () => h.digest('hex') };
  };

  it('hashes the bytes it parses', async () => {
    const text = 'item_id,tags\nA,a\n';
    const c = await loadCatalog({ location: 'mem', format: 'csv', open: async () => once(text) }, sha256);
    expect(c.sha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(brief(c)).toEqual([['A', ['a'], null]]);
  });
});
