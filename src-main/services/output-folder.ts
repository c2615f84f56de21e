/**
 * Checks a folder the app is about to create and write into, before touching the disk: a clear
 * message instead of an error deep inside mkdir (or, under /proc, a mkdir that never returns).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../contract/errors';

const SYSTEM_ROOTS = ['/proc', '/sys', '/dev'];

export function checkOutputFolder(target: string, what = 'the output'): string {
  if (!target.trim() || !path.isAbsolute(target)) {
    throw new AppError(
      'invalid_input',
      `"${target}" is not a full folder path; choose a folder for ${what} (for example ${path.join(process.env.HOME ?? '/home/you', 'reports')}).`
    );
  }
  const abs = path.resolve(target);
  const isSystem = (p: string) => process.platform !== 'win32' && SYSTEM_ROOTS.some((root) => p === root || p.startsWith(`${root}/`));
  if (isSystem(abs)) {
    throw new AppError('invalid_input', `${abs} is a system folder; choose a folder in your home or data folders for ${what}.`);
  }
  // The deepest part of the path that exists (lstat: a dangling link exists too, and is resolved below).
  let existing = abs;
  const present = (p: string) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  while (!present(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  // Checked on its real path: a link (anywhere on the way) to /proc or /sys is a system folder too.
  let real: string;
  try {
    real = fs.realpathSync(existing);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'is a link to something that does not exist'
        : code === 'ELOOP'
          ? 'is a symbolic link loop'
          : `cannot be resolved (${code ?? (error as Error).message})`;
    throw new AppError('invalid_input', `${existing} ${why}; choose another folder for ${what}.`);
  }
  const realTarget = path.join(real, path.relative(existing, abs));
  if (isSystem(real) || isSystem(realTarget)) {
    throw new AppError('invalid_input', `${abs} leads to ${realTarget}, a system folder; choose a folder in your home or data folders for ${what}.`);
  }
  if (!fs.statSync(existing).isDirectory()) throw new AppError('invalid_input', `${existing} is a file, not a folder; choose a folder for ${what}.`);
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch {
    throw new AppError('invalid_input', `${existing} cannot be written to (no permission); choose another folder for ${what}.`);
  }
  return abs;
}
