import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export interface KillableCli {
  child: ChildProcess;
  /** Complete stdout lines so far. */
  lines: string[];
  stderr: () => string;
  /** Resolves when the process has exited (code, or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first stdout line for which `test` holds (null if the process ends first). */
  line(test: (line: string) => boolean): Promise<string | null>;
}

/**
 * `mocoop …` in a child process that a test can kill at a moment of its choosing (kill -9), with
 * MOCOOP_HOME set to `home` and stdout read line by line.
 */
export function spawnCli(args: string[], home: string, env: Record<string, string> = {}): KillableCli {
  const child = spawn(process.execPath, [path.resolve('bin/mocoop.js'), ...args], {
    env: { ...process.env, MOCOOP_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  const lines: string[] = [];
  const waiting: { test: (line: string) => boolean; resolve: (line: string | null) => void }[] = [];
  let partial = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiting]) {
        if (w.test(line)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      for (const w of waiting.splice(0)) w.resolve(null);
      resolve({ code, signal });
    })
  );
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    line: (test) => {
      const found = lines.find(test);
      if (found !== undefined) return Promise.resolve(found);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => waiting.push({ test, resolve }));
    }
  };
}
