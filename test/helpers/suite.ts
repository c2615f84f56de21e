/** Per-describe set-up that puts everything back: a temporary folder, environment variables. */
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from './temp';

/** A fresh temporary folder for the enclosing describe (made in beforeAll, removed in afterAll); `dir` is read in tests and hooks. */
export function useTempDir(prefix?: string): { readonly dir: string } {
  let tmp: ReturnType<typeof tempDir> | undefined;
  beforeAll(() => {
    tmp = tempDir(prefix);
  });
  afterAll(() => tmp?.cleanup());
  return {
    get dir() {
      if (!tmp) throw new Error('useTempDir: the folder is made in beforeAll');
      return tmp.dir;
    }
  };
}

/**
 * Environment variables for the enclosing describe (undefined removes one): set in beforeAll (before
 * the hooks registered after this call), the values before put back in afterAll.
 */
export function useEnv(vars: Record<string, string | undefined>): void {
  const saved = new Map<string, string | undefined>();
  beforeAll(() => {
    for (const [name, value] of Object.entries(vars)) {
      saved.set(name, process.env[name]);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
