/** What a CLI process printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}
/** See cli-runner.js. */
export declare function tempDirs(prefix: string): () => string;
/** See cli-runner.js. */
export declare function spawnCli(bin: string, args: readonly string[], options: {
    cwd: string;
    env?: NodeJS.ProcessEnv | undefined;
    nodeArgs?: readonly string[] | undefined;
    killAfterMs?: number | undefined;
    killAfterLine?: { readonly line: string; readonly afterMs: number } | undefined;
  },
): Promise<CliResult>;
