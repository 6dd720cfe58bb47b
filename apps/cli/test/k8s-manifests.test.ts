// Validates the Kubernetes / Argo manifests shipped under docs/how-to/k8s/:
// they parse as YAML, have the fields their kinds require, reference volumes,
// ConfigMaps and templates that exist, agree with each other (shard counts,
// artifact types), the embedded config.json loads with the real config
// loader, and every container's command line is accepted by the real
// commander program of the CLI (after Kubernetes `$(VAR)` / Argo `{{…}}`
// substitution), with valid days and shard flags.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Command } from 'commander';
import { isValidDay } from '@recsys/contracts';
import { buildProgram } from '../src/program.js';
import { loadConfig } from '../src/config/load.js';
import { REPO } from './doc-blocks.js';
import { tempDir } from './helpers.js';

const DIR = join(REPO, 'docs/how-to/k8s');
const HOWTO = join(REPO, 'docs/how-to/scale-out.md');

type Obj = Record<string, unknown>;
interface Doc {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly body: Obj;
}

const KINDS = new Map([
  ['ConfigMap', 'v1'],
  ['Job', 'batch/v1'],
  ['CronJob', 'batch/v1'],
  ['Workflow', 'argoproj.io/v1alpha1'],
]);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function loadDocs(): Doc[] {
  const docs: Doc[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'), { prettyErrors: true, uniqueKeys: true })) {
      expect(doc.errors, `${file}: ${doc.errors.join('\n')}`).toEqual([]);
      const body = doc.toJS() as Obj;
      const metadata = (body.metadata ?? {}) as Obj;
      // generateName is a prefix: the API server appends 5 random characters.
      const name = metadata.name !== undefined ? String(metadata.name) : `${String(metadata.generateName)}x7k2q`;
      docs.push({ file, apiVersion: String(body.apiVersion), kind: String(body.kind), name, body });
    }
  }
  return docs;
}

const docs = loadDocs();
const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap').map((d) => [d.name, (d.body.data ?? {}) as Record<string, string>]));

/** Parses a command line with the real CLI program, without running any action. */
function parseCli(args: readonly string[]): { command: string; opts: Obj; operands: string[] } {
  const program = buildProgram();
  let captured: { command: string; opts: Obj; operands: string[] } | undefined;
  const silent = { writeOut: () => {}, writeErr: () => {} };
  program.configureOutput(silent);
  for (const cmd of program.commands) {
    cmd.configureOutput(silent);
    cmd.action((...a: unknown[]) => {
      const c = a.at(-1) as Command;
      captured = { command: c.name(), opts: c.opts(), operands: [...c.args] };
    });
  }
  program.parse(['node', 'recsys-pipelines', ...args]);
  if (!captured) throw new Error(`no command ran for ${args.join(' ')}`);
  return captured;
}

const asList = (v: unknown) => (Array.isArray(v) ? (v as Obj[]) : []);

/** A container's environment as Kubernetes resolves it: envFrom ConfigMaps, then env values. */
function containerEnv(container: Obj): Map<string, string> {
  const env = new Map<string, string>();
  for (const from of asList(container.envFrom)) {
    const ref = from.configMapRef as Obj | undefined;
    if (ref) {
      const data = configMaps.get(String(ref.name));
      expect(data, `ConfigMap ${String(ref.name)} is defined in docs/how-to/k8s`).toBeDefined();
      for (const [k, v] of Object.entries(data!)) env.set(k, v);
    }
  }
  for (const e of asList(container.env)) if (typeof e.value === 'string') env.set(String(e.name), e.value);
  return env;
}

/** Kubernetes `$(VAR)` expansion of args. */
function expandK8s(args: string[], env: Map<string, string>, where: string): string[] {
  return args.map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, name: string) => {
      const value = env.get(name);
      expect(value, `${where}: $(${name}) is set in the container's env`).toBeDefined();
      return value!;
    }),
  );
}

/** Splits a `sh -c` script into words: quotes, "$VAR" and the one `$(date …)` the CronJob uses. */
function shellWords(script: string, env: Map<string, string>, where: string): string[] {
  const expanded = script
    .replace(/\$\(date -u -d yesterday \+%Y-%m-%d\)/g, '2026-01-09')
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      expect(env.get(name), `${where}: $${name} is set`).toBeDefined();
      return env.get(name)!;
    });
  expect(expanded, `${where}: no other shell expansion`).not.toMatch(/[$`]/);
  const words: string[] = [];
  for (const m of expanded.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

const MEMORY = /^(\d+)(Mi|Gi)$/;
const mib = (q: string) => {
  const m = MEMORY.exec(q);
  expect(m, `memory quantity ${q}`).not.toBeNull();
  return Number(m![1]) * (m![2] === 'Gi' ? 1024 : 1);
};

interface CliCall {
  readonly where: string;
  readonly command: string;
  readonly opts: Obj;
  readonly operands: string[];
}

/** Checks one container (fields, mounts, resources) and returns its parsed CLI call. */
function checkContainer(container: Obj, volumes: Obj[], where: string, argo: Map<string, string> | undefined): CliCall {
  expect(String(container.name ?? 'main'), `${where}: container name`).toMatch(DNS_LABEL);
  expect(String(container.image), `${where}: image with a version tag`).toMatch(/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9._-]+$/);
  for (const mount of asList(container.volumeMounts)) {
    const volume = volumes.find((v) => v.name === mount.name);
    expect(volume, `${where}: volume ${String(mount.name)} is declared`).toBeDefined();
    const cm = volume!.configMap as Obj | undefined;
    if (cm) expect(configMaps.has(String(cm.name)), `${where}: ConfigMap ${String(cm.name)} exists`).toBe(true);
  }
  const resources = container.resources as { requests: Obj; limits: Obj } | undefined;
  expect(resources?.requests?.memory && resources.limits?.memory, `${where}: memory request and limit`).toBeTruthy();
  expect(mib(String(resources!.limits.memory))).toBeGreaterThanOrEqual(mib(String(resources!.requests.memory)));
  const env = containerEnv(container);
  const command = (container.command ?? []) as string[];
  let args = ((container.args ?? []) as unknown[]).map(String);
  if (argo) args = args.map((a) => a.replace(/\{\{([^}]+)\}\}/g, (_, key: string) => {
    expect(argo.has(key.trim()), `${where}: {{${key}}} is defined`).toBe(true);
    return argo.get(key.trim())!;
  }));
  let argv: string[];
  if (command.join(' ') === 'recsys-pipelines') argv = expandK8s(args, env, where);
  else {
    expect(command, `${where}: recsys-pipelines or /bin/sh -c`).toEqual(['/bin/sh', '-c']);
    expect(args).toHaveLength(1);
    const words = shellWords(args[0]!, env, where);
    expect(words.slice(0, 2), `${where}: the script execs the CLI`).toEqual(['exec', 'recsys-pipelines']);
    argv = words.slice(2);
  }
  let call: ReturnType<typeof parseCli>;
  try {
    call = parseCli(argv);
  } catch (error) {
    throw new Error(`${where}: the CLI rejects \`recsys-pipelines ${argv.join(' ')}\`: ${(error as Error).message}`);
  }
  const { opts } = call;
  expect(opts.config, `${where}: --config is the mounted config.json`).toBe('/etc/recsys/config.json');
  expect(asList(container.volumeMounts).some((m) => m.mountPath === '/etc/recsys')).toBe(true);
  for (const flag of ['start', 'end'] as const) if (opts[flag] !== undefined) expect(isValidDay(String(opts[flag])), `${where}: --${flag} ${String(opts[flag])}`).toBe(true);
  expect(String(opts.tenant)).toMatch(/^[A-Za-z0-9._-]+$/);
  return { where, ...call };
}

function podSpec(template: Obj): { spec: Obj; containers: Obj[] } {
  const spec = (template.spec ?? {}) as Obj;
  expect(['Never', 'OnFailure']).toContain(spec.restartPolicy);
  const containers = [...asList(spec.initContainers), ...asList(spec.containers)];
  expect(asList(spec.containers).length).toBeGreaterThan(0);
  return { spec, containers };
}

/** The parsed CLI calls of the ingest Job's and then the compute Job's containers. */
function shardCalls(): CliCall[] {
  return ['ingest-job.yaml', 'compute-job.yaml'].flatMap((file) => {
    const job = docs.find((d) => d.file === file)!.body.spec as Obj;
    const { spec, containers } = podSpec(job.template as Obj);
    return containers.map((c) => checkContainer(c, asList(spec.volumes), `${file} ${String(c.name)}`, undefined));
  });
}

describe('docs/how-to/k8s manifests', () => {
  test('every document has a known kind, its apiVersion and a valid name', () => {
    expect(docs.map((d) => `${d.file}:${d.kind}`).sort()).toEqual([
      'argo-workflow.yaml:Workflow',
      'compute-job.yaml:Job',
      'config.yaml:ConfigMap',
      'config.yaml:ConfigMap',
      'daily-cronjob.yaml:CronJob',
      'ingest-job.yaml:Job',
      'merge-publish-job.yaml:Job',
      'report-cronjob.yaml:CronJob',
    ]);
    for (const d of docs) {
      expect(d.apiVersion, `${d.file} ${d.kind}`).toBe(KINDS.get(d.kind));
      expect(d.name, d.file).toMatch(DNS_SUBDOMAIN);
    }
  });

  test('the embedded config.json loads with the real config loader', async () => {
    const dir = tempDir();
    const path = join(dir, 'config.json');
    writeFileSync(path, configMaps.get('recsys-config')!['config.json']!);
    const config = await loadConfig(path, dir);
    expect(config.warnings).toEqual([]);
    for (const area of ['canonical', 'quarantine', 'artifacts', 'objects', 'registry', 'checkpoints', 'raw'] as const) expect(config.areas[area].kind, area).toBe('s3');
  });

  test('the ingest and compute Jobs are Indexed Jobs whose --shard-count equals their (equal) completions', () => {
    const ingest = docs.find((d) => d.file === 'ingest-job.yaml')!.body.spec as Obj;
    const compute = docs.find((d) => d.file === 'compute-job.yaml')!.body.spec as Obj;
    for (const job of [ingest, compute]) {
      expect(job.completionMode).toBe('Indexed');
      expect(job.parallelism).toBe(job.completions);
    }
    expect(compute.completions).toBe(ingest.completions);
    const calls = shardCalls();
    // No validate step: compute --shard applies the canonical gates while it assembles the shard.
    expect(calls.map((c) => c.command)).toEqual(['ingest', 'compute']);
    for (const call of calls) expect(call.opts.shardCount, `${call.where}: --shard-count (index from JOB_COMPLETION_INDEX)`).toBe(String(ingest.completions));
  });

  test('the merge + publish Job merges the same shard count and types the shards computed', () => {
    const job = docs.find((d) => d.file === 'merge-publish-job.yaml')!.body.spec as Obj;
    const { spec, containers } = podSpec(job.template as Obj);
    const [merge, publish] = containers.map((c) => checkContainer(c, asList(spec.volumes), `merge-publish-job.yaml ${String(c.name)}`, undefined));
    expect([merge!.command, publish!.command]).toEqual(['merge', 'publish']);
    const shards = docs.find((d) => d.file === 'compute-job.yaml')!.body.spec as Obj;
    expect(merge!.opts.shardCount).toBe(String(shards.completions));
    const compute = shardCalls().find((c) => c.command === 'compute')!;
    expect(merge!.operands).toEqual(compute.operands);
    expect(String(publish!.opts.artifacts).split(',')).toEqual(compute.operands);
  });

  test('the daily CronJob runs `run --incremental` up to yesterday', () => {
    const cron = docs.find((d) => d.file === 'daily-cronjob.yaml')!.body.spec as Obj;
    expect(String(cron.schedule).split(' ')).toHaveLength(5);
    expect(cron.concurrencyPolicy).toBe('Forbid');
    const { spec, containers } = podSpec(((cron.jobTemplate as Obj).spec as Obj).template as Obj);
    const [run] = containers.map((c) => checkContainer(c, asList(spec.volumes), 'daily-cronjob.yaml', undefined));
    expect(run!.command).toBe('run');
    expect(run!.opts.incremental).toBe(true);
    expect(run!.opts.end).toBe('2026-01-09');
  });

  test('the report CronJob writes the report next to the manifest after the daily run', () => {
    const cron = docs.find((d) => d.file === 'report-cronjob.yaml')!.body.spec as Obj;
    const daily = docs.find((d) => d.file === 'daily-cronjob.yaml')!.body.spec as Obj;
    const hour = (schedule: unknown) => Number(String(schedule).split(' ')[1]);
    expect(hour(cron.schedule)).toBeGreaterThan(hour(daily.schedule));
    const { spec, containers } = podSpec(((cron.jobTemplate as Obj).spec as Obj).template as Obj);
    const [report] = containers.map((c) => checkContainer(c, asList(spec.volumes), 'report-cronjob.yaml', undefined));
    expect(report!.command).toBe('report');
    expect(report!.opts.nextToManifest).toBe(true);
    expect(report!.opts.surface).toBe('home');
  });

  test('the Argo Workflow: a DAG of ingest → compute → merge → publish whose templates and parameters exist', () => {
    const spec = docs.find((d) => d.kind === 'Workflow')!.body.spec as Obj;
    const templates = new Map(asList(spec.templates).map((t) => [String(t.name), t]));
    expect(templates.has(String(spec.entrypoint))).toBe(true);
    const params = new Map(asList((spec.arguments as Obj).parameters).map((p) => [`workflow.parameters.${String(p.name)}`, String(p.value)]));
    const dag = asList((templates.get(String(spec.entrypoint))!.dag as Obj).tasks);
    expect(dag.map((t) => t.name)).toEqual(['ingest', 'compute', 'merge', 'publish']);
    for (const task of dag) {
      expect(templates.has(String(task.template)), String(task.template)).toBe(true);
      if (task.depends) expect(dag.some((t) => t.name === task.depends)).toBe(true);
    }
    // Every ingest part first (the compute tasks read a bucket of each), then one compute task per shard.
    for (const task of dag.slice(0, 2)) expect(((task.withSequence as Obj).count)).toBe('{{workflow.parameters.shards}}');
    expect(dag[1]!.depends).toBe('ingest');
    expect(dag[0]!.template).toBe('ingest');
    expect(dag[1]!.template).toBe('compute');
    expect(templates.has('validate')).toBe(false);
    const argoCalls = new Map<string, CliCall>();
    for (const name of ['ingest', 'compute', 'merge', 'publish']) {
      const template = templates.get(name)!;
      const values = new Map(params);
      values.set('inputs.parameters.index', '7');
      const call = checkContainer(template.container as Obj, asList(spec.volumes), `argo-workflow.yaml ${name}`, values);
      expect(call.command).toBe(name);
      argoCalls.set(name, call);
    }
    for (const name of ['ingest', 'compute']) expect(argoCalls.get(name)!.opts.shard).toBe(`7/${params.get('workflow.parameters.shards')!}`);
    expect(argoCalls.get('merge')!.opts.shardCount).toBe(params.get('workflow.parameters.shards'));
    expect(argoCalls.get('merge')!.operands).toEqual(argoCalls.get('compute')!.operands);
  });

  test('the how-to includes every manifest and says how to create the S3 Secret', () => {
    const howto = readFileSync(HOWTO, 'utf8');
    for (const file of readdirSync(DIR)) expect(howto, file).toContain(`k8s/${file}`);
    expect(howto).toContain('kubectl create secret generic recsys-s3');
  });

  test('the parser used here rejects what the CLI rejects', () => {
    expect(() => parseCli(['compute', 'popularity', '--tenant', 't', '--surface', 's', '--end', '2026-01-01', '--shards', '8'])).toThrow(/unknown option/);
    expect(() => parseCli(['ingest', '--tenant', 't', '--surface', 's'])).toThrow(/--end/);
    expect(parseCli(['ingest', '--tenant', 't', '--surface', 's', '--end', '2026-01-01', '--shard-count', '8']).opts.shardCount).toBe('8');
  });
});
