// The reference docs describe what is implemented: every command and flag
// (from the built CLI's --help), every config key and limit default (from the
// schemas), every exit code and every quarantine reason. A new flag, key or
// reason fails this test until it is documented.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, EXIT_CODES, LimitsSchema, REJECT_REASONS } from '@recsys/core';
import { ConfigFileSchema, DbSchema, PostgresRawSettingsSchema, S3SettingsSchema, StoreSchema } from '../src/config/schema.js';
import { cli, files, tempDir } from './helpers.js';

const doc = (name: string) => readFileSync(fileURLToPath(new URL(`../../../docs/reference/${name}`, import.meta.url)), 'utf8');

/** Long flags listed in a --help text. */
const flagsOf = (help: string) => [...new Set([...help.matchAll(/(?:^|\s|,)(--[a-z][a-z-]*)/g)].map((m) => m[1]!))];

describe('docs/reference/cli.md', () => {
  test('documents every command and every flag of each', async () => {
    const text = doc('cli.md');
    const dir = tempDir();
    const top = await cli(['--help'], { cwd: dir });
    const commands = [...top.stdout.split('Commands:')[1]!.matchAll(/^ {2}([a-z]+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toContain('run');
    for (const flag of flagsOf(top.stdout)) expect(text, `global flag ${flag}`).toContain(`\`${flag}`);
    for (const command of commands) {
      expect(text, `command ${command}`).toMatch(new RegExp(`^## .*\`${command}`, 'm'));
      const help = await cli([command, '--help'], { cwd: dir });
      expect(help.code).toBe(0);
      for (const flag of flagsOf(help.stdout)) expect(text, `${command} ${flag}`).toContain(`\`${flag}`);
    }
  });
});

describe('docs/reference/config.md', () => {
  const text = doc('config.md');

  test('documents every config key, store key and S3 key', () => {
    for (const key of Object.keys(ConfigFileSchema.shape)) expect(text, key).toContain(`| \`${key}\``);
    for (const key of Object.keys(StoreSchema.shape)) expect(text, `store ${key}`).toContain(`| \`${key}\``);
    for (const key of Object.keys(S3SettingsSchema.shape)) expect(text, `s3.${key}`).toContain(`\`s3.${key}\``);
    for (const key of Object.keys(PostgresRawSettingsSchema.shape)) expect(text, `raw_source.postgres.${key}`).toContain(`| \`raw_source.postgres.${key}\``);
    for (const key of Object.keys(DbSchema.shape)) expect(text, `db.${key}`).toContain(`| \`db.${key}\``);
  });

  test('documents every limit with its default', () => {
    for (const key of Object.keys(LimitsSchema.shape) as (keyof typeof DEFAULT_LIMITS)[]) {
      const row = text.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      const value = DEFAULT_LIMITS[key];
      expect(row!.split('|')[2]!.trim(), key).toBe(value === Infinity ? 'unlimited' : String(value));
    }
  });
});

test('docs/reference/exit-codes.md documents every exit code and error kind', () => {
  const text = doc('exit-codes.md');
  for (const [kind, code] of Object.entries(EXIT_CODES)) {
    const row = text.split('\n').find((l) => l.startsWith(`| ${code} |`));
    expect(row, `exit ${code}`).toBeDefined();
    expect(row, `kind ${kind} under exit ${code}`).toContain(`\`${kind}\``);
  }
  expect(text).toContain('| 0 |');
});

test('docs/reference/quarantine.md documents every reject reason', () => {
  const text = doc('quarantine.md');
  for (const reason of REJECT_REASONS) expect(text, reason).toContain(`| \`${reason}\` |`);
});

test('docs/reference/output-layout.md lists exactly the files of the demo run', async () => {
  const text = doc('output-layout.md');
  const listed = [...text.matchAll(/^(\.out\/\S+)$/gm)].map((m) => m[1]!.slice('.out/'.length));
  expect(listed.length).toBeGreaterThan(0);
  const dir = tempDir();
  const r = await cli(['run', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(listed).toEqual(files(`${dir}/.out`));
});
