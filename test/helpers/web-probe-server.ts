/**
 * Web mode in a child process for hostile-request probes: a project with two images, a static folder
 * beside a secret file, and the server's own logger writing to stderr (so a test sees everything it
 * logs). `node --import tsx test/helpers/web-probe-server.ts <dir>` prints
 * {"port","token","basePath","secret","index"} once it listens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppServices } from '../../src-main/services/app-services';
import { startWebServer } from '../../src-main/transport/web-server';
import { makeImageFolder } from './images';

const dir = process.argv[2];
if (!dir) throw new Error('usage: web-probe-server.ts <work dir>');
const staticDir = path.join(dir, 'static');
fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
const index = '<!doctype html><title>probe shell</title>';
fs.writeFileSync(path.join(staticDir, 'index.html'), index);
fs.writeFileSync(path.join(staticDir, 'assets', 'app-1.js'), 'console.log(1);');
const secret = `secret-${process.pid}-outside-the-static-folder`;
fs.writeFileSync(path.join(dir, 'secret.txt'), secret);
fs.writeFileSync(path.join(dir, 'static-secret.txt'), secret);
await makeImageFolder(path.join(dir, 'images'), ['cat'], 2, 77);
const services = new AppServices({ mode: 'web', configDir: path.join(dir, 'config'), version: 'probe' });
services.createProject(path.join(dir, 'probe.mocoop'));
await services.importSource('probe', { kind: 'folder', dir: path.join(dir, 'images') });
const server = await startWebServer({ services, staticDir });
process.stdout.write(JSON.stringify({ port: server.port, token: server.token, basePath: server.basePath, secret, index }) + '\n');
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
