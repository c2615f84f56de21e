import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Envelope, type RequestName, requestNames, requests } from '../../src-main/contract';
import { RequestError, createDomainApi } from '../../src-main/contract/client';
import { type Handlers, dispatch } from '../../src-main/contract/dispatch';
import { AppError } from '../../src-main/contract/errors';
import { AppServices } from '../../src-main/services/app-services';
import { tempDir } from '../helpers/temp';

/** Handlers where every request fails loudly unless a test overrides it. */
function handlers(overrides: Partial<Record<RequestName, (input: never) => unknown>> = {}): Handlers {
  const all: Record<string, (input: unknown) => unknown> = {};
  for (const name of requestNames) {
    all[name] = () => {
      throw new Error(`handler ${name} should not have been called`);
    };
  }
  return { ...all, ...overrides } as unknown as Handlers;
}

const quiet = () => {};

const errorOf = (envelope: Envelope<unknown>) => {
  expect(envelope.ok).toBe(false);
  if (envelope.ok) throw new Error('expected an error envelope');
  return envelope.error;
};

describe('dispatch', () => {
  it('answers an unknown request name with not_found', async () => {
    const h = handlers();
    expect(errorOf(await dispatch(h, 'project.explode', {}, quiet))).toEqual({ code: 'not_found', message: 'Unknown request "project.explode".' });
    expect(errorOf(await dispatch(h, 42, {}, quiet)).code).toBe('not_found');
    // Names inherited from Object.prototype are not requests either.
    expect(errorOf(await dispatch(h, 'toString', undefined, quiet)).code).toBe('not_found');
    expect(errorOf(await dispatch(h, '__proto__', undefined, quiet)).code).toBe('not_found');
  });

  it('rejects invalid input with invalid_input naming the field, without calling the handler', async () => {
    const assign = vi.fn(() => ({ canUndo: true, canRedo: false }));
    const create = vi.fn();
    const h = handlers({ 'labels.assign': assign, 'project.create': create });

    const wrongType = errorOf(await dispatch(h, 'labels.assign', { imageIds: ['x'], classId: 1 }, quiet));
    expect(wrongType.code).toBe('invalid_input');
    expect(wrongType.message).toMatch(/^imageIds\.0: /);

    const empty = errorOf(await dispatch(h, 'labels.assign', { imageIds: [], classId: 1 }, quiet));
    expect(empty.code).toBe('invalid_input');
    expect(empty.message).toContain('imageIds');

    const missingField = errorOf(await dispatch(h, 'labels.assign', { imageIds: [1] }, quiet));
    expect(missingField.code).toBe('invalid_input');
    expect(missingField.message).toContain('classId');

    const negative = errorOf(await dispatch(h, 'labels.assign', { imageIds: [1, -3], classId: null }, quiet));
    expect(negative.message).toContain('imageIds.1');

    const noPath = errorOf(await dispatch(h, 'project.create', {}, quiet));
    expect(noPath.code).toBe('invalid_input');
    expect(noPath.message).toMatch(/^path: /);
    const emptyPath = errorOf(await dispatch(h, 'project.create', { path: '' }, quiet));
    expect(emptyPath.message).toBe('path: choose where to save the project');

    const notAnObject = errorOf(await dispatch(h, 'project.create', 'p.mocoop', quiet));
    expect(notAnObject.code).toBe('invalid_input');
    expect(notAnObject.message).toContain('project.create');

    const nested = errorOf(await dispatch(h, 'import.run', { importId: 'i', source: { kind: 'csv' } }, quiet));
    expect(nested.code).toBe('invalid_input');
    expect(nested.message).toContain('source.file');

    const badSplit = errorOf(await dispatch(h, 'labels.setSplit', { imageIds: [1], split: 'holdout' }, quiet));
    expect(badSplit.message).toContain('split');

    expect(errorOf(await dispatch(h, 'app.info', { unexpected: true }, quiet)).code).toBe('invalid_input');
    expect(assign).not.toHaveBeenCalled();
    expect(create).not.toHaveBeenCalled();
  });

  it('passes the parsed (trimmed) input to the handler and returns ok with its value', async () => {
    const create = vi.fn((input: { name: string }) => ({ id: 3, name: input.name, position: 0, imageCount: 0 }));
    const info = vi.fn(() => ({ version: '1.2.3', mode: 'web' as const, platform: 'linux', defaultProjectDir: '/p' }));
    const h = handlers({ 'classes.create': create, 'app.info': info });
    expect(await dispatch(h, 'classes.create', { name: '  tabby cat  ' }, quiet)).toEqual({
      ok: true,
      value: { id: 3, name: 'tabby cat', position: 0, imageCount: 0 }
    });
    expect(create).toHaveBeenCalledWith({ name: 'tabby cat' });
    // Requests without input accept undefined and null (JSON has no undefined).
    expect(await dispatch(h, 'app.info', undefined, quiet)).toEqual({
      ok: true,
      value: { version: '1.2.3', mode: 'web', platform: 'linux', defaultProjectDir: '/p' }
    });
    expect((await dispatch(h, 'app.info', null, quiet)).ok).toBe(true);
    expect(info).toHaveBeenCalledTimes(2);
  });

  it('returns an AppError thrown by a handler (sync or async) as its code and message', async () => {
    const h = handlers({
      'classes.create': () => {
        throw new AppError('conflict', 'A class named "cat" already exists.');
      },
      'project.open': async () => {
        throw new AppError('bad_project', 'x.mocoop is damaged.');
      }
    });
    const log = vi.fn();
    expect(await dispatch(h, 'classes.create', { name: 'cat' }, log)).toEqual({
      ok: false,
      error: { code: 'conflict', message: 'A class named "cat" already exists.' }
    });
    expect(await dispatch(h, 'project.open', { path: 'x.mocoop' }, log)).toEqual({
      ok: false,
      error: { code: 'bad_project', message: 'x.mocoop is damaged.' }
    });
    expect(log).not.toHaveBeenCalled();
  });

  it('turns any other thrown error into internal and logs it', async () => {
    const boom = new Error('disk on fire');
    const h = handlers({
      'classes.list': () => {
        throw boom;
      },
      'labels.history': () => Promise.reject('plain string')
    });
    const log = vi.fn();
    const error = errorOf(await dispatch(h, 'classes.list', undefined, log));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('disk on fire');
    expect(log).toHaveBeenCalledWith(boom);
    const stringError = errorOf(await dispatch(h, 'labels.history', undefined, log));
    expect(stringError.code).toBe('internal');
    expect(stringError.message).toContain('plain string');
  });

  it('never returns output that violates the response schema as ok', async () => {
    const log = vi.fn();
    const h = handlers({
      'classes.create': () => ({ id: 'seven', name: 'cat' }),
      'images.ids': () => ({ ids: [1, 2.5] }),
      'project.close': () => undefined
    });
    const bad = await dispatch(h, 'classes.create', { name: 'cat' }, log);
    expect(bad.ok).toBe(false);
    expect(errorOf(bad).code).toBe('internal');
    expect((await dispatch(h, 'images.ids', { filter: {} }, log)).ok).toBe(false);
    expect((await dispatch(h, 'project.close', undefined, log)).ok).toBe(false);
    expect(log).toHaveBeenCalledTimes(3);
  });

  it('every request has an input and an output schema', () => {
    expect(requestNames.length).toBeGreaterThan(20);
    for (const name of requestNames) {
      expect(requests[name].input, name).toBeDefined();
      expect(typeof requests[name].output.safeParse, name).toBe('function');
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
    }
  });
});

describe('createDomainApi', () => {
  it('builds api.<domain>.<method> for every request name', () => {
    const api = createDomainApi(async () => ({ ok: true, value: null })) as unknown as Record<string, Record<string, unknown>>;
    let methods = 0;
    for (const name of requestNames) {
      const [domain, method] = name.split('.') as [string, string];
      expect(typeof api[domain]?.[method], name).toBe('function');
    }
    for (const domain of Object.values(api)) methods += Object.keys(domain).length;
    expect(methods).toBe(requestNames.length);
    expect(Object.keys(api).sort()).toEqual([...new Set(requestNames.map((n) => n.split('.')[0]))].sort());
  });

  it('sends the request name and input, resolves with the value, and rejects with RequestError on an error envelope', async () => {
    const invoke = vi.fn(async (name: RequestName, input: unknown): Promise<Envelope<unknown>> => {
      if (name === 'project.create') return { ok: true, value: { echoed: input } };
      return { ok: false, error: { code: 'no_project', message: 'No project is open.' } };
    });
    const api = createDomainApi(invoke);
    await expect(api.project.create({ path: '/tmp/a.mocoop' })).resolves.toEqual({ echoed: { path: '/tmp/a.mocoop' } });
    expect(invoke).toHaveBeenLastCalledWith('project.create', { path: '/tmp/a.mocoop' });

    const failure = await api.classes.list().then(
      () => null,
      (e: unknown) => e
    );
    expect(failure).toBeInstanceOf(RequestError);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ name: 'RequestError', code: 'no_project', message: 'No project is open.' });
    expect(invoke).toHaveBeenLastCalledWith('classes.list', undefined);
  });

  describe('end to end over dispatch and AppServices', () => {
    let tmp: ReturnType<typeof tempDir>;
    let services: AppServices;
    beforeEach(() => {
      tmp = tempDir('mocoop-contract-');
      services = new AppServices({ mode: 'web', configDir: path.join(tmp.dir, 'config'), version: '9.9.9' });
    });
    afterEach(() => {
      services.closeProject();
      tmp.cleanup();
    });

    it('creates a project and classes, and reports errors as RequestError codes', async () => {
      const api = createDomainApi((name, input) => dispatch(services.handlers(), name, input, quiet));
      await expect(api.app.info()).resolves.toMatchObject({ version: '9.9.9', mode: 'web' });
      await expect(api.classes.list()).rejects.toMatchObject({ code: 'no_project' });
      await expect(api.project.current()).resolves.toBeNull();

      const summary = await api.project.create({ path: path.join(tmp.dir, 'Flowers'), name: 'My flowers' });
      expect(summary).toMatchObject({ path: path.join(tmp.dir, 'Flowers.mocoop'), name: 'My flowers', imageCount: 0 });
      const rose = await api.classes.create({ name: ' rose ' });
      expect(rose).toMatchObject({ name: 'rose', position: 0, imageCount: 0 });
      await expect(api.classes.create({ name: 'rose' })).rejects.toMatchObject({ name: 'RequestError', code: 'conflict' });
      await expect(api.classes.create({ name: '' })).rejects.toMatchObject({ code: 'invalid_input', message: 'name: a class name cannot be empty' });
      await expect(api.labels.assign({ imageIds: [123], classId: rose.id })).rejects.toMatchObject({ code: 'not_found' });
      await expect(api.project.create({ path: path.join(tmp.dir, 'Flowers.mocoop') })).rejects.toMatchObject({ code: 'conflict' });
      await expect(api.project.recent()).resolves.toEqual([
        expect.objectContaining({ path: path.join(tmp.dir, 'Flowers.mocoop'), name: 'My flowers', exists: true })
      ]);
      await expect(api.project.close()).resolves.toBeNull();
      await expect(api.project.current()).resolves.toBeNull();
    });
  });
});
