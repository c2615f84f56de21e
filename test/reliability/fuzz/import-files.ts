/**
 * Generated import inputs: CSV label files, CoOp/Dassl split JSON and image files, broken in the ways
 * real ones are (wrong columns or types, quoting, binary content, deep nesting, paths that escape or do
 * not exist, truncated or mislabelled images). Shared by the reliability tests and the bench.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ImportSource } from '../../../src-main/contract';
import type { Rng } from './prng';
import { deepArrays, deepObjects } from './model-files';

/** Images the generated files refer to: `known` are already in the project, `fresh` are not (yet). */
export interface ImagePool {
  root: string;
  known: { path: string; label: string }[];
  fresh: string[];
  /** A valid PNG and JPEG to cut and flip. */
  png: Buffer;
  jpeg: Buffer;
}

export interface ImportCase {
  kind: 'csv' | 'split' | 'image';
  name: string;
  /** Writes the case's file(s) into `dir` and returns what to import. */
  write(dir: string): ImportSource;
  mustRefuse: boolean;
  /** A refusal of the whole import must name one of these. */
  names: string[];
}

type Gen = (
  rng: Rng,
  pool: ImagePool
) => { what: string; mustRefuse: boolean; file: string; content: string | Buffer; source: (file: string) => ImportSource; names?: string[] };

const csvLine = (fields: string[]) => fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
// No NUL here: a CSV holding one is refused whole as binary (the binary generator covers that).
const WEIRD_LABELS = [
  '',
  '   ',
  'x'.repeat(201),
  'a\u0007b',
  'tab\there',
  'line\nbreak',
  '=HYPERLINK("http://x")',
  '+1',
  '\u202eevil',
  'caf\u0065\u0301',
  '..',
  '/',
  'ok label',
  '\u{1f600}',
  ' padded '
];
const WEIRD_PATHS = (pool: ImagePool, dir: string) => [
  '../../../../../../../../etc/passwd',
  '/etc/shadow',
  '/dev/zero',
  '/proc/self/status',
  'does/not/exist.jpg',
  '',
  '   ',
  '.',
  '..',
  dir,
  `a\u0001b.jpg`,
  'x'.repeat(5000) + '.jpg',
  '~/photo.jpg',
  'C:\\Windows\\photo.jpg',
  path.relative(dir, pool.fresh[0]!),
  pool.fresh[1]!,
  pool.known[0]!.path,
  `file://${pool.fresh[2]!}`
];

const csvGens: Gen[] = [
  (rng, pool) => {
    const pathCol = rng.pick(['path', 'file', 'filename', 'image', 'PATH', ' File_Name ']);
    const labelCol = rng.pick(['label', 'class', 'category', 'Class_Name']);
    const withSplit = rng.chance(0.6);
    const rows = [csvLine([pathCol, labelCol, ...(withSplit ? ['split'] : [])])];
    const picked = [...pool.fresh, ...pool.known.map((k) => k.path)].filter(() => rng.chance(0.4));
    for (const file of picked)
      rows.push(
        csvLine([
          rng.chance(0.5) ? file : path.basename(file),
          rng.pick(['cat', 'dog', 'bird', 'a, "quoted" label']),
          ...(withSplit ? [rng.pick(['train', 'val', 'test', 'TEST', ''])] : [])
        ])
      );
    const eol = rng.pick(['\n', '\r\n']);
    // Basename-only rows are relative to the CSV's folder, where the images are not: skipped by path.
    return {
      what: `${picked.length} rows, columns ${pathCol},${labelCol}${withSplit ? ',split' : ''}`,
      mustRefuse: false,
      file: 'labels.csv',
      content: (rng.chance(0.3) ? '\ufeff' : '') + rows.join(eol) + eol,
      source: (file) => ({ kind: 'csv', file })
    };
  },
  (rng) => {
    const header = rng.pick([
      '',
      'name,value',
      'path',
      'label',
      'image;class',
      'path\tlabel',
      '"path,label"',
      'pth,lable',
      ',,,',
      '\ufeff',
      'path,path',
      'label,label'
    ]);
    const content = header + '\n' + 'a.jpg,cat\n'.repeat(rng.int(0, 3));
    // No header here names both a path and a label column.
    return { what: `header ${JSON.stringify(header)}`, mustRefuse: true, file: 'labels.csv', content, source: (file) => ({ kind: 'csv', file }) };
  },
  (rng, pool) => {
    const dir = path.dirname(pool.fresh[0]!);
    const rows = ['path,label,split'];
    const n = rng.int(1, 8);
    for (let i = 0; i < n; i++) {
      const p = rng.pick(WEIRD_PATHS(pool, dir));
      rows.push(csvLine([p, rng.pick(WEIRD_LABELS), rng.pick(['train', 'val', 'test', 'validation', 'Train ', '', 'x'])]));
    }
    return {
      what: `${n} rows with odd paths, labels and splits`,
      mustRefuse: false,
      file: 'odd.csv',
      content: rows.join('\n'),
      source: (file) => ({ kind: 'csv', file })
    };
  },
  (rng, pool) => {
    const rows = ['path,label,split'];
    for (let i = 0; i < rng.int(2, 6); i++) {
      const fields = [pool.fresh[rng.int(0, pool.fresh.length - 1)]!, 'cat', 'train', 'extra'].slice(0, rng.int(0, 4));
      rows.push(fields.join(','));
    }
    const broken = rng.pick([
      '"unterminated,cat\n',
      'a.jpg,"half"quoted",train\n',
      '"a""b.jpg",cat\n',
      '\r\r\n\n',
      ',,,,,,,,\n',
      '"' + 'x'.repeat(rng.int(1000, 200_000))
    ]);
    return {
      what: `ragged rows and ${JSON.stringify(broken.slice(0, 24))}`,
      mustRefuse: false,
      file: 'ragged.csv',
      content: rows.join('\n') + '\n' + broken,
      source: (file) => ({ kind: 'csv', file })
    };
  },
  (rng, pool) => {
    const content = rng.pick([
      pool.png,
      pool.jpeg.subarray(0, 500),
      rng.bytes(rng.int(1, 3000)),
      Buffer.from('path,label\na.jpg,c\u0000at\n'),
      Buffer.from([0xef, 0xbb, 0xbf, 0xff, 0xfe, 0x2c])
    ]);
    return {
      what: `${content.length} bytes of binary content`,
      mustRefuse: true,
      file: rng.pick(['labels.csv', 'labels.CSV', 'labels']),
      content,
      source: (file) => ({ kind: 'csv', file })
    };
  },
  (rng) => {
    const rows = ['path,label'];
    const n = rng.int(500, 3000);
    for (let i = 0; i < n; i++) rows.push(`missing/${i}_${rng.text(4, 'abc')}.jpg,class_${i % 40}`);
    return { what: `${n} rows of missing files`, mustRefuse: false, file: 'many.csv', content: rows.join('\n'), source: (file) => ({ kind: 'csv', file }) };
  },
  (rng) => {
    const what = rng.pick(['missing', 'folder']);
    return {
      what: `the CSV path is ${what}`,
      mustRefuse: true,
      file: what === 'folder' ? 'as-folder.csv/' : 'present.csv',
      content: 'path,label\n',
      source: (file) => ({ kind: 'csv', file: what === 'missing' ? `${file}.gone.csv` : file })
    };
  }
];

const splitEntry = (rng: Rng, pool: ImagePool): unknown => {
  const rel = path.relative(pool.root, rng.pick(pool.fresh));
  return rng.pick<unknown>([
    [rel, 0, 'cat'],
    [rel, 1, 'dog'],
    [rel, '0', 'cat'],
    [rel, 0.5, 'cat'],
    [rel, -3, 'cat'],
    [rel, 1e300, 'cat'],
    [rel, 0],
    [rel, 0, 'cat', 'extra'],
    [0, rel, 'cat'],
    [rel, 0, ''],
    [rel, 0, 'x'.repeat(300)],
    [rel, 0, 'dog'],
    ['../../../../../etc/passwd', 2, 'passwd'],
    ['/etc/hostname', 3, 'host'],
    ['', 4, 'empty'],
    [rel, 5, 'ctl\u0007char'],
    null,
    'a.jpg',
    {},
    { path: rel, label: 0 },
    [],
    [[rel, 0, 'cat']]
  ]);
};

const splitGens: Gen[] = [
  (rng, pool) => {
    const value: Record<string, unknown[]> = {};
    const classes = ['cat', 'dog', 'bird'];
    for (const split of ['train', 'val', 'test']) {
      if (rng.chance(0.3)) continue;
      value[split] = pool.fresh
        .filter(() => rng.chance(0.3))
        .map((f) => {
          const label = rng.int(0, 2);
          return [path.relative(pool.root, f), label, classes[label]];
        });
    }
    if (!value.train && !value.val && !value.test) value.train = [];
    return {
      what: `valid split (${Object.keys(value).join(', ')})`,
      mustRefuse: false,
      file: 'split_fuzz.json',
      content: JSON.stringify(value, null, rng.int(0, 2)),
      source: (file) => ({ kind: 'coopSplit', file, imageRoot: pool.root })
    };
  },
  (rng, pool) => {
    const n = rng.int(1, 10);
    const value = {
      train: Array.from({ length: n }, () => splitEntry(rng, pool)),
      ...(rng.chance(0.5) ? { test: Array.from({ length: rng.int(1, 4) }, () => splitEntry(rng, pool)) } : {})
    };
    return {
      what: `${JSON.stringify(value).slice(0, 60)}…`,
      mustRefuse: false,
      file: 'split_entries.json',
      content: JSON.stringify(value),
      source: (file) => ({ kind: 'coopSplit', file, imageRoot: pool.root })
    };
  },
  (rng, pool) => {
    const content = rng.pick([
      '[]',
      '{}',
      'null',
      '"train"',
      '42',
      '{"train": "a.jpg"}',
      '{"train": {"0": ["a.jpg", 0, "cat"]}}',
      '{"train": null}',
      '{"TRAIN": []}',
      '{"items": []}',
      '{"train": 5, "test": []}'
    ]);
    return {
      what: `top level ${content}`,
      mustRefuse: true,
      file: 'split_shape.json',
      content,
      source: (file) => ({ kind: 'coopSplit', file, imageRoot: pool.root })
    };
  },
  (rng, pool) => {
    const depth = rng.int(20_000, 200_000);
    const content = rng.pick([
      deepArrays(depth),
      deepObjects(depth),
      `{"train": ${deepArrays(depth)}}`,
      `{"train": [${deepObjects(depth)}]}`,
      `{"train": [["a.jpg", 0, ${deepArrays(depth, '"cat"')}]]}`,
      `{"train": [], "meta": ${deepObjects(depth)}}`
    ]);
    return {
      what: `nested ${depth} deep (${content.slice(0, 20)}…)`,
      mustRefuse: false,
      file: `split_zhou_${depth}.json`,
      content,
      source: (file) => ({ kind: 'coopSplit', file, imageRoot: pool.root })
    };
  },
  (rng, pool) => {
    const valid = JSON.stringify({ train: [[path.relative(pool.root, pool.fresh[0]!), 0, 'cat']] });
    const content = rng.pick([
      valid.slice(0, rng.int(1, valid.length - 1)),
      valid.replace(']]', '],]'),
      valid.replace(',0,', ',NaN,'),
      `// CoOp split\n${valid}`,
      `\ufeff${valid}`,
      valid.replace(/"/g, "'"),
      '',
      rng.bytes(rng.int(1, 400)).toString('latin1')
    ]);
    // A byte order mark before valid JSON may be read as valid; the rest is not JSON.
    return {
      what: `not quite JSON ${JSON.stringify(content.slice(0, 24))}`,
      mustRefuse: !content.startsWith('\ufeff'),
      file: 'split_bad.json',
      content,
      source: (file) => ({ kind: 'coopSplit', file, imageRoot: pool.root })
    };
  },
  (rng, pool) => {
    const which = rng.pick(['missing root', 'root is a file', 'binary split']);
    const valid = JSON.stringify({ train: [[path.relative(pool.root, pool.fresh[0]!), 0, 'cat']] });
    return {
      what: which,
      mustRefuse: true,
      file: 'split_where.json',
      names: which === 'missing root' ? ['no-such-root'] : which === 'root is a file' ? [pool.fresh[0]!] : ['split_where.json'],
      content: which === 'binary split' ? pool.png : valid,
      source: (file) => ({
        kind: 'coopSplit',
        file,
        imageRoot: which === 'missing root' ? path.join(pool.root, 'no-such-root') : which === 'root is a file' ? pool.fresh[0]! : pool.root
      })
    };
  }
];

/** A PNG's IHDR width/height set to w×h, with its CRC fixed so only the size is wrong. */
export function pngWithSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width >>> 0, 16);
  out.writeUInt32BE(height >>> 0, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const imageGens: Gen[] = [
  (rng, pool) => {
    const png = rng.chance(0.5);
    const bytes = png ? pool.png : pool.jpeg;
    const cut = rng.int(1, bytes.length - 2);
    // A JPEG cut late may still decode (libjpeg fills the rest grey, sharp then warns): either outcome, said clearly.
    return {
      what: `${png ? 'PNG' : 'JPEG'} cut to ${cut} of ${bytes.length} bytes`,
      mustRefuse: png || cut < 200,
      file: png ? 'cut.png' : 'cut.jpg',
      content: bytes.subarray(0, cut),
      source: (file) => ({ kind: 'paths', paths: [file] })
    };
  },
  (rng) => ({
    what: 'zero bytes',
    mustRefuse: true,
    file: rng.pick(['empty.jpg', 'empty.png', 'empty.webp']),
    content: Buffer.alloc(0),
    source: (file) => ({ kind: 'paths', paths: [file] })
  }),
  (rng) => {
    const content = rng.bytes(rng.int(1, 20_000));
    return {
      what: `${content.length} random bytes`,
      mustRefuse: true,
      file: rng.pick(['noise.jpg', 'noise.png', 'noise.gif', 'noise.tiff']),
      content,
      source: (file) => ({ kind: 'paths', paths: [file] })
    };
  },
  (rng, pool) => {
    const png = rng.chance(0.5);
    const bytes = Buffer.from(png ? pool.png : pool.jpeg);
    const inHeader = rng.chance(0.5);
    const flips = rng.int(1, 12);
    for (let i = 0; i < flips; i++) bytes[inHeader ? rng.int(0, Math.min(40, bytes.length - 1)) : rng.int(40, bytes.length - 1)]! ^= 1 << rng.int(0, 7);
    return {
      what: `${flips} bit(s) flipped in the ${png ? 'PNG' : 'JPEG'} ${inHeader ? 'header' : 'data'}`,
      mustRefuse: false,
      file: png ? 'flipped.png' : 'flipped.jpg',
      content: bytes,
      source: (file) => ({ kind: 'paths', paths: [file] })
    };
  },
  (rng, pool) => {
    const contents: [string, Buffer, boolean][] = [
      ['PNG', pool.png, false],
      ['JPEG', pool.jpeg, false],
      ['text', Buffer.from('just some notes, not a picture\n'), true],
      ['HTML', Buffer.from('<!doctype html><html><body><img src=x></body></html>'), true],
      ['PDF', Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'), true],
      ['CSV', Buffer.from('path,label\na.jpg,cat\n'), true]
    ];
    const [kind, content, bad] = rng.pick(contents);
    const name = rng.pick(['photo.jpg', 'photo.png', 'photo.gif', 'photo.webp', 'photo.txt', 'photo', 'photo.JPG', 'photo.jpeg.exe', '.hidden.jpg']);
    return { what: `${kind} named ${name}`, mustRefuse: bad, file: name, content, source: (file) => ({ kind: 'paths', paths: [file] }) };
  },
  (rng, pool) => {
    const [w, h] = rng.pick([
      [0, 0],
      [0, 48],
      [100_000, 100_000],
      [2 ** 31 - 1, 2 ** 31 - 1],
      [65_535, 65_535],
      [1, 3_000_000],
      [64, 48_000]
    ]);
    return {
      what: `PNG header claiming ${w}×${h}`,
      mustRefuse: true,
      file: 'huge.png',
      content: pngWithSize(pool.png, w, h),
      source: (file) => ({ kind: 'paths', paths: [file] })
    };
  },
  (rng) => {
    const svg = rng.pick([
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="red"/></svg>',
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="48"><image xlink:href="file:///etc/passwd" width="64" height="48"/></svg>',
      '<svg xmlns="http://www.w3.org/2000/svg" width="200000" height="200000"><rect width="10" height="10"/></svg>',
      '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]><svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><text>&f;&f;&f;&f;</text></svg>',
      '<svg'
    ]);
    return {
      what: `SVG named .png (${svg.length} chars)`,
      mustRefuse: false,
      file: 'drawing.png',
      content: Buffer.from(svg),
      source: (file) => ({ kind: 'paths', paths: [file] })
    };
  }
];

const KINDS = { csv: csvGens, split: splitGens, image: imageGens } as const;
export type ImportKind = keyof typeof KINDS;
export const IMPORT_KINDS = Object.keys(KINDS) as ImportKind[];

/** Case `index` of `kind` for `seed`: every generator in turn, its parameters drawn from the seeded stream. */
export function importCase(kind: ImportKind, seed: number, index: number, rng: Rng, pool: ImagePool): ImportCase {
  const gens = KINDS[kind];
  const made = gens[index % gens.length]!(rng, pool);
  return {
    kind,
    name: `#${index} (seed ${seed}): ${made.what}`,
    mustRefuse: made.mustRefuse,
    names: made.names ?? [made.file.replace(/\/$/, '')],
    write: (dir) => {
      fs.mkdirSync(dir, { recursive: true });
      const target = path.join(dir, made.file);
      if (made.file.endsWith('/')) fs.mkdirSync(target, { recursive: true });
      else fs.writeFileSync(target, made.content);
      return made.source(target.replace(/\/$/, ''));
    }
  };
}
