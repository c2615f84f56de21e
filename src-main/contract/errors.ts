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
