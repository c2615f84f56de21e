import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src-main/contract/dispatch';
import { AppServices } from '../../../src-main/services/app-services';
import { tempDir } from '../../helpers/temp';

// Creating a project in a folder that does not exist asks first: the service refuses without createFolder.
let tmp: ReturnType<typeof tempDir>;
let services: AppServices;
let savedEnv: string | undefined;

beforeEach(() => {
  tmp = tempDir('mocoop-create-folder-');
  savedEnv = process.env.MOCOOP_PROJECTS_DIR;
  process.env.MOCOOP_PROJECTS_DIR = path.join(tmp.dir, 'default-projects');
  services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: 't' });
});
afterEach(() => {
  services.dispose();
  if (savedEnv === undefined) delete process.env.MOCOOP_PROJECTS_DIR;
  else process.env.MOCOOP_PROJECTS_DIR = savedEnv;
  tmp.cleanup();
});

const call = async (name: string, input: unknown) => dispatch(services.handlers(), name, input, () => {});

describe('project.create in a folder that does not exist', () => {
  it('checkLocation says the folder is missing and needs a yes; create without createFolder is refused in words and writes nothing', async () => {
    const folder = path.join(tmp.dir, 'new', 'deeper');
    const check = await call('project.checkLocation', { path: path.join(folder, 'Leaves') });
    expect(check).toEqual({
      ok: true,
      value: { file: path.join(folder, 'Leaves.mocoop'), folder, folderExists: false, fileExists: false, confirmFolder: true }
    });
    const refused = await call('project.create', { path: path.join(folder, 'Leaves.mocoop'), name: 'Leaves' });
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: `The folder ${folder} does not exist; no project was created. Choose an existing folder, or confirm that ${folder} should be created.`
      }
    });
    expect(fs.existsSync(path.join(tmp.dir, 'new'))).toBe(false);
    expect(services.openProject).toBeNull();
  });

  it('with createFolder the folder is made and the project created there', async () => {
    const folder = path.join(tmp.dir, 'made');
    const created = await call('project.create', { path: path.join(folder, 'p.mocoop'), name: 'P', createFolder: true });
    expect(created.ok).toBe(true);
    expect(fs.existsSync(path.join(folder, 'p.mocoop'))).toBe(true);
    const check = await call('project.checkLocation', { path: path.join(folder, 'p.mocoop') });
    expect(check).toMatchObject({ ok: true, value: { folderExists: true, fileExists: true, confirmFolder: false } });
  });

  it("an existing folder needs no yes; the default projects folder is the app's own and is made without asking", async () => {
    expect((await call('project.create', { path: path.join(tmp.dir, 'here.mocoop') })).ok).toBe(true);
    const inDefault = path.join(process.env.MOCOOP_PROJECTS_DIR!, 'first.mocoop');
    expect(await call('project.checkLocation', { path: inDefault })).toMatchObject({ ok: true, value: { folderExists: false, confirmFolder: false } });
    expect((await call('project.create', { path: inDefault })).ok).toBe(true);
    expect(fs.existsSync(inDefault)).toBe(true);
  });

  it('a missing folder under a file or a system folder is refused even with createFolder', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'afile'), 'x');
    const underFile = await call('project.create', { path: path.join(tmp.dir, 'afile', 'sub', 'p.mocoop'), createFolder: true });
    expect(underFile).toMatchObject({ ok: false, error: { message: expect.stringMatching(/is a file, not a folder/) } });
    const system = await call('project.create', { path: '/proc/mocoop-test/p.mocoop', createFolder: true });
    expect(system).toMatchObject({ ok: false, error: { message: expect.stringMatching(/system folder/) } });
  });
});
