import { describe, expect, it } from 'vitest';
import { commonRoot, csvCell, labelStudioConfig, toCoopSplit, toCsv, toLabelStudio } from '../../../src-main/data/label-export';

const rows = [
  { id: 1, path: '/data/pets/cat/001.jpg', label: 'cat', split: 'train' as const, width: 32, height: 32 },
  { id: 2, path: '/data/pets/dog/a, b.jpg', label: 'dog', split: 'test' as const },
  { id: 3, path: '/data/pets/new/x.jpg', label: null, split: 'train' as const },
  { id: 4, path: '/data/pets/evil/=cmd.jpg', label: '=HYPERLINK("http://x")', split: 'val' as const }
];

describe('label export', () => {
  it('neutralises every CSV cell that starts with = + - @ (and tab or CR) with a leading apostrophe, and quotes per RFC 4180', () => {
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+33')).toBe('+33');
    expect(csvCell('+33 1 23')).toBe("'+33 1 23");
    expect(csvCell('-x')).toBe("'-x");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=A1,"b"')).toBe(`"'=A1,""b"""`);
  });

  it('CSV: path,label,split with an empty label for unlabeled images', () => {
    const csv = toCsv(rows);
    expect(csv.split('\r\n')).toEqual([
      'path,label,split',
      '/data/pets/cat/001.jpg,cat,train',
      '"/data/pets/dog/a, b.jpg",dog,test',
      '/data/pets/new/x.jpg,,train',
      `/data/pets/evil/=cmd.jpg,"'=HYPERLINK(""http://x"")",val`,
      ''
    ]);
  });

  it('CoOp split: paths relative to the common image root, label indices in class order, unlabeled left out', () => {
    const { json, imageRoot, left } = toCoopSplit(rows, [{ name: 'dog' }, { name: 'cat' }, { name: '=HYPERLINK("http://x")' }]);
    expect(imageRoot).toBe('/data/pets');
    expect(left).toBe(1);
    expect(JSON.parse(json)).toEqual({
      train: [['cat/001.jpg', 1, 'cat']],
      val: [['evil/=cmd.jpg', 2, '=HYPERLINK("http://x")']],
      test: [['dog/a, b.jpg', 0, 'dog']]
    });
  });

  it('Label Studio: one task per image, a choices annotation for labeled ones, local-files URLs under the image root', () => {
    const { json, imageRoot } = toLabelStudio(rows);
    expect(imageRoot).toBe('/data/pets');
    const tasks = JSON.parse(json);
    expect(tasks).toHaveLength(4);
    expect(tasks[0]).toEqual({
      id: 1,
      data: { image: '/data/local-files/?d=cat/001.jpg', path: '/data/pets/cat/001.jpg', split: 'train' },
      annotations: [
        { result: [{ from_name: 'choice', to_name: 'image', type: 'choices', original_width: 32, original_height: 32, value: { choices: ['cat'] } }] }
      ]
    });
    expect(tasks[1].data.image).toBe('/data/local-files/?d=dog/a%2C%20b.jpg');
    expect(tasks[2].annotations).toEqual([]);
    expect(labelStudioConfig([{ name: 'a"b' }])).toContain('<Choice value="a&quot;b"/>');
  });

  it('the common root of paths', () => {
    expect(commonRoot(['/a/b/c.jpg', '/a/b/d/e.jpg'])).toBe('/a/b');
    expect(commonRoot(['/a/x.jpg', '/b/y.jpg'])).toBe('/');
    expect(commonRoot([])).toBe('');
  });
});
