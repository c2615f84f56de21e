import type { z } from 'zod';

export type ErrorCode =
  | 'invalid_input'
  | 'no_project'
  | 'not_found'
  | 'conflict'
  | 'bad_source'
  | 'bad_project'
  | 'busy'
  | 'unavailable'
  | 'internal';

/** An error whose message is written for the person using the app (it names the file or field and what to do). */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function describeZodError(error: z.ZodError, what: string): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : what;
    return `${where}: ${issue.message}`;
  });
  return parts.join('; ');
}

/** SQLite's "database is locked" (SQLITE_BUSY and its variants, SQLITE_LOCKED): another connection holds the write lock. */
export function isDatabaseBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** The words for a write that lost the race for a project file: nothing was written, try again. */
export function busyProjectError(file: string, what = 'another program'): AppError {
  return new AppError('busy', `${what[0]!.toUpperCase()}${what.slice(1)} is writing this project (${file}); nothing was changed. Try again when it has finished.`);
}
