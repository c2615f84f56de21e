/**
 * The headless CLI over the same services: `npm run mocoop -- <command>` or the `mocoop` bin.
 * With --json a command prints one JSON document on stdout and nothing else; errors go to stderr
 * with a non-zero exit (a stack trace only with --debug).
 */
import path from 'node:path';
import { AppError, USER_FACING_ERRORS, describeSystemError } from '../contract/errors';
import { type ParsedArgs, UsageError, parseArgs } from './args';
import { USAGE } from './usage';

const BOOLEANS = new Set(['json', 'debug', 'help', 'base-new', 'include-unlabeled', 'by-split', 'overwrite']);

/**
 * Every command, loaded on demand: `mocoop --help` and the light commands never load TensorFlow.js,
 * ONNX Runtime or the services.
 */
type Command = (args: ParsedArgs, argv: string[]) => Promise<void>;
const COMMANDS: Record<string, Command> = {
  project: async (args) => (await import('./commands/project')).projectCommand(args),
  import: async (args, argv) => (await import('./commands/import')).importCommand(args, argv),
  info: async (args) => (await import('./commands/info')).infoCommand(args),
  'export-labels': async (args) => (await import('./commands/export-labels')).exportLabelsCommand(args),
  serve: async (args) => (await import('./commands/serve')).serveCommand(args),
  tokenize: async (args) => (await import('./commands/clip')).clipCommand('tokenize', args),
  'embed-text': async (args) => (await import('./commands/clip')).clipCommand('embed-text', args),
  'embed-image': async (args) => (await import('./commands/clip')).clipCommand('embed-image', args),
  models: async (args) => (await import('./commands/models')).modelsCommand(args),
  zeroshot: async (args, argv) => (await import('./commands/zeroshot')).zeroshotCommand(args, argv),
  templates: async (args) => (await import('./commands/templates')).templatesCommand(args),
  fewshot: async (args) => (await import('./commands/fewshot')).fewshotCommand(args),
  train: async (args) => (await import('./commands/train')).trainCommand('train', args),
  eval: async (args) => (await import('./commands/train')).trainCommand('eval', args),
  report: async (args) => (await import('./commands/report')).reportCommand(args),
  runs: async (args) => (await import('./commands/runs')).runsCommand(args),
  backends: async (args) => (await import('./commands/backends')).backendsCommand(args),
  export: async (args) => (await import('./commands/exchange')).exchangeCommand('export', args),
  'import-experts': async (args) => (await import('./commands/exchange')).exchangeCommand('import-experts', args),
  reproduce: async (args) => (await import('./reproduce-command')).reproduceCommand(args)
};

/**
 * Resolves once everything written to `stream` so far has been handed to the OS. Writes to a pipe
 * are asynchronous on POSIX: exiting right after a large write would cut the document off at the
 * pipe's buffer size (64 KiB), so every command waits for this before the process exits.
 */
export function flushStream(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // The callback of an empty write runs after every earlier write has been flushed (or failed: a
    // reader that went away, e.g. "| head", is not an error of the command).
    stream.write('', () => resolve());
  });
}

/** The project file a command names (its first argument after the command), for messages about the disk. */
function projectFileArg(argv: string[]): string | undefined {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const [command, first, second] = positional;
  const file = command === 'project' ? second : first;
  return file && file.toLowerCase().endsWith('.mocoop') ? path.resolve(file) : undefined;
}

/** A reader that stops early ("mocoop … --json | head") closes the pipe: not a failure of the command. */
function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/** The script's entry (`tsx src-main/cli/main.ts …`, bin/mocoop.js): the process's own streams, flushed before it exits. */
export async function main(argv: string[]): Promise<number> {
  if (!process.stdout.listeners('error').includes(ignoreClosedPipe)) process.stdout.on('error', ignoreClosedPipe);
  const code = await runCommand(argv);
  await Promise.all([flushStream(process.stdout), flushStream(process.stderr)]);
  return code;
}

/** Where an in-process run's output goes, and what it runs with; every field optional. */
export interface CliIo {
  /** Receives what the command writes to stdout (dropped when absent). */
  stdout?: (text: string) => void;
  /** Receives what the command writes to stderr (dropped when absent). */
  stderr?: (text: string) => void;
  /** The working folder relative paths resolve against for this run (else the process's). */
  cwd?: string;
  /** Environment variables for this run (undefined removes one), e.g. MOCOOP_HOME. */
  env?: Record<string, string | undefined>;
}

type Write = typeof process.stdout.write;

/** A stream's write, sending the text to `sink` instead and calling back as a flushed write would. */
function redirect(sink: ((text: string) => void) | undefined): Write {
  return ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const text =
      typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    if (text) sink?.(text);
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as Write;
}

let inProcess: Promise<unknown> = Promise.resolve();

/**
 * Runs one command in this process, as `mocoop …` with stdout and stderr on pipes would run it, and
 * returns its exit code (the same output, codes and JSON documents as the script). The process-wide
 * state a command touches is put back afterwards: process.stdout/stderr.write (sent to `io`), their
 * isTTY (false, as for a pipe), the environment (a command sets MOCOOP_BACKEND), the working folder,
 * process.exitCode and the SIGINT/SIGTERM listeners a command added. Runs do not overlap: a second
 * call waits for the first (the streams are the process's).
 */
export function runCli(argv: string[], io: CliIo = {}): Promise<number> {
  const run = inProcess.then(() => runIsolated(argv, io));
  inProcess = run.catch(() => undefined);
  return run;
}

async function runIsolated(argv: string[], io: CliIo): Promise<number> {
  const streams = [
    [process.stdout, io.stdout],
    [process.stderr, io.stderr]
  ] as const;
  const saved = streams.map(([stream]) => ({ write: stream.write, isTTY: Object.getOwnPropertyDescriptor(stream, 'isTTY') }));
  const env = { ...process.env };
  const cwd = process.cwd();
  const exitCode = process.exitCode;
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const listeners = signals.map((signal) => process.listeners(signal));
  try {
    for (const [stream, sink] of streams) {
      stream.write = redirect(sink);
      Object.defineProperty(stream, 'isTTY', { value: false, configurable: true, writable: true });
    }
    for (const [name, value] of Object.entries(io.env ?? {})) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (io.cwd) process.chdir(io.cwd);
    process.exitCode = undefined;
    return await runCommand(argv);
  } finally {
    streams.forEach(([stream], i) => {
      stream.write = saved[i]!.write;
      if (saved[i]!.isTTY) Object.defineProperty(stream, 'isTTY', saved[i]!.isTTY!);
      else delete (stream as { isTTY?: boolean }).isTTY;
    });
    for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
    Object.assign(process.env, env);
    if (process.cwd() !== cwd) process.chdir(cwd);
    process.exitCode = exitCode;
    signals.forEach((signal, i) => {
      for (const listener of process.listeners(signal)) if (!listeners[i]!.includes(listener)) process.removeListener(signal, listener);
    });
  }
}

async function runCommand(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug');
  try {
    const args = parseArgs(argv, BOOLEANS);
    debug = args.flags.has('debug');
    const command = args.positional[0];
    if (!command || args.flags.has('help') || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return command || args.flags.has('help') ? 0 : 2;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`Unknown command "${command}". Run "mocoop --help" for the list.`);
    await run(args, argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (debug) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    else if (error instanceof UsageError) process.stderr.write(`mocoop: ${error.message}\n`);
    else if (error instanceof AppError) process.stderr.write(`mocoop: ${error.message}\n`);
    else if (describeSystemError(error, projectFileArg(argv))) process.stderr.write(`mocoop: ${describeSystemError(error, projectFileArg(argv))!.message}\n`);
    else if (error instanceof Error && USER_FACING_ERRORS.has(error.name)) process.stderr.write(`mocoop: ${error.message}\n`);
    else process.stderr.write(`mocoop: unexpected error: ${(error as Error)?.message ?? String(error)} (run with --debug for details)\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] && /cli[\\/]main\.(ts|js)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    if (process.argv[2] !== 'serve' || code !== 0) process.exit(code);
  });
}
