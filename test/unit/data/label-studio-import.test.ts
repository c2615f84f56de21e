import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelOfTask, parseLabelStudioExport, resolveLabelStudioImage } from '../../../src-main/data/label-studio-import';

const opts = { imageRoot: '/srv/ls-media', rootGiven: true, file: '/x/export.json' };
const choice = (c: string[], extra: Record<string, unknown> = {}) => ({
  result: [{ from_name: 'choice', to_name: 'image', type: 'choices', value: { choices: c } }],
  ...extra
});

describe('Label Studio JSON import (parsing)', () => {
  it('reads local-files, upload, file:// and absolute paths; web and cloud addresses are skipped in words', () => {
    expect(resolveLabelStudioImage('/data/local-files/?d=flowers/rose%201.jpg', '/root')).toEqual({ path: '/root/flowers/rose 1.jpg' });
    expect(resolveLabelStudioImage('/data/upload/3/ab12cd-rose.jpg', '/media')).toEqual({ path: '/media/upload/3/ab12cd-rose.jpg' });
    expect(resolveLabelStudioImage('file:///data/a%20b.png', '/r')).toEqual({ path: '/data/a b.png' });
    expect(resolveLabelStudioImage('/abs/c.jpg', '/r')).toEqual({ path: '/abs/c.jpg' });
    expect(resolveLabelStudioImage('rel/d.jpg', '/r')).toEqual({ path: '/r/rel/d.jpg' });
    expect(resolveLabelStudioImage('https://example.com/e.jpg', '/r')).toEqual({ problem: expect.stringMatching(/web or cloud address/) });
    expect(resolveLabelStudioImage('s3://bucket/e.jpg', '/r')).toEqual({ problem: expect.stringMatching(/web or cloud address/) });
    expect(resolveLabelStudioImage('/data/local-files/?d=', '/r')).toEqual({ problem: expect.stringMatching(/names no file/) });
  });

  it('the class is the latest annotation that was not cancelled; several choices are refused; none is unlabeled', () => {
    expect(labelOfTask({ annotations: [choice(['cat'])] })).toEqual({ label: 'cat' });
    expect(labelOfTask({ annotations: [] })).toEqual({ label: null });
    expect(labelOfTask({})).toEqual({ label: null });
    expect(labelOfTask({ annotations: [choice(['dog'], { was_cancelled: true }), choice(['cat'])] })).toEqual({ label: 'cat' });
    expect(
      labelOfTask({ annotations: [choice(['new'], { updated_at: '2024-05-02T10:00:00Z' }), choice(['old'], { updated_at: '2024-05-01T10:00:00Z' })] })
    ).toEqual({ label: 'new' });
    expect(labelOfTask({ annotations: [choice(['cat', 'dog'])] })).toEqual({ problem: expect.stringMatching(/chooses 2 classes \("cat", "dog"\)/) });
    expect(labelOfTask({ annotations: [choice([' Cat '])] })).toEqual({ label: 'Cat' });
  });

  it('tasks become entries in order; broken tasks are listed with the task id; a non-list is refused', () => {
    const { entries, skipped } = parseLabelStudioExport(
      [
        { id: 1, data: { image: '/data/local-files/?d=a/1.jpg' }, annotations: [choice(['a'])] },
        { id: 2, data: { img: '/data/upload/1/x-2.png' }, annotations: [] },
        { id: 3, data: { image: 'https://x.org/3.jpg' } },
        { id: 4, data: { text: 'no image' } },
        'not a task',
        { id: 6, data: { image: 'b/6.jpg', split: 'test' }, annotations: [choice(['b'])] },
        { id: 7, data: { image: 'c.jpg' }, annotations: [choice(['x', 'y'])] }
      ],
      opts
    );
    expect(entries).toEqual([
      { path: '/srv/ls-media/a/1.jpg', label: 'a', split: 'train', where: '/x/export.json task 1' },
      { path: '/srv/ls-media/upload/1/x-2.png', label: null, split: 'train', where: '/x/export.json task 2' },
      { path: '/srv/ls-media/b/6.jpg', label: 'b', split: 'test', where: '/x/export.json task 6' }
    ]);
    expect(skipped.map((s) => s.path)).toEqual(['/x/export.json task 3', '/x/export.json task 4', '/x/export.json task #5', '/srv/ls-media/c.jpg']);
    expect(skipped[1]!.reason).toMatch(/names no image/);
    expect(() => parseLabelStudioExport({ tasks: [] }, opts)).toThrow(/not a Label Studio JSON export: expected a list of tasks/);
  });

  it("this app's own exports carry full paths (data.path), used unless an image root is given", () => {
    const task = {
      id: 1,
      data: { image: '/data/local-files/?d=cat/1.jpg', path: path.join('/orig', 'cat', '1.jpg'), split: 'val' },
      annotations: [choice(['cat'])]
    };
    expect(parseLabelStudioExport([task], { ...opts, rootGiven: false }).entries[0]).toMatchObject({ path: '/orig/cat/1.jpg', split: 'val' });
    expect(parseLabelStudioExport([task], opts).entries[0]).toMatchObject({ path: '/srv/ls-media/cat/1.jpg' });
  });
});
