/** `mocoop info`: classes, counts and problems of a project. */
import { type ParsedArgs, checkFlags } from '../args';
import { services, print, requirePositional } from '../common';

export async function infoCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['json', 'debug']);
  const app = services();
  app.openProjectFile(requirePositional(args, 1, 'the project file'));
  await app.checkMissing();
  const info = app.info();
  app.dispose();
  const p = info.project;
  const human = [
    `${p.name} (${p.path})`,
    `${p.imageCount} images, ${p.labeledCount} labeled, ${info.unlabeledCount} unlabeled, ${p.missingCount} missing; train ${p.splitCounts.train}, val ${p.splitCounts.val}, test ${p.splitCounts.test}`,
    ...info.classes.map((c) => `  ${c.name}: ${c.imageCount}`),
    info.problems.length ? `Problems (${info.problems.length}):` : 'No problems.',
    ...info.problems.slice(0, 50).map((pr) => `  [${pr.kind}] ${pr.path}: ${pr.reason}`)
  ];
  print(args.flags.has('json'), info, human.join('\n'));
}
