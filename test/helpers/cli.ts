import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** The working folder relative paths in `args` resolve against (else this process's). */
  cwd?: string;
}

/** The TensorFlow.js engine, once anything in this process has loaded tfjs (tfjs-core keeps it on the global object). */
function tfEngine(): { backendName: string | null; setBackend(name: string): Promise<boolean> } | undefined {
  return (globalThis as { _tfengine?: { backendName: string | null; setBackend(name: string): Promise<boolean> } })._tfengine;
}

/**
 * Runs `mocoop …` in this process (src-main/cli/main.ts's runCli: the same output, exit codes and
 * JSON documents as the script with stdout and stderr on pipes), with MOCOOP_HOME set to `home`.
 * Everything process-wide the command changes is put back: streams, environment, working folder,
 * exit code and signal listeners by runCli, and the tfjs backend (a command picks its own) here.
 * `signal` is always null: tests that need a process of their own use spawnCliProcess.
 */
export async function runCli(args: string[], home: string, options: CliOptions = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  // Loaded on first use: the Playwright specs import this file for spawnCliProcess only.
  const { runCli: runInProcess } = await import('../../src-main/cli/main');
  const backend = tfEngine()?.backendName ?? null;
  try {
    const code = await runInProcess(args, {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      cwd: options.cwd,
      env: { MOCOOP_HOME: home, ...options.env }
    });
    return { code, signal: null, stdout: out.join(''), stderr: err.join('') };
  } finally {
    const engine = tfEngine();
    if (backend && engine && engine.backendName !== backend) await engine.setBackend(backend);
  }
}

/** How spawnCliProcess starts the CLI: the `mocoop` bin (bin/mocoop.js), or `tsx src-main/cli/main.ts` as `npm run mocoop` does. */
export type CliEntry = 'bin' | 'script';

/**
 * Runs `mocoop …` in a child process with stdout and stderr on pipes (as `mocoop … | jq` would), with
 * MOCOOP_HOME set to `home`; kills it after `timeoutMs` (signal SIGKILL in the result). Each start
 * costs seconds: only for what needs a process of its own (its exit, a read that could block it).
 */
export function spawnCliProcess(
  args: string[],
  home: string,
  options: { timeoutMs?: number; env?: Record<string, string>; entry?: CliEntry } = {}
): Promise<CliResult> {
  const entry =
    options.entry === 'script' ? [path.resolve('node_modules/tsx/dist/cli.mjs'), path.resolve('src-main/cli/main.ts')] : [path.resolve('bin/mocoop.js')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      env: { ...process.env, MOCOOP_HOME: home, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
