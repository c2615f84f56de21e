/**
 * Generated broken CLIP model folders: model.safetensors (truncated, bad header length, header JSON
 * garbage, wrong dtype, offsets out of range or overlapping, shape/size mismatch, NaN/Inf), config.json
 * (missing, wrong or inconsistent fields, not JSON), vocab.json and merges.txt (ids out of range or
 * duplicated, missing symbols, malformed lines). Each case is one file of the tiny CLIP fixture changed;
 * the other files stay the fixture's. Shared by the reliability tests and the bench's reliability line.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Rng } from './prng';
import { TINY_CLIP } from '../../helpers/fixtures';

export const FIXTURE = TINY_CLIP;

export type ModelFile = 'model.safetensors' | 'config.json' | 'vocab.json' | 'merges.txt';
export const MODEL_FILES: readonly ModelFile[] = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];

/** The fixture's four files, parsed once; the tokenizer files cut to their first merges (a valid, smaller CLIP vocabulary). */
export interface BaseModel {
  dir: string;
  config: Record<string, any>;
  weights: { header: Record<string, any>; data: Buffer };
  vocab: Record<string, number>;
  /** merges.txt lines, the `#version` line first. */
  merges: string[];
}

/** How many of the fixture's BPE merges the base keeps: a complete vocabulary of its own that loads in milliseconds. */
const KEPT_MERGES = 3000;

export function buildBaseModel(dir: string): BaseModel {
  fs.mkdirSync(dir, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'config.json'), 'utf8'));
  const bytes = fs.readFileSync(path.join(FIXTURE, 'model.safetensors'));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const data = Buffer.from(bytes.subarray(8 + headerLength));
  const fullVocab: Record<string, number> = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'vocab.json'), 'utf8'));
  const allMerges = fs.readFileSync(path.join(FIXTURE, 'merges.txt'), 'utf8').split('\n');
  // CLIP's ids: 256 byte symbols, the same with </w>, then one per merge in order, then the two special tokens.
  const limit = 512 + KEPT_MERGES;
  const vocab = Object.fromEntries(Object.entries(fullVocab).filter(([token, id]) => id < limit || token.startsWith('<|')));
  const merges = allMerges.slice(0, 1 + KEPT_MERGES);
  const base: BaseModel = { dir, config, weights: { header, data }, vocab, merges };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), packSafetensors(header, data));
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  fs.writeFileSync(path.join(dir, 'merges.txt'), merges.join('\n') + '\n');
  return base;
}

/** A safetensors file from a header object (written as given) and a data section. */
export function packSafetensors(header: unknown, data: Buffer, headerText = JSON.stringify(header)): Buffer {
  let json = Buffer.from(headerText, 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

/** Content that makes the file a named pipe (reading one waits for a writer forever). */
export const FIFO = Symbol('a named pipe');

export interface ModelCase {
  kind: 'safetensors' | 'config' | 'vocab' | 'merges';
  name: string;
  /** The changed file and its new content (null: the file is removed; FIFO: a named pipe in its place). */
  file: ModelFile;
  content: Buffer | string | null | typeof FIFO;
  /** True when no correct loader may accept it (bad data, not merely unusual data). */
  mustRefuse: boolean;
  /** A refusal must name one of these (the file, or for cross-file problems the other file). */
  names: string[];
}

type Mutation<T> = (rng: Rng, base: BaseModel) => { what: string; content: T | null | typeof FIFO; mustRefuse: boolean; names?: string[] };

const asPipe: Mutation<never> = () => ({ what: 'a named pipe (FIFO) in its place', content: FIFO, mustRefuse: true });

const clone = <T>(value: T): T => structuredClone(value);
const tensorNames = (base: BaseModel) => Object.keys(base.weights.header).filter((n) => n !== '__metadata__');
const f32Tensors = (base: BaseModel) => tensorNames(base).filter((n) => base.weights.header[n].shape.length > 0);
/** Nested arrays `depth` deep, as text (JSON.stringify of such a value overflows the stack). */
export const deepArrays = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
export const deepObjects = (depth: number, inner = '1') => `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;

const WRONG_VALUES: readonly unknown[] = ['32', -1, 0, 1.5, null, [], {}, true, 1e308, 2 ** 53 + 2, 'NaN', ''];

const safetensorsMutations: Mutation<Buffer>[] = [
  (rng, base) => {
    const full = packSafetensors(base.weights.header, base.weights.data);
    const headerEnd = 8 + full.readUInt32LE(0);
    const cut = rng.pick([rng.int(0, 7), rng.int(8, headerEnd - 1), rng.int(headerEnd, full.length - 1)]);
    return { what: `truncated to ${cut} of ${full.length} bytes`, content: full.subarray(0, cut), mustRefuse: true };
  },
  (rng, base) => {
    const full = Buffer.from(packSafetensors(base.weights.header, base.weights.data));
    const actual = full.readUInt32LE(0);
    const value = rng.pick([
      0n,
      1n,
      BigInt(actual - rng.int(1, 50)),
      BigInt(actual + rng.int(1, 9)),
      BigInt(full.length + rng.int(0, 100)),
      2n ** 63n + 5n,
      0xffffffffffffffffn,
      2n ** 27n
    ]);
    full.writeBigUInt64LE(value, 0);
    return { what: `header length ${value} (actual ${actual})`, content: full, mustRefuse: true };
  },
  (rng, base) => {
    const full = Buffer.from(packSafetensors(base.weights.header, base.weights.data));
    const headerEnd = 8 + full.readUInt32LE(0);
    const flips = rng.int(1, 6);
    for (let i = 0; i < flips; i++) full[rng.int(8, headerEnd - 1)] = rng.pick([0x00, 0x22, 0x7b, 0x7d, 0x5b, 0x2c, 0xff, 0xc3, rng.int(0, 255)]);
    // A flip may leave the JSON valid (a changed letter in a name): then a tensor is missing or renamed.
    return { what: `${flips} header byte(s) changed`, content: full, mustRefuse: false };
  },
  (rng, base) => {
    const text = rng.pick([
      '[]',
      '42',
      '"weights"',
      'null',
      'true',
      deepArrays(rng.int(5_000, 60_000)),
      deepObjects(rng.int(5_000, 60_000)),
      `{"a": ${deepArrays(50_000)}}`,
      '{}',
      '{"__metadata__": {"format": "pt"}}'
    ]);
    return {
      what: `header ${text.length > 30 ? `${text.slice(0, 30)}… (${text.length} chars)` : text}`,
      content: packSafetensors(null, base.weights.data, text),
      mustRefuse: true
    };
  },
  (rng, base) => {
    const header = clone(base.weights.header);
    const name = rng.pick(tensorNames(base));
    header[name].dtype = rng.pick(['F64', 'I32', 'I64', 'U8', 'BOOL', 'Q4_0', '', 'f32', 'float32', 7, null, ['F32']]);
    return { what: `tensor ${name} dtype ${JSON.stringify(header[name].dtype)}`, content: packSafetensors(header, base.weights.data), mustRefuse: true };
  },
  (rng, base) => {
    const header = clone(base.weights.header);
    const name = rng.pick(tensorNames(base));
    const [begin, end] = header[name].data_offsets as [number, number];
    const dataLength = base.weights.data.length;
    const offsets = rng.pick([
      [begin, dataLength + rng.int(4, 4000)],
      [dataLength + 4, dataLength + 4 + (end - begin)],
      [end, begin],
      [-4, end - begin - 4],
      [begin + 0.5, end + 0.5],
      [begin, 2 ** 60],
      [`${begin}`, end],
      [begin],
      [begin, end, end],
      null
    ]);
    header[name].data_offsets = offsets;
    return { what: `tensor ${name} data_offsets ${JSON.stringify(offsets)}`, content: packSafetensors(header, base.weights.data), mustRefuse: true };
  },
  (rng, base) => {
    const header = clone(base.weights.header);
    const names = f32Tensors(base);
    const a = rng.pick(names);
    let b = rng.pick(names);
    while (b === a || header[b].data_offsets[1] - header[b].data_offsets[0] < 8) b = rng.pick(names);
    const [bBegin, bEnd] = header[b].data_offsets;
    const width = header[a].data_offsets[1] - header[a].data_offsets[0];
    // Either exactly another tensor's bytes (same size needed) or a range straddling its start.
    const start = width <= bEnd - bBegin && rng.chance(0.5) ? bBegin : Math.max(0, bBegin - Math.floor(width / 2));
    header[a].data_offsets = [start, start + width];
    return { what: `tensor ${a} moved onto ${b}'s bytes`, content: packSafetensors(header, base.weights.data), mustRefuse: true };
  },
  (rng, base) => {
    const header = clone(base.weights.header);
    const name = rng.pick(f32Tensors(base));
    const shape = [...header[name].shape];
    const i = rng.int(0, shape.length - 1);
    const mode = rng.int(0, 3);
    if (mode === 0) shape[i] += rng.pick([-1, 1, 7]);
    else if (mode === 1) shape.reverse().push(1);
    else if (mode === 2) shape[i] = rng.pick([-1, 0.5, '4', null, 2 ** 40]);
    else shape.splice(i, 1);
    header[name].shape = shape;
    // [a, b] reversed with a trailing 1 has the same size: refused by the config's expected shape, not the byte count.
    return {
      what: `tensor ${name} shape ${JSON.stringify(shape)} (was [${base.weights.header[name].shape}])`,
      content: packSafetensors(header, base.weights.data),
      mustRefuse: true
    };
  },
  (rng, base) => {
    const data = Buffer.from(base.weights.data);
    const name = rng.pick(f32Tensors(base));
    const [begin, end] = base.weights.header[name].data_offsets as [number, number];
    const value = rng.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    const index = rng.int(0, (end - begin) / 4 - 1);
    data.writeFloatLE(value, begin + 4 * index);
    return { what: `tensor ${name}[${index}] = ${value}`, content: packSafetensors(base.weights.header, data), mustRefuse: true };
  },
  (rng, base) => {
    const header = clone(base.weights.header);
    const name = rng.pick(tensorNames(base));
    delete header[name];
    return { what: `tensor ${name} removed from the header`, content: packSafetensors(header, base.weights.data), mustRefuse: true };
  },
  (rng, base) => {
    const header = clone(base.weights.header);
    const extra = rng.pick([
      ['__metadata__', rng.pick([[1, 2], 'x', null, { nested: { deep: [1] } }, 42])],
      ['extra.unused.tensor', { dtype: 'F32', shape: [0], data_offsets: [0, 0] }],
      [rng.text(12), { dtype: 'F32', shape: [1], data_offsets: [0, 4] }]
    ] as [string, unknown][]);
    header[extra[0]] = extra[1];
    // An unknown extra entry over bytes another tensor uses overlaps it; metadata of any shape is unused.
    return {
      what: `extra header entry ${JSON.stringify(extra[0])}: ${JSON.stringify(extra[1])}`,
      content: packSafetensors(header, base.weights.data),
      mustRefuse: false
    };
  },
  (rng) => {
    const garbage = rng.pick([
      Buffer.alloc(0),
      rng.bytes(rng.int(1, 7)),
      rng.bytes(rng.int(8, 4096)),
      Buffer.from('<!DOCTYPE html><title>404 Not Found</title>'),
      Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 6611852\n')
    ]);
    return { what: `${garbage.length} bytes of something else`, content: garbage, mustRefuse: true };
  },
  asPipe
];

const CONFIG_FIELDS = [
  'projection_dim',
  'text_config.hidden_size',
  'text_config.intermediate_size',
  'text_config.num_hidden_layers',
  'text_config.num_attention_heads',
  'text_config.vocab_size',
  'text_config.max_position_embeddings',
  'text_config.layer_norm_eps',
  'vision_config.hidden_size',
  'vision_config.intermediate_size',
  'vision_config.num_hidden_layers',
  'vision_config.num_attention_heads',
  'vision_config.image_size',
  'vision_config.patch_size',
  'vision_config.num_channels'
];

function setField(config: Record<string, any>, dotted: string, value: unknown, remove = false): void {
  const keys = dotted.split('.');
  let target = config;
  for (const key of keys.slice(0, -1)) target = target[key];
  if (remove) delete target[keys.at(-1)!];
  else target[keys.at(-1)!] = value;
}

const configMutations: Mutation<string>[] = [
  (rng, base) => {
    const config = clone(base.config);
    const field = rng.pick(CONFIG_FIELDS.filter((f) => !/eps|num_channels/.test(f)));
    setField(config, field, undefined, true);
    return { what: `${field} removed`, content: JSON.stringify(config), mustRefuse: true, names: ['config.json'] };
  },
  (rng, base) => {
    const config = clone(base.config);
    const field = rng.pick(CONFIG_FIELDS);
    const value = rng.pick(WRONG_VALUES);
    setField(config, field, value);
    // Any positive layer_norm_eps is a number a model could have; everything else here is not a size or is off the weights.
    const plausible = field.endsWith('eps') && typeof value === 'number' && value > 0 && value < 1;
    return {
      what: `${field} = ${JSON.stringify(value)}`,
      content: JSON.stringify(config),
      mustRefuse: !plausible,
      names: ['config.json', 'model.safetensors']
    };
  },
  (rng, base) => {
    const config = clone(base.config);
    const field = rng.pick(CONFIG_FIELDS.filter((f) => !/eps/.test(f)));
    const keys = field.split('.');
    const old = keys.length === 1 ? config[keys[0]!] : config[keys[0]!][keys[1]!];
    const value = old + rng.pick([1, -1, 8, old]);
    setField(config, field, value);
    // Every size but the number of heads is fixed by the weights: a changed one contradicts a tensor's shape (or a divisibility rule).
    return {
      what: `${field} = ${value} (weights have ${old})`,
      content: JSON.stringify(config),
      mustRefuse: !field.endsWith('num_attention_heads'),
      names: ['config.json', 'model.safetensors']
    };
  },
  (rng, base) => {
    const config = clone(base.config);
    const tower = rng.pick(['text_config', 'vision_config']);
    const value = rng.pick(['gelu', 'relu', 'gelu_new', '', 5, null]);
    config[tower].hidden_act = value;
    return { what: `${tower}.hidden_act = ${JSON.stringify(value)}`, content: JSON.stringify(config), mustRefuse: true, names: ['config.json'] };
  },
  (rng, base) => {
    const config = clone(base.config);
    const tower = rng.pick(['text_config', 'vision_config']);
    const value = rng.pick([null, [], 'clip', 3, deepObjects(2)]);
    config[tower] = value;
    return { what: `${tower} = ${JSON.stringify(value)}`, content: JSON.stringify(config), mustRefuse: true, names: ['config.json'] };
  },
  (rng, base) => {
    const text = JSON.stringify(base.config, null, 2);
    const content = rng.pick([
      text.slice(0, rng.int(0, text.length - 2)),
      text.replace(/,\n/, ',,\n'),
      `${text}}`,
      '',
      'null',
      '[]',
      '"config"',
      deepArrays(rng.int(10_000, 100_000)),
      deepObjects(rng.int(10_000, 100_000)),
      text.replace('"text_config"', `"text_config": ${deepArrays(30_000)}, "x"`),
      rng.bytes(rng.int(1, 300)).toString('latin1')
    ]);
    return { what: `config.json text ${JSON.stringify(content.slice(0, 30))}… (${content.length} chars)`, content, mustRefuse: true, names: ['config.json'] };
  },
  (rng, base) => {
    const config = clone(base.config);
    config[rng.pick(['text_config', 'vision_config'])][rng.text(8)] = rng.pick([1, 'x', null, [1, 2]]);
    config.architectures = rng.pick([['CLIPModel'], [], null]);
    const bom = rng.chance(0.5);
    // Unknown fields are ignored as HuggingFace does; a UTF-8 byte order mark is a valid start of a JSON file.
    return {
      what: `unknown fields added${bom ? ', with a byte order mark' : ''}`,
      content: (bom ? '\ufeff' : '') + JSON.stringify(config, null, rng.int(0, 4)),
      mustRefuse: false,
      names: ['config.json']
    };
  },
  () => ({ what: 'config.json removed', content: null, mustRefuse: true, names: ['config.json'] }),
  asPipe
];

const SPECIALS = ['<|startoftext|>', '<|endoftext|>'];

const vocabMutations: Mutation<string>[] = [
  (rng, base) => {
    const vocab = clone(base.vocab) as Record<string, unknown>;
    const token = rng.pick(Object.keys(vocab));
    const value = rng.pick([-1, 1.5, '12', null, [], {}, true, 2 ** 53, 49_408, 60_000 + rng.int(0, 10_000), deepArrays(3)]);
    vocab[token] = value;
    return { what: `id of ${JSON.stringify(token)} = ${JSON.stringify(value)}`, content: JSON.stringify(vocab), mustRefuse: true };
  },
  (rng, base) => {
    const vocab = clone(base.vocab);
    const tokens = Object.keys(vocab);
    const a = rng.pick(tokens);
    let b = rng.pick(tokens);
    while (b === a) b = rng.pick(tokens);
    vocab[b] = vocab[a]!;
    return { what: `${JSON.stringify(b)} given the id of ${JSON.stringify(a)}`, content: JSON.stringify(vocab), mustRefuse: true };
  },
  (rng, base) => {
    const vocab = clone(base.vocab);
    const token = rng.chance(0.3) ? rng.pick(SPECIALS) : rng.pick(Object.keys(vocab).filter((t) => vocab[t]! >= 512));
    delete vocab[token];
    // A removed merge result is named through merges.txt's line; a removed special token by name.
    return { what: `${JSON.stringify(token)} removed`, content: JSON.stringify(vocab), mustRefuse: true, names: ['vocab.json', 'merges.txt'] };
  },
  (rng, base) => {
    const vocab = clone(base.vocab);
    const token = rng.pick(Object.keys(vocab).filter((t) => vocab[t]! < 512));
    delete vocab[token];
    // A byte symbol (alone or with </w>) no merge produces: without it some text cannot be tokenized at all.
    return { what: `byte symbol ${JSON.stringify(token)} removed`, content: JSON.stringify(vocab), mustRefuse: true };
  },
  (rng, base) => {
    const text = JSON.stringify(base.vocab);
    const content = rng.pick([
      text.slice(0, rng.int(1, text.length - 2)),
      '',
      '[]',
      'null',
      '"vocab"',
      `[${text}]`,
      deepArrays(rng.int(10_000, 100_000)),
      deepObjects(rng.int(10_000, 100_000)),
      text.replace('{', `{"deep": ${deepObjects(20_000)},`),
      rng.bytes(rng.int(1, 200)).toString('latin1')
    ]);
    return { what: `vocab.json text ${JSON.stringify(content.slice(0, 30))}… (${content.length} chars)`, content, mustRefuse: true };
  },
  (rng, base) => {
    const vocab = clone(base.vocab);
    const extra = rng.text(rng.int(1, 6));
    if (!(extra in vocab)) vocab[extra] = 40_000 + rng.int(0, 9000);
    const bom = rng.chance(0.5);
    // A byte order mark is fine; an extra token no merge makes may be refused (as a sign of a cut merges.txt) or ignored.
    return {
      what: `extra token ${JSON.stringify(extra)}${bom ? ', byte order mark' : ''}`,
      content: (bom ? '\ufeff' : '') + JSON.stringify(vocab),
      mustRefuse: false
    };
  },
  () => ({ what: 'vocab.json removed', content: null, mustRefuse: true }),
  asPipe
];

const mergesMutations: Mutation<string>[] = [
  (rng, base) => {
    const lines = [...base.merges];
    const i = rng.int(1, lines.length - 1);
    const bad = rng.pick(['i', 'i n g', ' i n', 'i  n', '', '\t', 'i\tn', 'in ', rng.text(rng.int(1, 20)), 'x'.repeat(rng.int(2000, 20000)), 'i\u0000 n']);
    lines[i] = bad;
    return { what: `line ${i + 1} = ${JSON.stringify(bad.slice(0, 30))}`, content: lines.join('\n') + '\n', mustRefuse: !/^[^ \r\n]+ [^ \r\n]+$/.test(bad) };
  },
  (rng, base) => {
    const lines = [...base.merges];
    const i = rng.int(1, lines.length - 1);
    const [a, b] = lines[i]!.split(' ');
    lines[i] = `${a}${rng.pick(['q', 'zz', '\u00e9'])} ${b}`;
    // The merged symbol is then not in vocab.json.
    return { what: `line ${i + 1} merges a symbol vocab.json lacks (${lines[i]})`, content: lines.join('\n') + '\n', mustRefuse: true, names: ['merges.txt'] };
  },
  (rng, base) => {
    const text = base.merges.join('\n');
    const content = rng.pick(['', '#version: 0.2\n', '\n\n\n', text.slice(0, rng.int(1, 40)), rng.bytes(rng.int(1, 500)).toString('latin1'), '{"merges": []}']);
    return { what: `merges.txt text ${JSON.stringify(content.slice(0, 30))} (${content.length} chars)`, content, mustRefuse: true };
  },
  (rng, base) => {
    const lines = [...base.merges];
    const mode = rng.int(0, 3);
    let what: string;
    if (mode === 0) {
      what = 'CRLF line ends';
      return { what, content: lines.join('\r\n') + '\r\n', mustRefuse: false };
    }
    if (mode === 1) {
      const i = rng.int(1, lines.length - 1);
      lines.splice(i, 0, lines[i]!);
      what = `line ${i + 1} repeated`;
    } else if (mode === 2) {
      const i = rng.int(1, lines.length - 3);
      [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
      what = `lines ${i + 1} and ${i + 2} swapped`;
    } else {
      lines.splice(rng.int(2, lines.length - 1));
      // Cut short (an interrupted download): vocab.json then has tokens no merge makes.
      return { what: `only the first ${lines.length - 1} merges`, content: lines.join('\n') + '\n', mustRefuse: true, names: ['merges.txt'] };
    }
    // Merges in another order still tokenize (differently): a valid file.
    return { what, content: lines.join('\n') + (rng.chance(0.5) ? '\n' : ''), mustRefuse: false };
  },
  (rng, base) => {
    const lines = [...base.merges];
    lines.shift();
    const version = rng.pick(['', '#version: 0.2 extra words', '#comment', '# version']);
    if (version) lines.unshift(version);
    // Without the #version line the first merge is a merge; other comment lines are malformed merges.
    return {
      what: `first line ${JSON.stringify(version || '(none)')}`,
      content: lines.join('\n') + '\n',
      mustRefuse: version !== '' && !version.startsWith('#version')
    };
  },
  () => ({ what: 'merges.txt removed', content: null, mustRefuse: true }),
  asPipe
];

const KINDS = {
  safetensors: { file: 'model.safetensors', mutations: safetensorsMutations },
  config: { file: 'config.json', mutations: configMutations },
  vocab: { file: 'vocab.json', mutations: vocabMutations },
  merges: { file: 'merges.txt', mutations: mergesMutations }
} as const;

export type ModelKind = keyof typeof KINDS;
export const MODEL_KINDS = Object.keys(KINDS) as ModelKind[];

/** Case `index` of `kind` for `seed`: every mutation in turn, its parameters drawn from the seeded stream. */
export function modelCase(kind: ModelKind, seed: number, index: number, rng: Rng, base: BaseModel): ModelCase {
  const { file, mutations } = KINDS[kind];
  const mutate = mutations[index % mutations.length]! as Mutation<Buffer | string>;
  const { what, content, mustRefuse, names } = mutate(rng, base);
  return { kind, name: `#${index} (seed ${seed}): ${what}`, file, content, mustRefuse, names: names ?? [file] };
}

/** The case's model folder: the base files, with the case's file changed (or removed). */
export function writeModelCase(dir: string, base: BaseModel, c: ModelCase): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const file of MODEL_FILES) {
    const target = path.join(dir, file);
    if (file !== c.file) fs.symlinkSync(path.join(base.dir, file), target);
    else if (c.content === FIFO) {
      if (process.platform === 'win32') fs.writeFileSync(target, '');
      else execFileSync('mkfifo', [target]);
    } else if (c.content !== null) fs.writeFileSync(target, c.content);
  }
  return dir;
}
