import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';

/** Why a CSV record could not be read. @since 0.1.0 */
export type CsvErrorReason = 'bad_quoting' | 'invalid_utf8' | 'row_too_long';

/** One CSV record, or the reason it is unreadable; `line` is the physical line it starts on. @since 0.1.0 */
export type CsvRecord =
  | { readonly kind: 'record'; readonly line: number; readonly fields: string[] }
  | { readonly kind: 'error'; readonly line: number; readonly reason: CsvErrorReason; readonly detail: string };

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

const State = {
  FieldStart: 0,
  Unquoted: 1,
  Quoted: 2,
  /** Inside a quoted field, right after a `"`: either an escaped quote or the closing one. */
  QuoteSeen: 3,
  /** After a broken record: everything up to the next line feed is dropped. */
  Skip: 4,
} as const;
type State = (typeof State)[keyof typeof State];

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Streams RFC 4180 records out of CSV bytes: comma-separated fields,
 * fields optionally enclosed in `"` (then holding commas, line breaks and
 * `""` for a quote), records ended by CRLF or LF. Works on bytes (every
 * syntax character is ASCII, so UTF-8 never confuses it) and holds one
 * record at a time, at most `maxRecordBytes`.
 *
 * A broken record (a quote inside an unquoted field, text after a closing
 * quote, an over-long record) is reported and reading resumes at the next
 * line, so one bad row costs one row. An unterminated quoted field at the
 * end of input is reported the same way. Records whose fields are all
 * blank (empty lines) are skipped. A UTF-8 BOM is not removed here.
 * @since 0.1.0
 */
export async function* readCsvRecords(chunks: AsyncIterable<Uint8Array>, maxRecordBytes = MAX_LINE_BYTES): AsyncGenerator<CsvRecord> {
  let state: State = State.FieldStart;
  let line = 1;
  let recordLine = 1;
  let recordBytes = 0;
  let blank = true;
  let crAfterQuote = false;
  let field = new Uint8Array(256);
  let fieldLength = 0;
  let fields: string[] = [];
  let utf8Error = false;
  const out: CsvRecord[] = [];

  const append = (b: number) => {
    if (fieldLength === field.length) {
      const next = new Uint8Array(field.length * 2);
      next.set(field);
      field = next;
    }
    field[fieldLength++] = b;
  };
  const endField = (stripCr: boolean) => {
    if (stripCr && fieldLength > 0 && field[fieldLength - 1] === CR) fieldLength--;
    try {
      fields.push(strict.decode(field.subarray(0, fieldLength)));
    } catch {
      utf8Error = true;
      fields.push('');
    }
    fieldLength = 0;
  };
  const reset = () => {
    state = State.FieldStart;
    recordLine = line;
    recordBytes = 0;
    blank = true;
    crAfterQuote = false;
    fieldLength = 0;
    fields = [];
    utf8Error = false;
  };
  const endRecord = () => {
    if (utf8Error) out.push({ kind: 'error', line: recordLine, reason: 'invalid_utf8', detail: 'row is not valid UTF-8' });
    else if (!blank) out.push({ kind: 'record', line: recordLine, fields });
  };
  /** Reports the current record as broken; the caller switches to skipping. */
  const fail = (reason: CsvErrorReason, detail: string): State => {
    out.push({ kind: 'error', line: recordLine, reason, detail });
    return State.Skip;
  };

  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (state === State.Skip) {
        if (b === LF) {
          line++;
          reset();
        }
        continue;
      }
      if (++recordBytes > maxRecordBytes) {
        state = fail('row_too_long', `row is longer than ${maxRecordBytes} bytes${state === State.Quoted ? ' (unterminated quoted field?)' : ''}`);
        if (b === LF) {
          line++;
          reset();
        }
        continue;
      }
      if (state === State.FieldStart && b === QUOTE) {
        state = State.Quoted;
        blank = false;
        continue;
      }
      switch (state) {
        case State.FieldStart:
        case State.Unquoted:
          if (b === COMMA) {
            endField(false);
            blank = false;
            state = State.FieldStart;
          } else if (b === LF) {
            endField(true);
            endRecord();
            line++;
            reset();
          } else if (b === QUOTE) {
            state = fail('bad_quoting', 'a quote inside an unquoted field (enclose the field in quotes and double the quote)');
          } else {
            append(b);
            if (b !== SPACE && b !== TAB && b !== CR) blank = false;
            state = State.Unquoted;
          }
          break;
        case State.Quoted:
          if (b === QUOTE) state = State.QuoteSeen;
          else {
            append(b);
            if (b === LF) line++;
          }
          break;
        case State.QuoteSeen:
          if (crAfterQuote) {
            if (b === LF) {
              endField(false);
              endRecord();
              line++;
              reset();
            } else state = fail('bad_quoting', 'text after a closing quote');
          } else if (b === QUOTE) {
            append(QUOTE);
            state = State.Quoted;
          } else if (b === COMMA) {
            endField(false);
            state = State.FieldStart;
          } else if (b === LF) {
            endField(false);
            endRecord();
            line++;
            reset();
          } else if (b === CR) crAfterQuote = true;
          else state = fail('bad_quoting', 'text after a closing quote');
          break;
      }
    }
    yield* out;
    out.length = 0;
  }
  switch (state) {
    case State.Skip:
      break;
    case State.Quoted:
      out.push({ kind: 'error', line: recordLine, reason: 'bad_quoting', detail: 'quoted field is not closed before the end of the file' });
      break;
    case State.QuoteSeen:
      endField(false);
      endRecord();
      break;
    default:
      if (fields.length > 0 || fieldLength > 0) {
        endField(true);
        endRecord();
      }
  }
  yield* out;
}
