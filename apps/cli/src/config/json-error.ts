/**
 * Where a JSON text first breaks the grammar (RFC 8259), and a description
 * that never quotes the text: a config file can hold secrets (S3 keys), and
 * V8's own message for some errors echoes the text around the error
 * ("Unexpected token 's', "{"secret": s…" is not valid JSON"). Iterative, so
 * deeply nested input cannot overflow the stack.
 */
export interface JsonSyntaxProblem {
  /** 1-based line and column (in UTF-16 units) of the offending character. */
  readonly line: number;
  readonly column: number;
  readonly problem: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** The first syntax error of `text`, or `undefined` when it is valid JSON. */
export function locateJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const n = text.length;
  const fail = (at: number, problem: string): JsonSyntaxProblem => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < at && k < n; k++) {
      if (text.charCodeAt(k) === 0x0a) {
        line++;
        lineStart = k + 1;
      }
    }
    return { line, column: at - lineStart + 1, problem };
  };
  const skip = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const unexpected = (what: string) => (i >= n ? fail(i, `unexpected end of file, expected ${what}`) : fail(i, `unexpected character, expected ${what}`));

  const string = (): JsonSyntaxProblem | undefined => {
    // At the opening quote.
    i++;
    for (;;) {
      if (i >= n) return fail(i, 'unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return fail(i, 'control character in a string (escape it)');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail(i, 'invalid \\u escape in a string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else return fail(i, 'invalid escape in a string');
      } else i++;
    }
  };
  const number = (): JsonSyntaxProblem | undefined => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') return fail(i, 'invalid number');
    i += m[0].length;
    return undefined;
  };

  // Each open container: '{' or '['; `expect` says what may come next.
  const stack: number[] = [];
  type Expect = 'value' | 'value-or-close' | 'key-or-close' | 'key' | 'colon' | 'comma-or-close';
  let expect: Expect = 'value';
  for (;;) {
    skip();
    const c = i < n ? text.charCodeAt(i) : -1;
    if (expect === 'value' || expect === 'value-or-close') {
      if (expect === 'value-or-close' && c === 0x5d) {
        stack.pop();
        i++;
        expect = 'comma-or-close';
      } else if (c === 0x7b) {
        stack.push(0x7b);
        i++;
        expect = 'key-or-close';
        continue;
      } else if (c === 0x5b) {
        stack.push(0x5b);
        i++;
        expect = 'value-or-close';
        continue;
      } else if (c === 0x22) {
        const p = string();
        if (p) return p;
        expect = 'comma-or-close';
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        const p = number();
        if (p) return p;
        expect = 'comma-or-close';
      } else {
        const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
        if (!word) return unexpected('a value');
        i += word.length;
        expect = 'comma-or-close';
      }
    } else if (expect === 'key-or-close' || expect === 'key') {
      if (expect === 'key-or-close' && c === 0x7d) {
        stack.pop();
        i++;
        expect = 'comma-or-close';
      } else if (c === 0x22) {
        const p = string();
        if (p) return p;
        expect = 'colon';
        continue;
      } else return unexpected('a double-quoted property name');
    } else if (expect === 'colon') {
      if (c !== 0x3a) return unexpected("':' after a property name");
      i++;
      expect = 'value';
      continue;
    } else {
      const top = stack.at(-1);
      if (top === undefined) {
        if (c !== -1) return fail(i, 'unexpected character after the end of the JSON value');
        return undefined;
      }
      if (c === 0x2c) {
        i++;
        expect = top === 0x7b ? 'key' : 'value';
        continue;
      }
      const close = top === 0x7b ? 0x7d : 0x5d;
      if (c !== close) return unexpected(top === 0x7b ? "',' or '}'" : "',' or ']'");
      stack.pop();
      i++;
      expect = 'comma-or-close';
      continue;
    }
    // A value or a closed container just ended.
    if (stack.length === 0) {
      skip();
      if (i < n) return fail(i, 'unexpected character after the end of the JSON value');
      return undefined;
    }
  }
}
