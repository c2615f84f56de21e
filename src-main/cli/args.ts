export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/** `--name value`, `--name=value` and boolean `--name` (when listed in `booleans`). */
export function parseArgs(argv: string[], booleans: Set<string>): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    if (eq > 0) flags.set(name, arg.slice(eq + 1));
    else if (booleans.has(name)) flags.set(name, true);
    else {
      const value = argv[i + 1];
      // Without a value it is kept as `true`: the command first says whether it knows the option at
      // all ("Unknown option --no-such-flag"), and stringFlag says a known one needs a value.
      if (value === undefined || value.startsWith('--')) flags.set(name, true);
      else {
        flags.set(name, value);
        i++;
      }
    }
  }
  return { positional, flags };
}

export class UsageError extends Error {}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  if (value === true) throw new UsageError(`--${name} needs a value.`);
  return value;
}

export function checkFlags(args: ParsedArgs, allowed: string[]): void {
  for (const name of args.flags.keys()) {
    if (!allowed.includes(name)) throw new UsageError(`Unknown option --${name}. Options here: ${allowed.map((a) => `--${a}`).join(', ')}.`);
  }
}
