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
    throw new AppError('invalid_input', `"${target}" is not a full folder path; choose a folder for ${what} (for example ${path.join(process.env.HOME ?? '/home/you', 'reports')}).`);
  }
  const abs = path.resolve(target);
  if (process.platform !== 'win32' && SYSTEM_ROOTS.some((root) => abs === root || abs.startsWith(`${root}/`))) {
    throw new AppError('invalid_input', `${abs} is a system folder; choose a folder in your home or data folders for ${what}.`);
  }
  let existing = abs;
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (!fs.statSync(existing).isDirectory()) throw new AppError('invalid_input', `${existing} is a file, not a folder; choose a folder for ${what}.`);
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch {
    throw new AppError('invalid_input', `${existing} cannot be written to (no permission); choose another folder for ${what}.`);
  }
  return abs;
}
