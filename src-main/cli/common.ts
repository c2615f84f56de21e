/** What every CLI command shares: the services, output, positional arguments and numeric flags. */
import { BACKEND_PREFERENCES, type BackendPreference } from '../clip/backend';
import { checkWithContract } from '../contract/limits';
import { AppServices } from '../services/app-services';
import { defaultConfigDir, packageVersion } from '../services/paths';
import { TrainingService } from '../training/training-service';
import { type ParsedArgs, UsageError, stringFlag } from './args';
import type { z } from 'zod';

export function services(): AppServices {
  // The backend preference reaches the compute worker through the environment.
  return new AppServices({ mode: 'web', configDir: defaultConfigDir(), version: packageVersion() });
}

export function print(json: boolean, value: unknown, human: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : human + '\n');
}

export function requirePositional(args: ParsedArgs, index: number, what: string): string {
  const value = args.positional[index];
  if (!value) throw new UsageError(`Missing ${what}.`);
  return value;
}

export function backendFlag(args: ParsedArgs): BackendPreference {
  const value = stringFlag(args, 'backend') ?? process.env.MOCOOP_BACKEND ?? 'auto';
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(value))
    throw new UsageError(`--backend must be one of ${BACKEND_PREFERENCES.join(', ')} (got "${value}").`);
  process.env.MOCOOP_BACKEND = value;
  return value as BackendPreference;
}

export function numberFlag(args: ParsedArgs, name: string, integer: boolean, min: number): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min) {
    throw new UsageError(`--${name} must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got "${raw}").`);
  }
  return value;
}

/** Checks CLI values against a contract schema (the app's limits); a value out of range is a usage error naming the flag. */
export function checkUsage<S extends z.ZodType>(schema: S, value: unknown, name: (path: string) => string): z.output<S> {
  try {
    return checkWithContract(schema, value, name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function openTraining(args: ParsedArgs): { app: AppServices; training: TrainingService } {
  const app = services();
  app.openProjectFile(requirePositional(args, 1, 'the project file'));
  return { app, training: new TrainingService(app.project) };
}
