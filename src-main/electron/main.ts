/**
 * The Electron shell: one secure window, the IPC manager and the media protocol. Everything else is
 * in the services, which web mode and the CLI share.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BrowserWindow, app, dialog, protocol, session, shell } from 'electron';
import { AppServices } from '../services/app-services';
import { loadMedia } from '../services/media';
import { contentSecurityPolicy } from '../transport/security';
import { MEDIA_SCHEME } from './channels';
import { attachIpc, forwardEvents } from './ipc';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(here, '../renderer/index.html');
const appOrigin = rendererUrl ? new URL(rendererUrl).origin : null;

protocol.registerSchemesAsPrivileged([{ scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let window: BrowserWindow | null = null;

function isAppUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (appOrigin) return url.origin === appOrigin;
    return url.protocol === 'file:' && url.pathname === pathToFileURL(rendererFile).pathname;
  } catch {
    return false;
  }
}

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

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy(appOrigin ? appOrigin.replace(/^http/, 'ws') : '')] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const url = new URL(request.url);
    const found = await loadMedia(services, url.hostname, url.pathname.slice(1));
    if (!found) return new Response('Not found', { status: 404 });
    return new Response(new Uint8Array(found.data), { headers: { 'Content-Type': found.mime, 'Cache-Control': 'private, max-age=60' } });
  });
  attachIpc(services, (event) => event.sender === window?.webContents && isAppUrl(event.senderFrame?.url ?? ''));
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
