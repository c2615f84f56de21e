/**
 * Runs web mode in a child process for tests that must survive (or observe) a crash of the server
 * process: `node --import tsx test/helpers/web-server-child.ts <dir>` prints {"port","token","basePath"} once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppServices } from '../../src-main/services/app-services';
import { startWebServer } from '../../src-main/transport/web-server';

const dir = process.argv[2];
if (!dir) throw new Error('usage: web-server-child.ts <work dir>');
const staticDir = path.join(dir, 'static');
fs.mkdirSync(staticDir, { recursive: true });
fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>child</title>');
const services = new AppServices({ mode: 'web', configDir: path.join(dir, 'config'), version: 'child' });
const server = await startWebServer({ services, staticDir, log: () => {} });
process.stdout.write(JSON.stringify({ port: server.port, token: server.token, basePath: server.basePath }) + '\n');
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
