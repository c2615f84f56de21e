/** `mocoop serve`: web mode on 127.0.0.1. */
import path from 'node:path';
import { packageRoot } from '../../services/paths';
import { startWebServer } from '../../transport/web-server';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { services, print } from '../common';

export async function serveCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['port', 'project', 'json', 'debug']);
  const rawPort = stringFlag(args, 'port');
  const port = rawPort === undefined ? 0 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535 (got "${rawPort}").`);
  const app = services();
  const project = stringFlag(args, 'project');
  if (project) app.openProjectFile(project);
  const server = await startWebServer({ services: app, staticDir: path.join(packageRoot(), 'out', 'renderer'), port });
  print(
    args.flags.has('json'),
    { url: server.url, port: server.port },
    `MoCoOp Workbench (web mode) is running. Open:\n  ${server.url}\nPress Ctrl+C to stop.`
  );
  const stop = () => {
    app.dispose();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
