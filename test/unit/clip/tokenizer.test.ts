import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanText, ftfyFixText, pyHtmlUnescape } from '../../../src-main/clip/text-clean';
import { ClipTokenizer, bytesToUnicode, preTokenize } from '../../../src-main/clip/tokenizer';
import { tempDir } from '../../helpers/temp';
import { TINY_CLIP, TOKENIZER_FIXTURE } from '../../helpers/fixtures';

const TOKENIZER = TOKENIZER_FIXTURE;
const TINY = TINY_CLIP;
const VOCAB = path.join(TOKENIZER, 'vocab.json');
const MERGES = path.join(TOKENIZER, 'merges.txt');

interface CorpusEntry {
  text: string;
  ids: number[];
  input_ids: number[];
}
const corpus = JSON.parse(fs.readFileSync(path.join(TOKENIZER, 'corpus.json'), 'utf8')) as {
  context_length: number;
  sot_id: number;
  eot_id: number;
  entries: CorpusEntry[];
};
const tiny = JSON.parse(fs.readFileSync(path.join(TINY, 'expected.json'), 'utf8'));

const SOT = 49406;
const EOT = 49407;

let tokenizer: ClipTokenizer;
beforeAll(() => {
  tokenizer = ClipTokenizer.fromFiles(VOCAB, MERGES);
});

describe('CLIP tokenizer against OpenAI (fixtures/tokenizer/corpus.json)', () => {
  it('loads the real vocabulary', () => {
    expect(tokenizer.sotId).toBe(SOT);
    expect(tokenizer.eotId).toBe(EOT);
    expect(tokenizer.vocabSize).toBe(49408);
  });

  it('gives identical ids and input_ids for every corpus string', () => {
    expect(corpus.entries.length).toBe(327);
    expect(corpus.sot_id).toBe(SOT);
    expect(corpus.eot_id).toBe(EOT);
    const failures: string[] = [];
    for (const entry of corpus.entries) {
      const ids = tokenizer.encode(entry.text);
      const inputIds = Array.from(tokenizer.tokenize([entry.text], corpus.context_length)[0]!);
      if (JSON.stringify(ids) !== JSON.stringify(entry.ids)) {
        failures.push(`${JSON.stringify(entry.text)} ids\n  expected ${JSON.stringify(entry.ids)}\n  actual   ${JSON.stringify(ids)}`);
      } else if (JSON.stringify(inputIds) !== JSON.stringify(entry.input_ids)) {
        failures.push(`${JSON.stringify(entry.text)} input_ids\n  expected ${JSON.stringify(entry.input_ids)}\n  actual   ${JSON.stringify(inputIds)}`);
      }
    }
    expect(failures, `${failures.length}/${corpus.entries.length} corpus strings differ:\n${failures.join('\n')}`).toEqual([]);
  });

  it('tokenizes a batch the same as one text at a time', () => {
    const texts = corpus.entries.slice(0, 40).map((e) => e.text);
    const rows = tokenizer.tokenize(texts);
    expect(rows.map((r) => Array.from(r))).toEqual(corpus.entries.slice(0, 40).map((e) => e.input_ids));
  });
});

describe('CLIP tokenizer on tiny-clip-a (fixtures/tiny-clip-a/expected.json)', () => {
  it('matches token_ids, input_ids and eot_index', () => {
    const texts = tiny.texts as string[];
    expect(texts.length).toBe(20);
    expect(texts.map((t) => tokenizer.encode(t))).toEqual(tiny.token_ids);
    const rows = tokenizer.tokenize(texts, tiny.context_length);
    expect(rows.map((r) => Array.from(r))).toEqual(tiny.input_ids);
    expect(rows.map((r) => tokenizer.eotIndex(r))).toEqual(tiny.eot_index);
    expect((tiny.input_ids as number[][]).map((r) => tokenizer.eotIndex(r))).toEqual(tiny.eot_index);
  });

  it('reproduces the MoCoOp class-name ids and expert prefix/suffix ids', () => {
    const m = tiny.mocoop;
    const names = [...m.classnames, ...m.virtual_classnames] as string[];
    expect(names.map((n) => tokenizer.encode(n))).toEqual(m.class_name_ids);
    for (const expert of m.experts as { template: string; prefix_ids: number[]; suffix_ids: number[] }[]) {
      const [before, after] = expert.template.split('{}') as [string, string];
      expect(tokenizer.encode(before)).toEqual(expert.prefix_ids);
      expect(tokenizer.encode(after)).toEqual(expert.suffix_ids);
      names.forEach((name, c) => {
        expect(tokenizer.encode(expert.template.replace('{}', name))).toEqual([...expert.prefix_ids, ...m.class_name_ids[c], ...expert.suffix_ids]);
      });
    }
  });
});

describe('clip.tokenize framing', () => {
  it('truncates long texts to the context length with EOT in the last slot', () => {
    const text = 'a photo of a dog '.repeat(30);
    const ids = tokenizer.encode(text);
    expect(ids.length).toBeGreaterThan(100);
    const [row] = tokenizer.tokenize([text]);
    expect(row!.length).toBe(77);
    expect(Array.from(row!)).toEqual([SOT, ...ids.slice(0, 75), EOT]);
    expect(tokenizer.eotIndex(row!)).toBe(76);

    const [short] = tokenizer.tokenize([text], 8);
    expect(Array.from(short!)).toEqual([SOT, ...ids.slice(0, 6), EOT]);
    // Exactly one id too many: the last id gives way to EOT.
    const seventySix = tokenizer.encode('dog '.repeat(76));
    expect(seventySix.length).toBe(76);
    expect(Array.from(tokenizer.tokenize(['dog '.repeat(76)])[0]!)).toEqual([SOT, ...seventySix.slice(0, 75), EOT]);
    // Exactly full: no truncation.
    expect(Array.from(tokenizer.tokenize(['dog '.repeat(75)])[0]!)).toEqual([SOT, ...seventySix.slice(0, 75), EOT]);
  });

  it('pads with 0 and returns Int32Array rows', () => {
    const [row] = tokenizer.tokenize(['a photo of a cat.']);
    expect(row).toBeInstanceOf(Int32Array);
    expect(Array.from(row!)).toEqual([SOT, 320, 1125, 539, 320, 2368, 269, EOT, ...new Array(69).fill(0)]);
    expect(tokenizer.eotIndex(row!)).toBe(7);
  });

  it('encodes the empty and the blank string as [SOT, EOT, 0, ...]', () => {
    for (const text of ['', '   ', '\t\n\u3000\u00a0']) {
      expect(tokenizer.encode(text)).toEqual([]);
      expect(Array.from(tokenizer.tokenize([text])[0]!)).toEqual([SOT, EOT, ...new Array(75).fill(0)]);
    }
    expect(tokenizer.tokenize([])).toEqual([]);
  });

  it('keeps special tokens written in the text as their ids', () => {
    expect(tokenizer.encode('hello <|endoftext|> world')).toEqual([3306, EOT, 1002]);
    expect(tokenizer.encode('<|startoftext|>')).toEqual([SOT]);
    expect(tokenizer.bpeWord('<|endoftext|>')).toEqual([EOT]);
    expect(tokenizer.bpeWord('photo')).toEqual([1125]);
  });

  it('eotIndex is the first position of the largest id', () => {
    expect(tokenizer.eotIndex([SOT, 5, EOT, 0, EOT])).toBe(2);
    expect(tokenizer.eotIndex(new Int32Array([3, 9, 9, 1]))).toBe(1);
    expect(() => tokenizer.eotIndex([])).toThrow(RangeError);
  });

  it('rejects a context length that is not a positive integer', () => {
    expect(() => tokenizer.tokenize(['x'], 0)).toThrow(/contextLength/);
    expect(() => tokenizer.tokenize(['x'], 7.5)).toThrow(/contextLength/);
  });
});

describe('text cleaning (ftfy 6.3.1 + html.unescape + whitespace_clean + lower)', () => {
  // Expected values produced by OpenAI's simple_tokenizer with ftfy 6.3.1.
  const cases: [string, string, number[]][] = [
    ['fish &amp;amp; chips', 'fish & chips', [2759, 261, 8855]],
    ['&lt;b&gt;bold&lt;/b&gt;', '<b>bold</b>', [283, 321, 285, 8911, 34308, 321, 285]],
    ['a <b>bold</b> &amp; move', 'a <b>bold</b> & move', [320, 283, 321, 285, 8911, 34308, 321, 285, 261, 2783]],
    ['x &amp;\n<b> &amp;\n&amp;', 'x & <b> & &', [343, 261, 283, 321, 285, 261, 261]],
    ['caf&eacute; &eacute &EACUTE;', 'café é é', [15304, 4166, 4166]],
    ['&#39;quoted&#39; &#x1F600;', "'quoted' 😀", [262, 27706, 262, 7334]],
    ['&#128; &#x9d; &#0; &#1;x', '€ \u009d \ufffd x', [6309, 126, 507, 39802, 343]],
    ['&#59; &#65abc;', '; aabc;', [282, 64, 5334, 282]],
    ['price \u0080 \u0091ok\u0092 \u009d', "price € 'ok' \u009d", [2827, 6309, 262, 2481, 262, 126, 507]],
    ['ﬁne ﬂowers ﬃ Ĳssel Ǆ ŉ', "fine flowers ffi ijssel dž 'n", [3797, 4023, 1021, 328, 7337, 19373, 67, 129, 378, 262, 333]],
    ['ＦＵＬＬ\u3000ｗｉｄｔｈ ｶﾞ ￣', 'full width ガ \u0304', [1476, 23571, 3909, 361, 136, 482]],
    ['“smart” ‘quotes’ ʼ', "\"smart\" 'quotes' '", [257, 4115, 257, 262, 5808, 262, 262]],
    ['a\r\nb\rc\u2028d\u2029e\u0085f', 'a b c d e…f', [320, 321, 322, 323, 324, 959, 325]],
    ['\u001b[1;31mred\u001b[0m', 'red', [736]],
    ['a\u0000b\u0007c\u000bd\u007fe\ufefff\u206ag\ufff9h', 'abcdefgh', [13137, 2044, 790]],
    ['lone \ud800 surrogate', 'lone \ufffd surrogate', [13576, 39802, 47499, 3302]],
    ['e\u0301 = \u00e9', 'é = é', [4166, 284, 4166]],
    ['\u00a0nbsp\u3000ideo\u2009thin\u001cfs', 'nbsp ideo thinfs', [6459, 4393, 1909, 334, 513, 1529, 338]],
    [
      'İSTANBUL ΑΘΗΝΑΣ STRASSE straße',
      'i̇stanbul αθηνας strasse straße',
      [328, 16384, 11231, 138, 109, 138, 116, 138, 115, 138, 121, 138, 109, 139, 480, 1894, 8938, 1894, 127, 253, 324]
    ],
    ["it'ſ <|ſtartoftext|>", "it'ſ <|ſtartoftext|>", [585, 6, 129, 379, 27, 91, 129, 123, 2002, 6659, 18169, 91, 285]],
    ['a\u0345b', 'a\u0345b', [320, 321]],
    ['zero\u200bwidth', 'zero\u200bwidth', [5848, 9844, 23571]],
    ['&#xFEFF;x <', '\ufeffx <', [171, 119, 379, 343, 283]],
    ['tags \u{e0041} kept', 'tags \u{e0041} kept', [11606, 175, 254, 223, 479, 7737]]
  ];

  it.each(cases)('%j', (text, clean, ids) => {
    expect(cleanText(text)).toBe(clean);
    expect(tokenizer.encode(text)).toEqual(ids);
  });

  it("follows Python's html.unescape", () => {
    expect(pyHtmlUnescape('&amp &ampx &notit; &notin; &#x41 &#65 &#x110000; &#xD800; &#13; &#x85; &#xFDD0; &#99999999999999999999;')).toBe(
      '& &x ¬it; ∉ A A \ufffd \ufffd \r …  \ufffd' // &#xFDD0; decodes to nothing
    );
    expect(pyHtmlUnescape('&CounterClockwiseContourIntegral; &xyz; & amp; &#x; &#;')).toBe('∳ &xyz; & amp; &#x; &#;');
  });

  it("keeps ftfy's segment-wise unescape_html='auto' rule", () => {
    // Lines before the first '<' are unescaped by ftfy, later ones only by CLIP's html.unescape.
    expect(ftfyFixText('&amp;amp;\n<\n&amp;amp;')).toBe('&\n<\n&amp;amp;');
    expect(cleanText('&amp;amp;amp;\n<\n&amp;amp;amp;')).toBe('& < &amp;');
  });

  it('pre-tokenizes like Python regex with IGNORECASE', () => {
    expect(preTokenize("it's 1990's x'll 猫の写真 a\u0345b \ufeff!!")).toEqual([
      'it',
      "'s",
      '1',
      '9',
      '9',
      '0',
      "'s",
      'x',
      "'ll",
      '猫の写真',
      'a',
      'b',
      '\ufeff!!'
    ]);
  });

  it('maps bytes to unicode as GPT-2 does', () => {
    const table = bytesToUnicode();
    expect(table.length).toBe(256);
    expect(new Set(table).size).toBe(256);
    expect(table[0x21]).toBe('!');
    expect(table[0x20]).toBe('Ġ');
    expect(table[0x00]).toBe('Ā');
    expect(table[0xad]).toBe('Ń');
  });
});

describe('tokenizer file validation', () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir('clip-tokenizer-')));
  afterAll(() => cleanup());

  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };
  const errorOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      return (error as Error).message;
    }
    throw new Error('expected an error');
  };
  const special = '"<|startoftext|>": 3, "<|endoftext|>": 4';

  it('names the vocab file and the problem', () => {
    const cases: [string, RegExp][] = [
      ['{"a": 1,', /not valid JSON/],
      ['[1, 2]', /JSON object.*array/],
      ['"text"', /JSON object.*string/],
      [`{"a": "1", ${special}}`, /"a" must be a non-negative integer, got "1"/],
      [`{"a": 1.5, ${special}}`, /"a" must be a non-negative integer, got 1.5/],
      [`{"a": -1, ${special}}`, /"a" must be a non-negative integer/],
      [`{"a": 1, "b": 1, ${special}}`, /id 1 is used by both "a" and "b"/],
      ['{"a": 1, "<|endoftext|>": 4}', /<\|startoftext\|> is missing/]
    ];
    cases.forEach(([content, problem], i) => {
      const file = write(`vocab-${i}.json`, content);
      const message = errorOf(() => ClipTokenizer.fromFiles(file, MERGES));
      expect(message).toContain(file);
      expect(message).toMatch(problem);
    });
    const missing = path.join(dir, 'nope.json');
    expect(errorOf(() => ClipTokenizer.fromFiles(missing, MERGES))).toContain(missing);
  });

  it('names the merges file, the line and the problem', () => {
    const vocab = write('vocab.json', `{"a": 0, "b": 1, "ab": 2, ${special}}`);
    const cases: [string, RegExp][] = [
      ['#version: 0.2\na b\na b c\n', /line 3 is malformed.*"a b c"/],
      ['#version: 0.2\na b\n\na b\n', /line 3 is malformed/],
      ['a b\nab\n', /line 2 is malformed.*"ab"/],
      ['#version: 0.2\n', /no merges/]
    ];
    cases.forEach(([content, problem], i) => {
      const file = write(`merges-${i}.txt`, content);
      const message = errorOf(() => ClipTokenizer.fromFiles(vocab, file));
      expect(message).toContain(file);
      expect(message).toMatch(problem);
    });
    // CRLF line endings and a missing header are fine.
    const ok = ClipTokenizer.fromFiles(vocab, write('merges-ok.txt', 'a b\r\n'));
    expect(ok.sotId).toBe(3);
  });

  it('rejects bad constructor input and reports symbols missing from the vocabulary', () => {
    expect(() => new ClipTokenizer({ a: 1 } as Record<string, number>, [])).toThrow(/<\|startoftext\|> is missing/);
    const small = new ClipTokenizer({ a: 0, 'a</w>': 1, '<|startoftext|>': 2, '<|endoftext|>': 3 }, ['a a</w>']);
    expect(() => new ClipTokenizer({ '<|startoftext|>': 2, '<|endoftext|>': 3 }, ['a'])).toThrow(/merges\[0\] is malformed/);
    expect(small.encode('a')).toEqual([1]);
    const withHeader = new ClipTokenizer({ a: 0, 'a</w>': 1, 'aa</w>': 4, '<|startoftext|>': 2, '<|endoftext|>': 3 }, ['#version: 0.2', 'a a</w>']);
    expect(withHeader.encode('aa')).toEqual([4]);
    expect(() => small.encode('aa')).toThrow(/"aa<\/w>" is not in the vocabulary/);
  });
});
