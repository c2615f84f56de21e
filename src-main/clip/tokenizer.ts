/**
 * OpenAI CLIP's tokenizer (`clip/simple_tokenizer.py` and `clip.tokenize`): text cleaning, CLIP's
 * pre-tokenisation regex, and GPT-2-style byte-level BPE with a `</w>` end-of-word marker.
 * Ids are identical to OpenAI's for the same vocab.json / merges.txt.
 */
import path from 'node:path';
import { readRegularTextFile, unreadableReason } from './regular-file';
import { cleanText } from './text-clean';

/** A vocabulary or merges file that cannot serve as CLIP's tokenizer; the message names the file and what to do. */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

const SOT_TOKEN = '<|startoftext|>';
const EOT_TOKEN = '<|endoftext|>';
const END_OF_WORD = '</w>';

/**
 * GPT-2's `bytes_to_unicode`: byte -> a printable character. Printable Latin-1 bytes map to
 * themselves; the other 68 bytes go, in order, to U+0100 onwards.
 */
export function bytesToUnicode(): string[] {
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + next++);
  }
  return table;
}

const BYTE_CHARS = bytesToUnicode();

/** The characters a code point's UTF-8 bytes map to. */
function appendUtf8(out: string[], cp: number): void {
  if (cp < 0x80) {
    out.push(BYTE_CHARS[cp]!);
  } else if (cp < 0x800) {
    out.push(BYTE_CHARS[0xc0 | (cp >> 6)]!, BYTE_CHARS[0x80 | (cp & 0x3f)]!);
  } else if (cp < 0x10000) {
    out.push(BYTE_CHARS[0xe0 | (cp >> 12)]!, BYTE_CHARS[0x80 | ((cp >> 6) & 0x3f)]!, BYTE_CHARS[0x80 | (cp & 0x3f)]!);
  } else {
    out.push(BYTE_CHARS[0xf0 | (cp >> 18)]!, BYTE_CHARS[0x80 | ((cp >> 12) & 0x3f)]!, BYTE_CHARS[0x80 | ((cp >> 6) & 0x3f)]!, BYTE_CHARS[0x80 | (cp & 0x3f)]!);
  }
}

/** A pre-token as its byte-level symbols (lone surrogates, which cleaning removes, as U+FFFD). */
function byteSymbols(token: string): string[] {
  const out: string[] = [];
  for (const ch of token) {
    let cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    appendUtf8(out, cp);
  }
  return out;
}

/**
 * A character class matching what Python's `regex` matches case-insensitively for one letter
 * (simple case folding: 's' also matches U+017F LONG S, 'k' U+212A KELVIN SIGN, 'i' U+0130).
 */
function caseless(word: string): string {
  const extra: Record<string, string> = { s: '\\u017f', k: '\\u212a', i: '\\u0130' };
  let out = '';
  for (const ch of word) {
    if (/[a-z]/.test(ch)) out += `[${ch}${ch.toUpperCase()}${extra[ch] ?? ''}]`;
    else out += ch.replace(/[|\\^$.*+?()[\]{}]/g, '\\$&');
  }
  return out;
}

/**
 * CLIP's pattern, compiled by Python's `regex` with IGNORECASE:
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * In JS the case-insensitivity is spelled out (a JS `i` flag would let `\p{L}` match U+0345,
 * which case-folds to a letter, where Python's doesn't), `\s` is the `regex` module's set (it has
 * U+0085 but not U+FEFF), and U+0345 is left out of the last class because Python's case-folded
 * negated class excludes it too: it is matched by nothing and dropped, as in Python.
 */
const RX_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PRE_TOKEN_SOURCE = [
  caseless(SOT_TOKEN),
  caseless(EOT_TOKEN),
  ...['s', 't', 're', 've', 'm', 'll', 'd'].map((c) => `'${caseless(c)}`),
  '\\p{L}+',
  '\\p{N}',
  `[^${RX_SPACE}\\p{L}\\p{N}\\u0345]+`
].join('|');

/** CLIP's pre-tokens of already cleaned text. */
export function preTokenize(cleaned: string): string[] {
  return cleaned.match(new RegExp(PRE_TOKEN_SOURCE, 'gu')) ?? [];
}

/** Word cache size bound; the cache is emptied when it grows past this (results are unchanged). */
const CACHE_LIMIT = 100_000;

export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  private readonly encoder: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly cache = new Map<string, number[]>();
  private readonly pattern = new RegExp(PRE_TOKEN_SOURCE, 'gu');

  /**
   * @param vocab token -> id (vocab.json)
   * @param merges BPE merges in priority order, each "left right" (the lines of merges.txt; a
   *   leading `#version` line is skipped)
   */
  constructor(vocab: Record<string, number>, merges: string[]) {
    this.encoder = checkVocab(vocab, 'vocab');
    this.ranks = new Map();
    // A leading `#version` header (as in merges.txt) is not a merge.
    const first = merges.length > 0 && typeof merges[0] === 'string' && merges[0].startsWith('#version') ? 1 : 0;
    for (let i = first; i < merges.length; i++) {
      const merge = merges[i];
      if (typeof merge !== 'string' || !MERGE_RE.test(merge)) {
        throw new TokenizerError(`merges[${i}] is malformed: expected two symbols separated by one space, got ${JSON.stringify(merge)}.`);
      }
      // A repeated pair keeps its last rank, as Python's dict(zip(merges, range(...))) does.
      this.ranks.set(merge, i - first);
    }
    this.sotId = this.encoder.get(SOT_TOKEN)!;
    this.eotId = this.encoder.get(EOT_TOKEN)!;
    this.cache.set(SOT_TOKEN, [this.sotId]);
    this.cache.set(EOT_TOKEN, [this.eotId]);
  }

  /**
   * Loads vocab.json and merges.txt (HF / OpenAI format: an optional `#version` line, then one merge a
   * line). `vocabSize` is the model's token embedding count: every id must be below it. When not given,
   * `text_config.vocab_size` of a config.json beside vocab.json is used (a HuggingFace CLIP folder).
   */
  static fromFiles(vocabPath: string, mergesPath: string, options: { vocabSize?: number } = {}): ClipTokenizer {
    // Both files are fully validated here, so the constructor's own checks cannot fail.
    const vocab = readVocabFile(vocabPath);
    const merges = readMergesFile(mergesPath);
    const limit = options.vocabSize ?? configVocabSize(path.join(path.dirname(vocabPath), 'config.json'));
    if (limit !== undefined) {
      for (const [token, id] of Object.entries(vocab)) {
        if (id >= limit) {
          throw new TokenizerError(
            `${vocabPath}: the id of ${JSON.stringify(token)} is ${id}, beyond the model's vocabulary of ${limit} tokens (config.json text_config.vocab_size). This vocab.json belongs to another model; use the one from the same CLIP folder.`
          );
        }
      }
    }
    // Every merge makes a symbol the vocabulary must have, or tokenizing a word with it fails later.
    merges.lines.forEach((merge, i) => {
      const symbol = merge.replace(' ', '');
      if (!Object.prototype.hasOwnProperty.call(vocab, symbol)) {
        throw new TokenizerError(
          `${mergesPath}: line ${merges.lineNumbers[i]} merges ${JSON.stringify(merge)} into ${JSON.stringify(symbol)}, which ${vocabPath} does not have. The two files do not belong together; use the vocab.json and merges.txt of the same CLIP model.`
        );
      }
    });
    return new ClipTokenizer(vocab, merges.lines);
  }

  /**
   * A complete CLIP tokenizer, checked when a model is imported: every byte-level symbol alone and with
   * </w> (without one, text holding that byte cannot be tokenized at all), and every other token made by
   * some merge (a vocabulary token no merge makes means merges.txt was cut short or belongs elsewhere:
   * words would be split differently from how the model was trained, silently).
   */
  checkComplete(vocabPath: string, mergesPath: string): void {
    for (const symbol of [...BYTE_CHARS, ...BYTE_CHARS.map((ch) => ch + END_OF_WORD)]) {
      if (!this.encoder.has(symbol)) {
        throw new TokenizerError(
          `${vocabPath}: the byte symbol ${JSON.stringify(symbol)} is missing, so text holding that byte could not be tokenized. Every CLIP vocabulary has all 256 byte symbols, alone and with </w>. ${NOT_CLIP_FILE}`
        );
      }
    }
    const made = new Set<string>();
    for (const merge of this.ranks.keys()) made.add(merge.replace(' ', ''));
    const bytes = new Set([...BYTE_CHARS, ...BYTE_CHARS.map((ch) => ch + END_OF_WORD)]);
    const orphans = [...this.encoder.keys()].filter((token) => !bytes.has(token) && token !== SOT_TOKEN && token !== EOT_TOKEN && !made.has(token));
    if (orphans.length > 0) {
      throw new TokenizerError(
        `${mergesPath}: no merge makes ${orphans.length.toLocaleString('en-US')} of the tokens in ${vocabPath} (e.g. ${shown(orphans[0]!)}), so words would be split differently from how the model was trained. merges.txt is cut short (an interrupted download?) or the two files belong to different models; use the vocab.json and merges.txt of the same CLIP model.`
      );
    }
  }

  /** Number of entries in the vocabulary. */
  get vocabSize(): number {
    return this.encoder.size;
  }

  /** BPE ids of a text, as OpenAI's `SimpleTokenizer.encode`: no SOT/EOT, no truncation. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const cleaned = cleanText(text);
    this.pattern.lastIndex = 0;
    for (let m = this.pattern.exec(cleaned); m !== null; m = this.pattern.exec(cleaned)) {
      for (const id of this.wordIds(m[0])) ids.push(id);
    }
    return ids;
  }

  /**
   * OpenAI's `clip.tokenize(texts, context_length, truncate=True)`: [SOT] + ids + [EOT]; longer
   * rows are cut to `contextLength` with EOT forced into the last slot; shorter ones padded with 0.
   */
  tokenize(texts: string[], contextLength = 77): Int32Array[] {
    if (!Number.isInteger(contextLength) || contextLength < 1) {
      throw new RangeError(`contextLength must be a positive integer, got ${contextLength}`);
    }
    return texts.map((text) => {
      const row = new Int32Array(contextLength);
      const ids = this.encode(text);
      row[0] = this.sotId;
      const n = Math.min(ids.length, contextLength - 1);
      for (let i = 0; i < n; i++) row[i + 1] = ids[i]!;
      if (ids.length + 2 <= contextLength) row[ids.length + 1] = this.eotId;
      else row[contextLength - 1] = this.eotId;
      return row;
    });
  }

  /** Index of the first occurrence of the largest id (EOT, whose id is the largest in CLIP's vocab). */
  eotIndex(inputIds: ArrayLike<number>): number {
    if (inputIds.length === 0) throw new RangeError('eotIndex of an empty id sequence');
    let best = 0;
    for (let i = 1; i < inputIds.length; i++) if (inputIds[i]! > inputIds[best]!) best = i;
    return best;
  }

  /**
   * BPE ids of one pre-token (one match of CLIP's pattern, already cleaned), e.g. a word. The two
   * special tokens give their own ids, as in OpenAI's pre-seeded BPE cache.
   */
  bpeWord(word: string): number[] {
    return [...this.wordIds(word)];
  }

  /** Cached BPE ids of one pre-token (the cache is keyed by the text, a bijection of its bytes). */
  private wordIds(token: string): readonly number[] {
    let ids = this.cache.get(token);
    if (ids === undefined) {
      ids = this.bpeIds(byteSymbols(token));
      if (this.cache.size >= CACHE_LIMIT) {
        this.cache.clear();
        this.cache.set(SOT_TOKEN, [this.sotId]);
        this.cache.set(EOT_TOKEN, [this.eotId]);
      }
      this.cache.set(token, ids);
    }
    return ids;
  }

  /** BPE of one word's byte symbols: merge the lowest-ranked adjacent pair until none applies. */
  private bpeIds(symbols: string[]): number[] {
    if (symbols.length === 0) return [];
    const shown = symbols.join('');
    let word = symbols;
    word[word.length - 1] += END_OF_WORD;
    while (word.length > 1) {
      let bestRank = Infinity;
      let bestIndex = -1;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const first = word[bestIndex]!;
      const second = word[bestIndex + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length;) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    return word.map((symbol) => {
      const id = this.encoder.get(symbol);
      if (id === undefined) {
        throw new TokenizerError(
          `CLIP tokenizer: BPE symbol ${JSON.stringify(symbol)} is not in the vocabulary (vocab.json), so the word ${JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}…` : shown)} cannot be tokenized. The vocabulary and merges.txt do not belong together; use both files of the same CLIP model.`
        );
      }
      return id;
    });
  }
}

const NOT_CLIP_FILE = 'The file is damaged or not a CLIP vocab.json; use the one from the same CLIP model folder.';
/** A token or value for a message: quoted, and cut when long (a hostile file may hold anything). */
const shown = (token: string) => JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}…` : token);
/** A JSON value for a message without serialising it whole (it may be nested 100,000 levels deep). */
function shownValue(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? shown(value) : String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** Exactly two non-empty symbols separated by one space. */
const MERGE_RE = /^[^ \r\n]+ [^ \r\n]+$/;

function checkVocab(vocab: unknown, label: string): Map<string, number> {
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new TokenizerError(
      `${label} must be a JSON object mapping tokens to ids ({"a": 64, ...}), got ${Array.isArray(vocab) ? 'an array' : vocab === null ? 'null' : `a ${typeof vocab}`}. ${NOT_CLIP_FILE}`
    );
  }
  const encoder = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new TokenizerError(`${label}: the id of ${shown(token)} must be a non-negative integer, got ${shownValue(id)}. ${NOT_CLIP_FILE}`);
    }
    const other = seen.get(id);
    if (other !== undefined)
      throw new TokenizerError(`${label}: id ${id} is used by both ${shown(other)} and ${shown(token)}; every token needs its own id. ${NOT_CLIP_FILE}`);
    seen.set(id, token);
    encoder.set(token, id);
  }
  for (const special of [SOT_TOKEN, EOT_TOKEN]) {
    if (!encoder.has(special)) throw new TokenizerError(`${label}: the special token ${special} is missing (every CLIP vocabulary has it). ${NOT_CLIP_FILE}`);
  }
  return encoder;
}

function readText(filePath: string, what: string): string {
  try {
    return readRegularTextFile(filePath);
  } catch (error) {
    throw new TokenizerError(
      `${filePath}: the CLIP ${what} cannot be read (${unreadableReason(error)}). A CLIP model folder needs config.json, model.safetensors, vocab.json and merges.txt.`
    );
  }
}

function readVocabFile(vocabPath: string): Record<string, number> {
  const text = readText(vocabPath, 'vocabulary');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new TokenizerError(
      `${vocabPath}: is not valid JSON (${(error as Error).message}). The file is damaged or not a CLIP vocab.json; download the model again.`
    );
  }
  checkVocab(parsed, vocabPath); // so that errors name the file; the constructor checks again
  return parsed as Record<string, number>;
}

/** text_config.vocab_size of a HuggingFace config.json, or undefined when there is none to read. */
function configVocabSize(configPath: string): number | undefined {
  try {
    const size = (JSON.parse(readRegularTextFile(configPath)) as { text_config?: { vocab_size?: unknown } })?.text_config?.vocab_size;
    return typeof size === 'number' && Number.isSafeInteger(size) && size > 0 ? size : undefined;
  } catch {
    return undefined;
  }
}

function readMergesFile(mergesPath: string): { lines: string[]; lineNumbers: number[] } {
  const text = readText(mergesPath, 'merges file');
  const lines = text.split('\n');
  const merges: string[] = [];
  const lineNumbers: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (i === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (i === 0 && line.startsWith('#version')) continue;
    if (line === '' && i === lines.length - 1) continue;
    if (!MERGE_RE.test(line)) {
      throw new TokenizerError(
        `${mergesPath}: line ${i + 1} is malformed: expected two symbols separated by one space, found ${JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line)}. The file is damaged or not a CLIP merges.txt; download the model again.`
      );
    }
    merges.push(line);
    lineNumbers.push(i + 1);
  }
  if (merges.length === 0)
    throw new TokenizerError(
      `${mergesPath}: no merges found (a CLIP merges.txt has one BPE merge a line after its #version line). The file is damaged or not a CLIP merges.txt; download the model again.`
    );
  return { lines: merges, lineNumbers };
}
