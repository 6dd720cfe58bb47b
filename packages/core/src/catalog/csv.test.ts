import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readCsvRecords, type CsvRecord } from './csv.js';

const enc = new TextEncoder();

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function records(text: string | Uint8Array, chunkSize = 1 << 16, max?: number): Promise<CsvRecord[]> {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  const out: CsvRecord[] = [];
  for await (const r of readCsvRecords(chunked(bytes, chunkSize), max)) out.push(r);
  return out;
}

const rec = (line: number, ...fields: string[]) => ({ kind: 'record', line, fields });

describe('readCsvRecords (RFC 4180)', () => {
  it.each([
    ['plain LF', 'a,b\nc,d\n', [rec(1, 'a', 'b'), rec(2, 'c', 'd')]],
    ['CRLF and no final newline', 'a,b\r\nc,d', [rec(1, 'a', 'b'), rec(2, 'c', 'd')]],
    ['empty fields', ',x,\n', [rec(1, '', 'x', '')]],
    ['quoted comma', '"a,b",c\n', [rec(1, 'a,b', 'c')]],
    ['doubled quote', '"say ""hi""",x\n', [rec(1, 'say "hi"', 'x')]],
    ['quoted empty field', '"",x\n', [rec(1, '', 'x')]],
    ['quoted line break keeps the start line', 'h\n"one\ntwo",x\nnext\n', [rec(1, 'h'), rec(2, 'one\ntwo', 'x'), rec(4, 'next')]],
    ['quoted CRLF kept verbatim', '"a\r\nb"\r\n', [rec(1, 'a\r\nb')]],
    ['blank lines skipped, line numbers kept', 'a\n\n  \r\nb\n', [rec(1, 'a'), rec(4, 'b')]],
    ['unicode', 'é,"😀|ü"\n', [rec(1, 'é', '😀|ü')]],
  ])('%s', async (_name, text, expected) => {
    expect(await records(text)).toEqual(expected);
  });

  it('reports a quote inside an unquoted field and resumes on the next line', async () => {
    expect(await records('a"b,c\nd,e\n')).toEqual([
      { kind: 'error', line: 1, reason: 'bad_quoting', detail: expect.stringContaining('unquoted') },
      rec(2, 'd', 'e'),
    ]);
  });

  it('reports text after a closing quote', async () => {
    const out = await records('"a"b,c\n"x" ,y\nok\n');
    expect(out.map((r) => [r.kind, r.line])).toEqual([
      ['error', 1],
      ['error', 2],
      ['record', 3],
    ]);
    expect(out[0]).toMatchObject({ reason: 'bad_quoting' });
  });

  it('reports an unterminated quoted field at the end with its start line', async () => {
    expect(await records('a\n"open,\nmore\n')).toEqual([rec(1, 'a'), { kind: 'error', line: 2, reason: 'bad_quoting', detail: expect.stringContaining('not closed') }]);
  });

  it('reports invalid UTF-8 per record without losing the next one', async () => {
    const bytes = new Uint8Array([...enc.encode('a,'), 0xff, 0xfe, ...enc.encode('\nb,c\n')]);
    expect(await records(bytes)).toEqual([{ kind: 'error', line: 1, reason: 'invalid_utf8', detail: expect.any(String) }, rec(2, 'b', 'c')]);
  });

  it('caps a record at maxRecordBytes and resynchronises on the next line', async () => {
    const out = await records(`short\n${'x'.repeat(50)}\nafter\n`, 7, 20);
    expect(out).toEqual([rec(1, 'short'), { kind: 'error', line: 2, reason: 'row_too_long', detail: expect.any(String) }, rec(3, 'after')]);
  });

  it('gives the same records whatever the chunk boundaries', async () => {
    const text = 'id,"t,a""g"\r\n"x\ny",é😀\n\n"last"';
    const whole = await records(text);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 9 }), async (size) => {
        expect(await records(text, size)).toEqual(whole);
      }),
    );
  });

  it('round-trips any table written with RFC 4180 quoting', async () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', ',', '"', '\n', '\r\n', ' ', 'é', '😀', '|') });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (table) => {
        const quote = (c: string) => `"${c.replaceAll('"', '""')}"`;
        const text = table.map((row) => row.map(quote).join(',')).join('\r\n') + '\r\n';
        const out = await records(text, 5);
        expect(out.map((r) => (r.kind === 'record' ? r.fields : r))).toEqual(table);
      }),
    );
  });
});
