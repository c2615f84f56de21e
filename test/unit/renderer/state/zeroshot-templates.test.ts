import { beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  api: {
    templates: { library: vi.fn(), groups: vi.fn() },
    zeroshot: { run: vi.fn(), cancel: vi.fn() }
  }
}));
vi.mock('../../../../src-renderer/src/lib/bridge', () => ({
  api: fake.api,
  bridge: { transport: 'web', api: fake.api, on: () => () => {}, mediaUrl: () => '' },
  RequestError: Error
}));

const { zeroShotState: zs } = await import('../../../../src-renderer/src/state/zeroshot.svelte');
const library = { sets: [{ id: 'imagenet-7', name: 'ImageNet (7)', templates: ['itap of a {}.', 'art of the {}.'] }] };
const group = (id: number, name: string, templates: string[]) => ({ id, name, templates });

beforeEach(() => {
  vi.clearAllMocks();
  fake.api.templates.library.mockResolvedValue(library);
});

describe("the zero-shot page's template choices", () => {
  it("offers the project's groups besides the library: one group, or all of them without repeats", async () => {
    fake.api.templates.groups.mockResolvedValue([
      group(4, 'photos', ['a photo of a {}.', 'art of the {}.']),
      group(5, 'art', ['art of the {}.']),
      group(6, 'empty', [])
    ]);
    await zs.load();
    expect(zs.templatesText).toBe('itap of a {}.\nart of the {}.');
    // A group without templates cannot classify anything: not offered.
    expect(zs.projectGroups.map((g) => g.name)).toEqual(['photos', 'art']);
    zs.chooseSet('project:5');
    expect(zs.templates).toEqual(['art of the {}.']);
    zs.chooseSet('project:all');
    expect(zs.templates).toEqual(['a photo of a {}.', 'art of the {}.']);
    zs.chooseSet('imagenet-7');
    expect(zs.templates).toEqual(['itap of a {}.', 'art of the {}.']);
  });

  it('reads the groups again on every visit, and a chosen group that is gone falls back to the library', async () => {
    fake.api.templates.groups.mockResolvedValue([group(4, 'photos', ['a photo of a {}.'])]);
    await zs.load();
    zs.chooseSet('project:4');
    expect(zs.templates).toEqual(['a photo of a {}.']);
    fake.api.templates.groups.mockResolvedValue([group(7, 'renamed', ['a bright photo of a {}.'])]);
    await zs.load();
    expect(fake.api.templates.library).toHaveBeenCalledTimes(0);
    expect(zs.projectGroups.map((g) => g.id)).toEqual([7]);
    expect(zs.setId).toBe('imagenet-7');
    expect(zs.templates).toEqual(['itap of a {}.', 'art of the {}.']);
  });

  it('still offers the library when the groups cannot be read (no project open)', async () => {
    fake.api.templates.groups.mockRejectedValue(new Error('No project is open.'));
    await zs.load();
    expect(zs.projectGroups).toEqual([]);
    expect(zs.library?.sets).toHaveLength(1);
  });
});
