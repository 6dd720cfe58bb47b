import type { Options } from 'tsup';

/** What differs between the packages' builds. */
export interface PackageBuild {
  /** tsup entries: a list of files, or output name → source file. */
  entry: Options['entry'];
  /** `neutral` for code that must not assume Node (contracts, core). Default `node`. */
  platform?: 'node' | 'neutral';
  /** Declarations: `false` for an app, or the entries to declare. Default `true`. */
  dts?: Options['dts'];
}

/** The shared tsup config for one package. */
export function packageBuild(options: PackageBuild): ReturnType<typeof import('tsup').defineConfig>;
