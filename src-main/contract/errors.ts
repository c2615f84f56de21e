import type { z } from 'zod';

export type ErrorCode =
  | 'invalid_input'
  | 'no_project'
  | 'not_found'
  | 'conflict'
  /** A save against an old revision (another window saved since): nothing was written; the renderer offers Reload / Overwrite. */
  | 'stale_revision'
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

/**
 * Errors of the app's own loaders whose messages are already written for people (they name the file
 * and the problem): shown as they are, never as "unexpected error" / "Something went wrong".
 */
export const USER_FACING_ERRORS: ReadonlySet<string> = new Set(['TokenizerError', 'ModelLoadError', 'SafetensorsError', 'ModelConfigError']);

/** SQLite's "database is locked" (SQLITE_BUSY and its variants, SQLITE_LOCKED): another connection holds the write lock. */
export function isDatabaseBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** The words for a write that lost the race for a project file: nothing was written, try again. */
export function busyProjectError(file: string | undefined, what = 'another program (an import, a training run or another window of the CLI)'): AppError {
  return new AppError(
    'busy',
    `${what[0]!.toUpperCase()}${what.slice(1)} is writing this project${file ? ` (${file})` : ''}; nothing was changed. Try again when it has finished.`
  );
}

/** The words for a project file that cannot be written: read-only permissions, an immutable flag, a read-only folder or disk. */
export function readOnlyProjectError(file: string | undefined, why = 'it is read-only'): AppError {
  return new AppError(
    'unavailable',
    `The project file${file ? ` ${file}` : ''} cannot be written: ${why}. MoCoOp Workbench saves every change in it as you work; make it and its folder writable (e.g. chmod u+w, chattr -i), or copy the project to a folder you can write to and open the copy.`
  );
}

/**
 * A sentence for a failure of the disk or of the database file that is not a bug — busy, read-only,
 * full, out of quota, an I/O error — naming the file (the project's, or the path in the error) and what
 * to do; null for anything else. Used by every transport and by the CLI instead of "unexpected error".
 */
export function describeSystemError(error: unknown, projectFile?: string): AppError | null {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const target = (error as { path?: unknown }).path;
  const where = typeof target === 'string' ? target : projectFile;
  if (isDatabaseBusy(error)) return busyProjectError(projectFile);
  if (code.startsWith('SQLITE_READONLY')) return readOnlyProjectError(projectFile);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError(
      'unavailable',
      `The disk holding ${where ?? 'the project'} is full${code === 'EDQUOT' ? ' (your disk quota is used up)' : ''}; nothing was changed. Free some space and try again.`
    );
  }
  if (code === 'EROFS')
    return new AppError('unavailable', `${where ?? 'The project'} is on a read-only disk; nothing was changed. Choose a folder on a writable disk.`);
  if ((code === 'EACCES' || code === 'EPERM') && typeof target === 'string') {
    return new AppError(
      'unavailable',
      `${target} cannot be written or read (permission denied); nothing was changed. Change its permissions, or choose a folder you can write to.`
    );
  }
  // A path someone typed that cannot be a file here (too long, through a file, a folder given as a file).
  if (code === 'ENAMETOOLONG' && typeof target === 'string')
    return new AppError(
      'invalid_input',
      `${target.length > 120 ? `${target.slice(0, 120)}…` : target}: the name is too long for this system (${target.length} characters); nothing was changed. Choose a shorter name.`
    );
  if (code === 'ENOTDIR' && typeof target === 'string')
    return new AppError('invalid_input', `${target}: a part of this path is a file, not a folder; nothing was changed. Check the path.`);
  if (code === 'EISDIR' && typeof target === 'string')
    return new AppError('invalid_input', `${target} is a folder, not a file; nothing was changed. Choose a file name inside it.`);
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'EIO') {
    return new AppError(
      'unavailable',
      `The disk reported an error with ${where ?? 'the project file'} (${code}); nothing was changed. Check that the disk is still there and has free space, then try again.`
    );
  }
  return null;
}
