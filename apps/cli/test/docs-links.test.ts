// The docs link check (issue 19 item 4), over README.md and docs/**/*.md:
// - every relative link (inline, reference definition, <a href>, image)
//   resolves to a file or folder inside the repository, and every #anchor
//   to a heading of the target file (GitHub's heading ids) or an explicit
//   <a id>/<a name>;
// - every `--flag` that a command line of `recsys-pipelines <command>`
//   mentions (in a code block or an inline code span) is listed by that
//   command's --help. A block or line that shows a wrong flag on purpose is
//   preceded by `<!-- docs-check: allow-unknown-flags -->`.
// Failures name file:line and the link or flag, all at once.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli } from './helpers.js';
import { REPO, markdownFiles } from './doc-blocks.js';

interface Line {
  readonly n: number;
  readonly text: string;
}

interface Parsed {
  /** Lines outside fenced code blocks, inline code blanked out. */
  readonly prose: Line[];
  /** Fenced code blocks with their info string and first line number. */
  readonly blocks: { readonly lang: string; readonly line: number; readonly lines: Line[]; readonly allowUnknownFlags: boolean }[];
  /** Inline code spans with their line. */
  readonly spans: { readonly line: number; readonly code: string; readonly allowUnknownFlags: boolean }[];
  /** Headings (ATX) in order. */
  readonly headings: string[];
  /** Explicit anchors: <a id="x"> / <a name="x">. */
  readonly explicitAnchors: string[];
}

const ALLOW = '<!-- docs-check: allow-unknown-flags -->';
const INLINE_CODE = /(`+)([\s\S]*?[^`])\1(?!`)/g;

function parse(markdown: string): Parsed {
  const prose: Line[] = [];
  const blocks: Parsed['blocks'] = [];
  const spans: Parsed['spans'] = [];
  const headings: string[] = [];
  const explicitAnchors: string[] = [];
  const lines = markdown.split('\n');
  let allowNext = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const fence = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/.exec(raw);
    if (fence) {
      const marker = fence[1]!;
      const body: Line[] = [];
      let j = i + 1;
      for (; j < lines.length && !new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`).test(lines[j]!); j++) body.push({ n: j + 1, text: lines[j]! });
      blocks.push({ lang: fence[2]!.toLowerCase(), line: i + 1, lines: body, allowUnknownFlags: allowNext });
      allowNext = false;
      i = j;
      continue;
    }
    if (raw.trim() === ALLOW) {
      allowNext = true;
      continue;
    }
    for (const m of raw.matchAll(INLINE_CODE)) spans.push({ line: i + 1, code: m[2]!.trim(), allowUnknownFlags: allowNext });
    const text = raw.replace(INLINE_CODE, (m) => ' '.repeat(m.length));
    prose.push({ n: i + 1, text });
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (heading) headings.push(heading[1]!);
    for (const a of raw.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) explicitAnchors.push(a[1]!);
    if (raw.trim() !== '') allowNext = false;
  }
  return { prose, blocks, spans, headings, explicitAnchors };
}

/**
 * GitHub's heading id (github-slugger): the heading's text as rendered
 * (inline code, links and emphasis reduced to their text), lower-cased,
 * punctuation removed except `-` and `_`, each space turned into `-`;
 * repeats get `-1`, `-2`, ….
 */
export function githubSlugs(headings: readonly string[]): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const heading of headings) {
    const text = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/`+/g, '')
      .replace(/(\*\*|__|\*|~~)/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

const parsedCache = new Map<string, Parsed>();
function parsedFile(abs: string): Parsed {
  let p = parsedCache.get(abs);
  if (!p) {
    p = parse(readFileSync(abs, 'utf8'));
    parsedCache.set(abs, p);
  }
  return p;
}

/** Every link target of a file with its line: inline links and images, reference definitions, <a href>. */
function linkTargets(parsed: Parsed): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const { n, text } of parsed.prose) {
    for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) out.push({ line: n, target: m[1]!.replace(/^<|>$/g, '') });
    const def = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(text);
    if (def) out.push({ line: n, target: def[1]!.replace(/^<|>$/g, '') });
    for (const m of text.matchAll(/<a\s+(?:[^>]*\s)?href="([^"]+)"/g)) out.push({ line: n, target: m[1]! });
  }
  return out;
}

/** Why a relative link does not resolve, or undefined when it does. */
function checkLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined; // absolute URL, mailto:, …
  const hash = target.indexOf('#');
  const pathPart = decodeURI(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const from = join(REPO, file);
  const abs = pathPart === '' ? from : pathPart.startsWith('/') ? join(REPO, pathPart) : resolve(dirname(from), pathPart);
  const rel = relative(REPO, abs);
  if (rel.startsWith('..') || rel.split(sep)[0] === '..') return `points outside the repository (${abs})`;
  if (!existsSync(abs)) return `no such file or folder: ${rel}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!statSync(abs).isFile() || !abs.endsWith('.md')) return `anchor #${anchor} on ${rel}, which is not a markdown file`;
  const target_ = parsedFile(abs);
  const slugs = githubSlugs(target_.headings);
  if (slugs.has(anchor) || target_.explicitAnchors.includes(anchor)) return undefined;
  const close = [...slugs].filter((s) => s.includes(anchor) || anchor.includes(s)).slice(0, 3);
  return `no heading #${anchor} in ${rel}${close.length > 0 ? ` (headings like: ${close.map((s) => `#${s}`).join(', ')})` : ''}`;
}

// ---------------------------------------------------------------------------
// CLI flags

async function help(args: string[]): Promise<string> {
  const r = await cli([...args, '--help'], { cwd: REPO });
  if (r.code !== 0) throw new Error(`recsys-pipelines ${args.join(' ')} --help exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `--flags` listed in a --help text (options section lines start with `-`). */
function helpFlags(text: string): Set<string> {
  const flags = new Set<string>(['--help']);
  for (const line of text.split('\n')) {
    if (!/^\s+-/.test(line)) continue;
    const spec = line.trim().split(/\s{2,}/)[0]!;
    for (const m of spec.matchAll(/--[a-z0-9][a-z0-9-]*/gi)) flags.add(m[0]);
  }
  return flags;
}

/** The commands `recsys-pipelines --help` lists. */
function commands(top: string): string[] {
  const section = top.slice(top.indexOf('Commands:'));
  return [...section.matchAll(/^\s{2}([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

/** Command lines of `recsys-pipelines` in a shell-ish text: backslash continuations joined, quotes and $(…) blanked. */
export function commandLines(code: string): { offset: number; command: string | undefined; flags: string[] }[] {
  const out: { offset: number; command: string | undefined; flags: string[] }[] = [];
  const logical: { offset: number; text: string }[] = [];
  const physical = code.split('\n');
  for (let i = 0; i < physical.length; i++) {
    let text = physical[i]!;
    const start = i;
    while (/\\\s*$/.test(text) && i + 1 < physical.length) text = text.replace(/\\\s*$/, ' ') + physical[++i];
    logical.push({ offset: start, text });
  }
  for (const { offset, text } of logical) {
    // Comments, quoted strings and command substitutions are not flags of ours.
    const plain = text
      .replace(/\$\((?:[^()]|\([^()]*\))*\)/g, ' X ')
      .replace(/"(?:[^"\\]|\\.)*"/g, ' X ')
      .replace(/'[^']*'/g, ' X ')
      .replace(/(^|\s)#.*$/, '$1');
    for (const m of plain.matchAll(/(?:^|[\s;&|(])recsys-pipelines(?![\w./-])((?:\s+[^\s;&|<>]+)*)/g)) {
      const tokens = m[1]!.trim().split(/\s+/).filter(Boolean);
      const command = tokens[0] !== undefined && !tokens[0].startsWith('-') ? tokens[0] : undefined;
      const flags = tokens.filter((t) => /^--[a-z0-9]/i.test(t)).map((t) => t.replace(/=.*$/, ''));
      out.push({ offset, command, flags });
    }
  }
  return out;
}

const SHELL_LANGS = new Set(['bash', 'sh', 'shell', 'console', 'text', '']);

describe('docs link check', () => {
  const files = markdownFiles();

  test('README.md and docs/**/*.md are all checked', () => {
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'start-here.md'));
    expect(files.length).toBeGreaterThan(20);
  });

  test('every relative link and #anchor resolves', () => {
    const problems: string[] = [];
    for (const file of files) {
      for (const { line, target } of linkTargets(parsedFile(join(REPO, file)))) {
        const why = checkLink(file, target);
        if (why !== undefined) problems.push(`${file}:${line}: (${target}) ${why}`);
      }
    }
    expect(problems, `broken links:\n${problems.join('\n')}`).toEqual([]);
  });

  test('every --flag in a recsys-pipelines command line exists in that command --help', async () => {
    const top = await help([]);
    const names = commands(top);
    const perCommand = await Promise.all(names.map(async (c) => [c, helpFlags(await help([c]))] as const));
    const known = new Map<string, Set<string>>(perCommand);
    // Without a command (`recsys-pipelines --config <file>`): the program's own flags and those every working command has.
    const working = perCommand.filter(([c]) => c !== 'version');
    const common = [...working[0]![1]].filter((f) => working.every(([, flags]) => flags.has(f)));
    known.set('', new Set([...helpFlags(top), ...common]));
    const problems: string[] = [];
    let checked = 0;
    for (const file of files) {
      const parsed = parsedFile(join(REPO, file));
      const candidates = [
        ...parsed.blocks.filter((b) => SHELL_LANGS.has(b.lang)).map((b) => ({ line: b.line + 1, code: b.lines.map((l) => l.text).join('\n'), allow: b.allowUnknownFlags })),
        ...parsed.spans.map((s) => ({ line: s.line, code: s.code, allow: s.allowUnknownFlags })),
      ];
      for (const { line, code, allow } of candidates) {
        if (allow) continue;
        for (const cmd of commandLines(code)) {
          const flags = known.get(cmd.command ?? '');
          const at = `${file}:${line + cmd.offset}`;
          if (!flags) {
            // `recsys-pipelines <thing>` in prose-like code (a path, a package name) is not a command line.
            if (cmd.command !== undefined && /^[a-z]+$/.test(cmd.command) && cmd.flags.length > 0) problems.push(`${at}: unknown command "recsys-pipelines ${cmd.command}" (commands: ${[...known.keys()].filter(Boolean).join(', ')})`);
            continue;
          }
          for (const flag of cmd.flags) {
            checked++;
            if (!flags.has(flag)) problems.push(`${at}: recsys-pipelines ${cmd.command ?? ''} has no option ${flag} (see recsys-pipelines ${cmd.command ?? ''} --help)`.replace(/ {2,}/g, ' '));
          }
        }
      }
    }
    expect(checked, 'flags found in docs').toBeGreaterThan(50);
    expect(problems, `unknown flags:\n${problems.join('\n')}`).toEqual([]);
  });
});

describe('the checker itself', () => {
  test('GitHub heading ids', () => {
    expect([...githubSlugs(['`status`', '1. Which scopes, and how old?', 'Version = content hash', 'Rollback', 'Rollback', 'session_seq', 'What "fresh" means', 'Where it sits in the stack'])]).toEqual([
      'status',
      '1-which-scopes-and-how-old',
      'version--content-hash',
      'rollback',
      'rollback-1',
      'session_seq',
      'what-fresh-means',
      'where-it-sits-in-the-stack',
    ]);
  });

  test('command lines: continuations, quotes, substitutions, pipes', () => {
    const code = [
      'recsys-pipelines run --config "$CONFIG" --tenant demo \\',
      '  --surface home --end "$(date -u -d yesterday +%F) --not-a-flag" | jq .',
      'npx -y pnpm@12.4.2 exec recsys-pipelines status --max-age=26h && recsys-pipelines verify --json # --comment',
      'echo recsys-pipelines-cli is a package name',
    ].join('\n');
    expect(commandLines(code)).toEqual([
      { offset: 0, command: 'run', flags: ['--config', '--tenant', '--surface', '--end'] },
      { offset: 2, command: 'status', flags: ['--max-age'] },
      { offset: 2, command: 'verify', flags: ['--json'] },
    ]);
  });

  test('a broken link and a missing anchor are reported with their reason', () => {
    expect(checkLink('docs/README.md', 'nope.md')).toBe(`no such file or folder: ${join('docs', 'nope.md')}`);
    expect(checkLink('docs/README.md', 'reference/cli.md#statuss')).toMatch(/^no heading #statuss in docs\/reference\/cli\.md \(headings like: #status/);
    expect(checkLink('docs/README.md', 'reference/cli.md#status')).toBeUndefined();
    expect(checkLink('docs/README.md', '../../outside.md')).toMatch(/^points outside the repository/);
    expect(checkLink('docs/README.md', 'https://example.com/x#y')).toBeUndefined();
  });
});
