import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../src-main/clip/tokenizer';
import { PromptLayoutError, checkExpertTokens, checkExpertsTokens, classTokenIds, expertTemplate } from '../../../src-main/mocoop/experts';
import { TINY_CLIP } from '../../helpers/fixtures';

const FIXTURE = TINY_CLIP;
const tokenizer = ClipTokenizer.fromFiles(path.join(FIXTURE, 'vocab.json'), path.join(FIXTURE, 'merges.txt'));

const check = (template: string, name: string) =>
  checkExpertTokens(tokenizer, expertTemplate(tokenizer, template), name, classTokenIds(tokenizer, [name], false)[0]!);

describe('the tokenisation check at expert build', () => {
  it('accepts templates whose filled text tokenises as prefix + name + suffix', () => {
    for (const [template, name] of [
      ['a photo of a {}.', 'rose'],
      ['a photo of a {}, a type of flower.', 'english marigold'],
      ['{} texture.', 'banded'],
      ['a centered satellite photo of {}.', 'Annual Crop Land'],
      ['itap of a {}.', 'black-eyed susan'],
      ["a photo of the {}'s face.", 'cat']
    ] as const) {
      expect(() => check(template, name), `${template} / ${name}`).not.toThrow();
    }
  });

  it('refuses a name glued to the template text, naming the template and the class', () => {
    // "roses" is one word for the tokenizer; the parts would be "rose" + "s".
    expect(() => check('a photo of many {}s.', 'rose')).toThrow(PromptLayoutError);
    expect(() => check('a photo of many {}s.', 'rose')).toThrow(
      /^Template "a photo of many \{\}s\." with the class "rose" does not tokenise as the template's words around the class name: "a photo of many roses\." gives \d+ tokens, the prefix, name and suffix \d+ \(the filled text reads "roses" "\." where the template's words and the name read "rose" "s" "\."\)\. .*Put a space between \{\} and the text next to it, or rename the class\.$/
    );
    // Punctuation at the end of the name runs into the template's: "mr.." is one pre-token "..".
    expect(() => check('a photo of {}.', 'Mr.')).toThrow(/Template "a photo of \{\}\." with the class "Mr\."/);
    expect(() => check('pre{} photo.', 'war')).toThrow(/the filled text reads "prewar"/);
  });

  it('checks every expert against every class', () => {
    const experts = ['a photo of a {}.', 'art of the {}s.'].map((t) => expertTemplate(tokenizer, t));
    const names = ['ant', 'bee'];
    expect(() => checkExpertsTokens(tokenizer, experts, names, classTokenIds(tokenizer, names, false))).toThrow(
      /Template "art of the \{\}s\." with the class "ant"/
    );
    expect(() => checkExpertsTokens(tokenizer, experts.slice(0, 1), names, classTokenIds(tokenizer, names, false))).not.toThrow();
  });
});
