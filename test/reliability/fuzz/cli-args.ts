/**
 * Generated command lines for the headless CLI: known commands with unknown, repeated, valueless or
 * malformed options and odd values (paths that do not exist or are folders, numbers out of range,
 * text where numbers go). Only commands that end quickly are generated (train only to resume or rerun
 * a run that does not exist, or with a value it must refuse before training). Shared with the bench.
 */
import type { Rng } from './prng';

export interface CliArgsCase {
  kind: 'cli';
  name: string;
  argv: string[];
}

export interface CliWorld {
  project: string;
  model: string;
  missing: string;
  folder: string;
  file: string;
}

const ODD_VALUES = (w: CliWorld) => [
  '',
  ' ',
  '-1',
  '0',
  '1e309',
  'NaN',
  'abc',
  '--json',
  '=',
  '💥',
  'x'.repeat(5000),
  w.missing,
  w.folder,
  w.file,
  '/dev/null',
  '..',
  '.'
];

const BAD_NUMBERS = ['-1', '0', 'abc', 'NaN', '1e309', '1.5.2', '', '99999999999999999999', '0x10'];
/** Values no training option accepts (a value one does accept would start a long training run). */
const NEVER_NUMBERS = ['abc', 'NaN', '1e309', '1.5.2', 'Infinity'];

export function cliArgsCase(seed: number, index: number, rng: Rng, w: CliWorld): CliArgsCase {
  const odd = () => rng.pick(ODD_VALUES(w));
  const maybe = (p: number, ...args: string[]) => (rng.chance(p) ? args : []);
  const junkFlag = () =>
    rng.pick(['--no-such-flag', '--', '---', '--=x', '--json=maybe', `--${rng.text(rng.int(1, 12), 'abcdefghij-_')}`, '-j', '--JSON', '--help']);
  const forms: (() => string[])[] = [
    () => ['info', rng.pick([w.project, w.missing, w.folder, w.file, '/dev/null']), ...maybe(0.5, '--json'), ...maybe(0.4, junkFlag())],
    () => [
      'import',
      w.project,
      rng.pick(['--folder', '--csv', '--coop-split', '--files']),
      odd(),
      ...maybe(0.3, '--image-root', odd()),
      ...maybe(0.3, junkFlag()),
      '--json'
    ],
    () => ['import', w.project, '--folder', w.folder, '--csv', w.file],
    () => ['fewshot', w.project, '--k', rng.pick(BAD_NUMBERS), '--seed', rng.pick(['1', ...BAD_NUMBERS]), ...maybe(0.5, '--base-new'), '--json'],
    () => ['templates', w.project, rng.pick(['--import', '--export']), ...maybe(0.7, odd()), ...maybe(0.3, junkFlag())],
    () => ['runs', rng.pick([w.project, w.missing, w.folder]), ...maybe(0.5, '--json'), ...maybe(0.4, junkFlag())],
    () => [
      rng.pick(['eval', 'report', 'export']),
      w.project,
      '--run',
      rng.pick(['nope', '', 'x'.repeat(300), '../../etc']),
      ...maybe(0.5, '--out', odd()),
      '--json'
    ],
    () => ['import-experts', w.project, '--from', odd(), '--json'],
    () => ['train', w.project, rng.pick(['--resume', '--rerun']), rng.pick(['nope', '', "run'; DROP TABLE runs;--"]), '--json'],
    () => [
      'train',
      w.project,
      '--model',
      w.model,
      rng.pick(['--epochs', '--batch-size', '--lr', '--k-experts', '--seed', '--aug-views', '--tau-ce', '--lambda1']),
      rng.pick(NEVER_NUMBERS),
      '--json'
    ],
    () => ['train', w.project, '--model', rng.pick([w.missing, w.folder, w.file, 'no-such-model-id']), '--json'],
    () => ['train', w.project, '--model', w.model, '--method', rng.pick(['nope', 'mocoop-but-not']), '--json'],
    () => ['tokenize', '--model', rng.pick([w.model, w.missing, w.folder, w.file]), ...maybe(0.8, rng.text(rng.int(0, 40))), ...maybe(0.3, junkFlag())],
    () => [
      'project',
      rng.pick(['create', 'delete', '', 'CREATE']),
      ...maybe(0.7, rng.pick([w.folder, w.file, `${w.folder}/new-${index}.mocoop`, '/proc/nope.mocoop'])),
      ...maybe(0.3, '--name', odd())
    ],
    () => ['models', rng.pick(['list', 'import', 'remove', 'download', '']), ...maybe(0.6, odd()), ...maybe(0.5, '--json'), '--endpoint', 'http://127.0.0.1:9'],
    () => ['serve', '--port', rng.pick(['-1', '65536', 'abc', '1.5', '80.5']), '--json'],
    () => [rng.pick(['nope', '', 'INFO', 'help', '--version']), ...maybe(0.5, junkFlag())]
  ];
  const argv = forms[index % forms.length]!();
  return {
    kind: 'cli',
    name: `#${index} (seed ${seed}): mocoop ${argv
      .map((a) => (a.length > 40 ? `${a.slice(0, 40)}…` : a))
      .map((a) => (/^[\w./=-]+$/.test(a) ? a : JSON.stringify(a)))
      .join(' ')}`,
    argv
  };
}
