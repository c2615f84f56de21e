/**
 * Opening a model file that is a named pipe, a socket or a device waits forever for a writer (or never
 * ends): model files are opened without blocking and refused at once unless they are regular files.
 */
import fs from 'node:fs';
import { AppError } from '../contract/errors';
import { specialFileKind } from '../importing/walk';

/** A model file that is not a regular file; `reason` reads after "cannot be read (…)". */
export class NotRegularFileError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NotRegularFileError';
  }
}

/** Opens `file` for reading; refuses a folder, FIFO, socket or device at once (the descriptor is then closed). */
export function openRegularFile(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new NotRegularFileError('it is a folder, not a file');
    if (!stat.isFile()) throw new NotRegularFileError(`it is ${specialFileKind(stat)}, not a file`);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** The whole of a regular file as text (see openRegularFile). */
export function readRegularTextFile(file: string): string {
  const fd = openRegularFile(file);
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Why a file could not be read, in words: "it does not exist", "permission denied", "it is a named pipe (FIFO), not a file". */
export function unreadableReason(error: unknown): string {
  if (error instanceof NotRegularFileError) return error.reason;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EISDIR') return 'it is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'it is a link that leads to itself';
  return code ?? (error as Error).message;
}

/**
 * A JSON file, read as a regular file (a leading byte order mark allowed); refused with
 * AppError('bad_source') "FILE: cannot be read (why). HINT" when it cannot be read or parsed.
 */
export function readJsonFile(file: string, hint = ''): unknown {
  try {
    return JSON.parse(readRegularTextFile(file).replace(/^\uFEFF/, ''));
  } catch (error) {
    const why = error instanceof SyntaxError ? `it is not valid JSON: ${error.message}` : unreadableReason(error);
    throw new AppError('bad_source', `${file}: cannot be read (${why}).${hint ? ` ${hint}` : ''}`);
  }
}
