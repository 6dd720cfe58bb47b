#!/usr/bin/env node
// Fails when the public source of a publishable package changed since a base
// ref without a changeset that names the package.
//
//   node tooling/scripts/verify-changesets.mjs [<base-ref>]
//
// Base: the argument, else $CHANGESET_BASE, else the merge-base of HEAD with
// origin/main when that ref exists. With no base to compare against (a clean
// clone of main without a remote, a shallow clone without the merge-base, not
// a git checkout) the check is skipped with a message and exit code 0; an
// explicitly given base that does not resolve is an error (exit 2).
//
// "Public source" is everything under <pkg>/src or <pkg>/schemas of a
// non-private package in packages/* or apps/* (tests included: a test-only
// change still needs an explicit, possibly empty, changeset). Changes are
// taken between the base and the working tree, plus untracked files, so the
// check gives the same answer before and after committing.
//
// A changeset covers a package when a .changeset/*.md file (not README.md)
// added since the base mentions the package name anywhere: in its frontmatter
// (a release) or in its text (`pnpm changeset --empty` plus a sentence naming
// the package, for a change that releases nothing).
//
// Exit codes: 0 ok or skipped · 1 a package lacks a changeset · 2 usage error.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE_PARENTS = ['packages', 'apps'];
const PUBLIC_DIRS = ['src', 'schemas'];

function git(args) {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function tryGit(args) {
  try {
    return git(args);
  } catch {
    return undefined;
  }
}

function skip(reason) {
  console.log(`changeset check skipped: ${reason}`);
  process.exit(0);
}

function lines(text) {
  return text === undefined || text === '' ? [] : text.split('\n').filter(Boolean);
}

if (process.argv.length > 3 || ['-h', '--help'].includes(process.argv[2] ?? '')) {
  console.error('usage: verify-changesets.mjs [<base-ref>]   (or CHANGESET_BASE=<ref>)');
  process.exit(2);
}

if (tryGit(['rev-parse', '--is-inside-work-tree']) !== 'true') skip('not a git checkout.');

const explicit = process.argv[2] ?? process.env.CHANGESET_BASE;
let base;
let baseLabel;
if (explicit !== undefined && explicit !== '') {
  base = tryGit(['rev-parse', '--verify', '--quiet', `${explicit}^{commit}`]);
  if (base === undefined) {
    console.error(`changeset check: base ref "${explicit}" does not resolve to a commit (fetch it, or unset CHANGESET_BASE).`);
    process.exit(2);
  }
  baseLabel = explicit;
} else {
  if (tryGit(['rev-parse', '--verify', '--quiet', 'refs/remotes/origin/main^{commit}']) === undefined) {
    skip('no base to compare against (no argument, no CHANGESET_BASE, and no origin/main ref, e.g. a clone of main without a remote). Pass a base ref to check a branch.');
  }
  base = tryGit(['merge-base', 'HEAD', 'refs/remotes/origin/main']);
  if (base === undefined) skip('HEAD and origin/main have no merge-base in this clone (shallow clone? fetch with full history).');
  baseLabel = `merge-base with origin/main (${base.slice(0, 12)})`;
}

// Publishable packages by directory.
const packages = [];
for (const parent of PACKAGE_PARENTS) {
  const dir = join(ROOT, parent);
  if (!existsSync(dir)) continue;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const manifestPath = join(dir, entry.name, 'package.json');
    if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (manifest.private === true || typeof manifest.name !== 'string') continue;
    packages.push({ name: manifest.name, dir: `${parent}/${entry.name}` });
  }
}

const changed = new Set([...lines(git(['diff', '--name-only', base, '--'])), ...lines(git(['ls-files', '--others', '--exclude-standard']))]);
const addedChangesets = new Set([
  ...lines(git(['diff', '--name-only', '--diff-filter=A', base, '--', '.changeset'])),
  ...lines(git(['ls-files', '--others', '--exclude-standard', '--', '.changeset'])),
]);
const changesetTexts = [...addedChangesets]
  .filter((file) => /^\.changeset\/[^/]+\.md$/.test(file) && file !== '.changeset/README.md' && existsSync(join(ROOT, file)))
  .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const mentions = (text, name) => new RegExp(`(^|[^\\w@/.-])${escapeRegExp(name)}(?![\\w/.-])`, 'm').test(text);

const missing = [];
for (const pkg of packages) {
  const files = [...changed].filter((file) => PUBLIC_DIRS.some((d) => file.startsWith(`${pkg.dir}/${d}/`))).sort();
  if (files.length === 0) continue;
  if (changesetTexts.some(({ text }) => mentions(text, pkg.name))) continue;
  missing.push({ ...pkg, files });
}

if (missing.length === 0) {
  const covered = packages.filter((p) => [...changed].some((f) => PUBLIC_DIRS.some((d) => f.startsWith(`${p.dir}/${d}/`)))).map((p) => p.name);
  console.log(`changeset check passed against ${baseLabel}: ${covered.length === 0 ? 'no public source changed' : `changesets cover ${covered.join(', ')}`}.`);
  process.exit(0);
}

console.error(`changeset check failed against ${baseLabel}:`);
for (const pkg of missing) {
  const shown = pkg.files.slice(0, 5).join(', ') + (pkg.files.length > 5 ? `, … (${pkg.files.length} files)` : '');
  console.error(`  - ${pkg.name}: public source changed without a changeset naming it (${shown})`);
}
console.error(
  `\nAdd one: \`pnpm changeset\` (pick ${missing.map((p) => p.name).join(', ')}), or for a change that releases nothing,\n` +
    '`pnpm changeset --empty` and name the package in its text. See .changeset/README.md.',
);
process.exit(1);
