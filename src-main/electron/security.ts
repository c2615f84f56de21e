/**
 * The Electron shell's security handlers, in one module and free of Electron at load time (only its
 * types): which URLs are the app's page, which IPC senders are trusted, what navigation, new windows,
 * webviews and permission requests get, and the single-instance lock. main.ts passes the real `app`,
 * `session`, `shell` and windows in; the unit tests pass fakes.
 */
import { pathToFileURL } from 'node:url';
import type { App, BrowserWindow, Event, HandlerDetails, IpcMainInvokeEvent, Session, WebContents } from 'electron';

/** Where the app's page comes from: the dev server's origin, or the built index.html on disk. */
export interface AppPage {
  rendererUrl?: string | null;
  rendererFile: string;
}

/** True only for the app's own page: the dev server's origin, or exactly the built index.html (any query or hash). */
export function appUrlCheck(page: AppPage): (raw: string) => boolean {
  const origin = page.rendererUrl ? new URL(page.rendererUrl).origin : null;
  const filePath = pathToFileURL(page.rendererFile).pathname;
  return (raw: string) => {
    try {
      const url = new URL(raw);
      if (origin) return url.origin === origin;
      return url.protocol === 'file:' && url.host === '' && url.pathname === filePath;
    } catch {
      return false;
    }
  };
}

/** What the IPC sender check looks at: the sending WebContents and the frame that sent. */
export type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

/**
 * An IPC request is trusted only from the app window's WebContents, from its main frame (not an
 * iframe), showing the app's own page. Anything else (another window, a subframe, a page the window
 * was navigated to, a destroyed frame) is refused.
 */
export function isTrustedSender(event: SenderEvent, appWindow: () => Pick<BrowserWindow, 'webContents'> | null, isAppUrl: (url: string) => boolean): boolean {
  const contents = appWindow()?.webContents;
  if (!contents || event.sender !== contents) return false;
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame.parent !== null && frame.parent !== undefined) return false;
  return isAppUrl(frame.url ?? '');
}

/** A link the page asks to open in a new window: https goes to the system browser, nothing opens inside the app. */
export function windowOpenAction(details: Pick<HandlerDetails, 'url'>, openExternal: (url: string) => unknown): { action: 'deny' } {
  try {
    if (new URL(details.url).protocol === 'https:') void openExternal(details.url);
  } catch {
    // Not a URL: nothing to open.
  }
  return { action: 'deny' };
}

/** Navigation, redirects, new windows and webviews of every WebContents the app creates. */
export function secureWebContents(
  contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>,
  isAppUrl: (url: string) => boolean,
  openExternal: (url: string) => unknown
): void {
  const stayOnApp = (event: Pick<Event, 'preventDefault'>, url: string) => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', stayOnApp as never);
  contents.on('will-redirect', stayOnApp as never);
  contents.on('will-attach-webview', ((event: Pick<Event, 'preventDefault'>) => event.preventDefault()) as never);
  contents.setWindowOpenHandler((details) => windowOpenAction(details, openExternal));
}

/** Every web contents gets the handlers above; every permission request (camera, notifications, …) is denied. */
export function installSecurityHandlers(
  app: Pick<App, 'on'>,
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'webRequest'>,
  options: { isAppUrl: (url: string) => boolean; openExternal: (url: string) => unknown; contentSecurityPolicy: string }
): void {
  app.on('web-contents-created', (_event, contents) => secureWebContents(contents, options.isAppUrl, options.openExternal));
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [options.contentSecurityPolicy] } });
  });
}

/** Brings a window to the front: restored if minimised, shown if hidden, focused. */
export function focusWindow(window: Pick<BrowserWindow, 'isMinimized' | 'restore' | 'isVisible' | 'show' | 'focus'> | null): void {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  if (!window.isVisible()) window.show();
  window.focus();
}

/**
 * One running app per user: a second launch only focuses the first window and exits, so two compute
 * workers never train on one project. Returns false in the second instance (which should quit at once).
 */
export function claimSingleInstance(app: Pick<App, 'requestSingleInstanceLock' | 'on'>, appWindow: () => Parameters<typeof focusWindow>[0]): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', () => focusWindow(appWindow()));
  return true;
}
