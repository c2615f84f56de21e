import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError, busyProjectError, describeSystemError, isDatabaseBusy, readOnlyProjectError } from '../contract/errors';
import { LATEST_SCHEMA_VERSION, type Migration, migrations } from './migrations';

export type Db = Database.Database;

const SQLITE_HEADER = 'SQLite format 3\0';

/** How long a statement waits for another connection's write lock before giving up (SQLITE_BUSY). */
export const BUSY_TIMEOUT_MS = 5000;

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function newerFormat(file: string, version: number): AppError {
  return new AppError(
    'bad_project',
    `${file} was saved by a newer MoCoOp Workbench (project format ${version}; this app reads up to ${LATEST_SCHEMA_VERSION}). Update the app to open it; the file was not changed.`
  );
}

/** Brings the schema up to `target`, one transaction per step; refuses a file newer than this app. */
export function migrate(db: Db, file: string, target = LATEST_SCHEMA_VERSION, steps: Migration[] = migrations): void {
  const current = schemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) throw newerFormat(file, current);
  for (const step of steps) {
    if (step.version <= current || step.version > target) continue;
    db.transaction(() => {
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    })();
  }
}

/** 'a named pipe (FIFO)', 'a socket', … for a file that is neither a regular file nor a folder. */
function specialKind(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function checkIsProjectFile(file: string): void {
  let fd: number | undefined;
  try {
    // Checked before opening: opening a named pipe waits for a writer, forever, and would freeze every
    // client of web mode; a device never ends. Then opened without blocking and checked again.
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new AppError('bad_project', `${file} is a folder; choose a project file (.mocoop).`);
    if (!stat.isFile()) throw new AppError('bad_project', `${file} is ${specialKind(stat)}, not a project file. Choose a .mocoop file.`);
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) throw new AppError('bad_project', `${file} is ${specialKind(opened)}, not a project file. Choose a .mocoop file.`);
    const header = Buffer.alloc(16);
    const read = fs.readSync(fd, header, 0, 16, 0);
    if (read === 0) throw new AppError('bad_project', `${file} is empty (0 bytes), so it holds no project. Choose another file or create a new project.`);
    if (header.toString('latin1', 0, read) !== SQLITE_HEADER.slice(0, read)) {
      throw new AppError('bad_project', `${file} is not a MoCoOp Workbench project (it is not an SQLite database). Choose a .mocoop file.`);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not_found', `${file} does not exist. Check the path or create a new project.`);
    if (code === 'EISDIR') throw new AppError('bad_project', `${file} is a folder; choose a project file (.mocoop).`);
    throw new AppError('bad_project', `${file} cannot be read (${code ?? String(error)}).`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Read-only checks that run before anything may write to an existing file (even a pragma). */
function refuseIfNotOurs(db: Db, file: string): void {
  const version = schemaVersion(db);
  if (version > LATEST_SCHEMA_VERSION) throw newerFormat(file, version);
  const check = db.pragma('quick_check', { simple: true });
  if (check !== 'ok') throw new AppError('bad_project', `${file} is damaged (${String(check)}). Restore it from a backup.`);
  if (version === 0 && db.prepare("SELECT count(*) n FROM sqlite_master WHERE type = 'table'").pluck().get() !== 0) {
    throw new AppError('bad_project', `${file} is an SQLite database but not a MoCoOp Workbench project; it was not changed.`);
  }
}

function refuseIfNotWritable(file: string, dir: string, create: boolean): void {
  const denied = (target: string) => {
    try {
      fs.accessSync(target, fs.constants.W_OK);
      return null;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code ?? 'EACCES';
    }
  };
  const why = (code: string, subject: 'it' | 'the folder') =>
    code === 'EROFS'
      ? `${subject} is on a read-only disk`
      : code === 'EPERM'
        ? `${subject} is marked immutable, or the system does not permit writing to it`
        : `${subject === 'it' ? 'its' : "the folder's"} permissions do not allow writing`;
  if (!create) {
    const code = denied(file);
    if (code) throw readOnlyProjectError(file, why(code, 'it'));
  }
  const dirCode = denied(dir);
  if (dirCode && create)
    throw new AppError('unavailable', `A project cannot be created in ${dir}: ${why(dirCode, 'the folder')}. Choose a folder you can write to.`);
  if (dirCode)
    throw readOnlyProjectError(file, `its folder ${dir} cannot be written (${why(dirCode, 'the folder')}), and the project keeps its journal beside it`);
}

export interface OpenOptions {
  create: boolean;
  /** For tests: stop migrating at this version. */
  targetVersion?: number;
}

export function openDatabase(file: string, options: OpenOptions): Db {
  const exists = fs.existsSync(file);
  if (options.create && exists) {
    throw new AppError('conflict', `${file} already exists. Open it instead, or choose another file name.`);
  }
  if (!options.create) checkIsProjectFile(file);
  const dir = path.dirname(file);
  if (options.create && !fs.existsSync(dir)) throw new AppError('not_found', `The folder ${dir} does not exist. Create it first or choose another location.`);
  // The project is written as people work (and SQLite keeps its journal beside it): a read-only or
  // immutable file, or a read-only folder, is refused here in words instead of failing at the first change.
  refuseIfNotWritable(file, dir, options.create);
  let db: Db;
  try {
    db = new Database(file, { fileMustExist: !options.create, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new AppError('bad_project', `${file} cannot be opened: ${(error as Error).message}`);
  }
  try {
    // First, before any read or pragma: with another process writing (an import, a training run), every
    // statement below waits for its lock instead of failing at once with "database is locked".
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!options.create) refuseIfNotOurs(db, file);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, file, options.targetVersion);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof AppError) throw error;
    if (isDatabaseBusy(error)) throw busyProjectError(file);
    throw describeSystemError(error, file) ?? new AppError('bad_project', `${file} cannot be opened: ${(error as Error).message}`);
  }
}
