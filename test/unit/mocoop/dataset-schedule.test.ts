import { describe, expect, it } from 'vitest';
import { defaultSchedule } from '../../../src-main/contract/schedules';
import { recogniseDataset } from '../../../src-main/mocoop/baselines';
import { loadTemplateLibrary } from '../../../src-main/services/clip-services';

describe('the published schedule picked for a recognised data set', () => {
  const library = loadTemplateLibrary();

  it('recognises a project imported from CoOp’s split file, by name, or by the authors’ template groups', () => {
    expect(recogniseDataset(library, [], null, ['folder:/data/x', 'coop-split:/data/pets/split_zhou_OxfordPets.json'])).toBe('OxfordPets');
    expect(recogniseDataset(library, [], 'eurosat')).toBe('EuroSAT');
    const caltech = library.groupings.find((g) => g.id === 'mocoop-Caltech101')!;
    expect(recogniseDataset(library, caltech.groups, null)).toBe('Caltech101');
    expect(recogniseDataset(library, [['a photo of a {}.']], null, ['coop-split:/data/split_zhou_Unknown.json', 'csv:/x.csv'])).toBeNull();
  });

  it('gives MoCoOp the authors’ schedule of that data set, lasp-25 otherwise, and CoOp/KgCoOp their own', () => {
    expect(defaultSchedule('mocoop', 'OxfordPets')).toBe('lasp-25');
    expect(defaultSchedule('mocoop', 'DescribableTextures')).toBe('lasp-50');
    expect(defaultSchedule('mocoop-gate', 'EuroSAT')).toBe('lasp-300');
    expect(defaultSchedule('mocoop', 'ImageNet')).toBe('batch1-10');
    expect(defaultSchedule('mocoop', null)).toBe('lasp-25');
    expect(defaultSchedule('coop', 'EuroSAT')).toBe('coop');
    expect(defaultSchedule('kgcoop', 'EuroSAT')).toBe('kgcoop');
  });
});
