/** `mocoop project create`: a new project file. */
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { services, print, requirePositional } from '../common';

export async function projectCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['name', 'json', 'debug']);
  const sub = args.positional[1];
  if (sub !== 'create') throw new UsageError(`Unknown project command "${sub ?? ''}". Use: project create <file> [--name NAME].`);
  const app = services();
  // The CLI creates a missing folder as it always did: typing the path is the confirmation.
  const summary = app.createProject(requirePositional(args, 2, 'the project file'), stringFlag(args, 'name'), { createFolder: true });
  app.dispose();
  print(args.flags.has('json'), summary, `Created project "${summary.name}" at ${summary.path}`);
}
