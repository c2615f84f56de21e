/**
 * Generated template files for `mocoop templates <project> --import FILE`: {"groups": [{"name",
 * "templates": [...]}]} with wrong types, missing or doubled {}, over the app's limits (count and length),
 * nested deeply, or not JSON. Shared by the reliability tests and the bench.
 */
import type { Rng } from './prng';
import { deepArrays, deepObjects } from './model-files';

export interface TemplatesCase {
  kind: 'templates';
  name: string;
  /** The file's content, or null for a file that is not there (a folder is given instead when 'folder'). */
  content: string | Buffer | null | 'folder';
  mustRefuse: boolean;
}

const GOOD = ['a photo of a {}.', 'a blurry photo of the {}.', 'art of a {}', '{}', 'itap of a {}.', 'a photo of my {}, a type of pet.'];

type Gen = (rng: Rng) => { what: string; content: TemplatesCase['content']; mustRefuse: boolean };

const group = (rng: Rng, n = rng.int(1, 4)) => ({
  name: rng.pick(['photo', 'art', 'Sketches', 'grupo ñ', '写真']) + rng.int(0, 99),
  templates: Array.from({ length: n }, () => rng.pick(GOOD))
});

const gens: Gen[] = [
  (rng) => {
    const groups = Array.from({ length: rng.int(1, 5) }, () => group(rng));
    return {
      what: `${groups.length} valid group(s)`,
      content: (rng.chance(0.3) ? '\ufeff' : '') + JSON.stringify({ groups }, null, rng.int(0, 2)),
      mustRefuse: false
    };
  },
  (rng) => {
    const content = rng.pick([
      '[]',
      'null',
      '"groups"',
      '{}',
      '{"groups": "photo"}',
      '{"groups": {}}',
      '{"group": []}',
      '{"groups": [null]}',
      '{"groups": [[]]}',
      '{"groups": [{"name": "x"}]}',
      '{"groups": [{"templates": ["a {}"]}]}',
      '{"groups": [{"name": 5, "templates": ["a {}"]}]}',
      '{"groups": [{"name": "x", "templates": "a {}"}]}',
      '{"groups": [{"name": "x", "templates": [5]}]}',
      '{"groups": [{"name": "x", "templates": [null]}]}'
    ]);
    return { what: `shape ${content}`, content, mustRefuse: true };
  },
  (rng) => {
    const bad = rng.pick(['a photo of a cat.', 'a {} of a {}.', '', '   ', 'x'.repeat(501) + '{}', '{ }', '{}{}']);
    const groups = [group(rng), { name: 'bad', templates: [...group(rng).templates, bad] }];
    return { what: `template ${JSON.stringify(bad.slice(0, 20))}`, content: JSON.stringify({ groups }), mustRefuse: true };
  },
  (rng) => {
    const odd = rng.pick([
      'a photo of a {}.\u0000',
      'une photo d\u2019un {}.',
      '\u202e{} a of photo',
      'a\tphoto\nof {}',
      '😀 {} 😀',
      '<script>{}</script>',
      '=cmd|{}',
      '  padded {}  '
    ]);
    return {
      what: `unusual but valid template ${JSON.stringify(odd)}`,
      content: JSON.stringify({ groups: [{ name: 'odd', templates: [odd] }] }),
      mustRefuse: false
    };
  },
  (rng) => {
    const which = rng.int(0, 3);
    const groups =
      which === 0
        ? Array.from({ length: 101 }, (_, i) => ({ name: `g${i}`, templates: ['a {}'] }))
        : which === 1
          ? [{ name: 'many', templates: Array.from({ length: 201 }, (_, i) => `photo ${i} of a {}`) }]
          : which === 2
            ? [{ name: 'huge', templates: Array.from({ length: 10_000 }, (_, i) => `photo ${i} of a {}`) }]
            : [{ name: 'n'.repeat(201), templates: ['a {}'] }];
    return {
      what: ['101 groups', '201 templates in a group', '10,000 templates', 'a 201-character group name'][which]!,
      content: JSON.stringify({ groups }),
      mustRefuse: true
    };
  },
  (rng) => {
    const depth = rng.int(20_000, 200_000);
    const content = rng.pick([
      deepArrays(depth),
      deepObjects(depth),
      `{"groups": ${deepArrays(depth)}}`,
      `{"groups": [{"name": "x", "templates": ${deepArrays(depth, '"a {}"')}}]}`,
      `{"groups": [${deepObjects(depth)}]}`
    ]);
    return { what: `nested ${depth} deep (${content.slice(0, 24)}…)`, content, mustRefuse: true };
  },
  (rng) => {
    const valid = JSON.stringify({ groups: [group(rng)] });
    const content = rng.pick<TemplatesCase['content']>([
      valid.slice(0, rng.int(1, valid.length - 1)),
      `${valid},`,
      valid.replace(/"/g, "'"),
      '',
      rng.bytes(rng.int(1, 300)),
      null,
      'folder'
    ]);
    return { what: content === null ? 'no such file' : content === 'folder' ? 'a folder' : `not JSON (${content.length} bytes)`, content, mustRefuse: true };
  }
];

export function templatesCase(seed: number, index: number, rng: Rng): TemplatesCase {
  const made = gens[index % gens.length]!(rng);
  return { kind: 'templates', name: `#${index} (seed ${seed}): ${made.what}`, content: made.content, mustRefuse: made.mustRefuse };
}
