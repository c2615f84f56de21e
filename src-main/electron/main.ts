/**
 * The Electron shell: one secure window, the IPC manager and the media protocol. Everything else is
 * in the services, which web mode and the CLI share.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, protocol, session, shell } from 'electron';
import { AppServices } from '../services/app-services';
import { loadMedia } from '../services/media';
import { contentSecurityPolicy } from '../transport/security';
import { MEDIA_SCHEME } from './channels';
import { attachIpc, forwardEvents } from './ipc';
import { appUrlCheck, claimSingleInstance, installSecurityHandlers, isTrustedSender } from './security';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(here, '../renderer/index.html');
const appOrigin = rendererUrl ? new URL(rendererUrl).origin : null;

protocol.registerSchemesAsPrivileged([{ scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let window: BrowserWindow | null = null;
const isAppUrl = appUrlCheck({ rendererUrl, rendererFile });

// One running app per user: a second launch focuses this window and quits before it builds any
// services, so two compute workers never train on one project.
if (!claimSingleInstance(app, () => window)) {
  app.quit();
} else {
  start();
}

function start(): void {
  const services = new AppServices({
    mode: 'electron',
    configDir: app.getPath('userData'),
    version: app.getVersion(),
    async pickPath(kind, title) {
      const owner = window ?? undefined;
      if (kind === 'save') {
        const result = owner
          ? await dialog.showSaveDialog(owner, { title, filters: [{ name: 'MoCoOp project', extensions: ['mocoop'] }] })
          : await dialog.showSaveDialog({ title });
        return result.canceled ? null : (result.filePath ?? null);
      }
      const properties: ('openDirectory' | 'openFile')[] = [kind === 'folder' ? 'openDirectory' : 'openFile'];
      const result = owner ? await dialog.showOpenDialog(owner, { title, properties }) : await dialog.showOpenDialog({ title, properties });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    }
  });

  function createWindow(): void {
    window = new BrowserWindow({
      width: 1360,
      height: 860,
      minWidth: 1024,
      minHeight: 680,
      title: 'MoCoOp Workbench',
      show: false,
      webPreferences: {
        preload: path.join(here, '../preload/preload.cjs'),
        contextIsolation: true,
        nodeIntegration: false,
        sandbox: true,
        webSecurity: true,
        allowRunningInsecureContent: false,
        spellcheck: false
      }
    });
    window.once('ready-to-show', () => window?.show());
    window.on('closed', () => (window = null));
    if (rendererUrl) void window.loadURL(rendererUrl);
    else void window.loadFile(rendererFile);
  }

  app.whenReady().then(() => {
    installSecurityHandlers(app, session.defaultSession, {
      isAppUrl,
      openExternal: (url) => shell.openExternal(url),
      contentSecurityPolicy: contentSecurityPolicy(appOrigin ? appOrigin.replace(/^http/, 'ws') : '')
    });
    protocol.handle(MEDIA_SCHEME, async (request) => {
      const url = new URL(request.url);
      const found = await loadMedia(services, url.hostname, url.pathname.slice(1));
      if (!found) return new Response('Not found', { status: 404 });
      return new Response(new Uint8Array(found.data), { headers: { 'Content-Type': found.mime, 'Cache-Control': 'private, max-age=60' } });
    });
    attachIpc(services, (event) => isTrustedSender(event, () => window, isAppUrl));
    forwardEvents(services, () => window?.webContents ?? null);
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('window-all-closed', () => {
    services.dispose();
    if (process.platform !== 'darwin') app.quit();
  });
}
