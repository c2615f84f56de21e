import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import {
  appUrlCheck,
  claimSingleInstance,
  installSecurityHandlers,
  isTrustedSender,
  secureWebContents,
  windowOpenAction,
  type SenderEvent
} from '../../src-main/electron/security';

// Electron's binary is not available here: these are the pure parts of the shell's security, with fakes.
const rendererFile = path.resolve('/opt/mocoop/out/renderer/index.html');
const built = appUrlCheck({ rendererFile });
const dev = appUrlCheck({ rendererUrl: 'http://localhost:5173/', rendererFile });
const pageUrl = pathToFileURL(rendererFile).href;

describe('which URLs are the app page', () => {
  it('the built index.html (with a query or hash), nothing else on disk or the web', () => {
    expect(built(pageUrl)).toBe(true);
    expect(built(`${pageUrl}#/train`)).toBe(true);
    expect(built(`${pageUrl}?x=1`)).toBe(true);
    expect(built(pathToFileURL(path.resolve('/opt/mocoop/out/renderer/other.html')).href)).toBe(false);
    expect(built(pathToFileURL(path.resolve('/tmp/evil/index.html')).href)).toBe(false);
    expect(built('https://example.com/')).toBe(false);
    expect(built('not a url')).toBe(false);
    expect(built('')).toBe(false);
  });

  it('in development, the dev server origin only', () => {
    expect(dev('http://localhost:5173/#/train')).toBe(true);
    expect(dev('http://localhost:5174/')).toBe(false);
    expect(dev('http://127.0.0.1:5173/')).toBe(false);
    expect(dev(pageUrl)).toBe(false);
  });
});

describe('the IPC sender check', () => {
  const appContents = { id: 1 };
  const otherContents = { id: 2 };
  const window = { webContents: appContents };
  const mainFrame = (url: string) => ({ url, parent: null });
  const event = (sender: object, frame: object | null) => ({ sender, senderFrame: frame }) as unknown as SenderEvent;

  it('trusts the app window main frame showing the app page', () => {
    expect(isTrustedSender(event(appContents, mainFrame(pageUrl)), () => window as never, built)).toBe(true);
  });

  it('refuses another window, a subframe, a page navigated away to, a destroyed frame and a closed window', () => {
    expect(isTrustedSender(event(otherContents, mainFrame(pageUrl)), () => window as never, built)).toBe(false);
    expect(isTrustedSender(event(appContents, { url: pageUrl, parent: mainFrame(pageUrl) }), () => window as never, built)).toBe(false);
    expect(isTrustedSender(event(appContents, mainFrame('https://evil.example/')), () => window as never, built)).toBe(false);
    expect(isTrustedSender(event(appContents, null), () => window as never, built)).toBe(false);
    expect(isTrustedSender(event(appContents, mainFrame(pageUrl)), () => null, built)).toBe(false);
  });
});

describe('navigation, new windows, webviews and permissions', () => {
  function fakeContents() {
    const listeners = new Map<string, (...args: unknown[]) => void>();
    let openHandler: ((details: { url: string }) => unknown) | undefined;
    const contents = {
      on: (name: string, listener: (...args: unknown[]) => void) => listeners.set(name, listener),
      setWindowOpenHandler: (handler: (details: { url: string }) => unknown) => (openHandler = handler)
    };
    const fire = (name: string, url = '') => {
      const event = { preventDefault: vi.fn() };
      listeners.get(name)!(event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    return { contents, fire, open: (url: string) => openHandler!({ url }) };
  }

  it('navigating or redirecting away from the app page is prevented; webviews never attach', () => {
    const { contents, fire } = fakeContents();
    secureWebContents(contents as never, built, () => undefined);
    expect(fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(fire('will-redirect', 'file:///etc/passwd')).toBe(true);
    expect(fire('will-navigate', `${pageUrl}#/labels`)).toBe(false);
    expect(fire('will-attach-webview')).toBe(true);
  });

  it('new windows are denied; https links open in the system browser, other schemes nowhere', () => {
    const opened: string[] = [];
    const { contents, open } = fakeContents();
    secureWebContents(contents as never, built, (url) => opened.push(url));
    expect(open('https://arxiv.org/abs/2409.00000')).toEqual({ action: 'deny' });
    expect(open('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(windowOpenAction({ url: 'http://plain.example/' }, (url) => opened.push(url))).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://arxiv.org/abs/2409.00000']);
  });

  it('installs the handlers on every new web contents, denies every permission and sets the CSP header', () => {
    const appListeners = new Map<string, (...args: unknown[]) => void>();
    const app = { on: (name: string, listener: (...args: unknown[]) => void) => appListeners.set(name, listener) };
    let requestHandler: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined;
    let checkHandler: (() => boolean) | undefined;
    let headers: ((details: { responseHeaders: Record<string, string[]> }, cb: (r: unknown) => void) => void) | undefined;
    const session = {
      setPermissionRequestHandler: (h: typeof requestHandler) => (requestHandler = h),
      setPermissionCheckHandler: (h: typeof checkHandler) => (checkHandler = h),
      webRequest: { onHeadersReceived: (h: typeof headers) => (headers = h) }
    };
    installSecurityHandlers(app as never, session as never, { isAppUrl: built, openExternal: () => undefined, contentSecurityPolicy: "default-src 'self'" });
    const { contents, fire } = fakeContents();
    appListeners.get('web-contents-created')!({}, contents);
    expect(fire('will-navigate', 'https://evil.example/')).toBe(true);
    const granted = vi.fn();
    requestHandler!({}, 'media', granted);
    expect(granted).toHaveBeenCalledWith(false);
    expect(checkHandler!()).toBe(false);
    const reply = vi.fn();
    headers!({ responseHeaders: { 'X-Other': ['1'] } }, reply);
    expect(reply).toHaveBeenCalledWith({ responseHeaders: { 'X-Other': ['1'], 'Content-Security-Policy': ["default-src 'self'"] } });
  });
});

describe('single instance', () => {
  function fakeApp(locked: boolean) {
    const listeners = new Map<string, () => void>();
    return { requestSingleInstanceLock: () => locked, on: (name: string, listener: () => void) => listeners.set(name, listener), listeners };
  }
  const fakeWindow = (minimized: boolean, visible: boolean) => ({
    isMinimized: () => minimized,
    isVisible: () => visible,
    restore: vi.fn(),
    show: vi.fn(),
    focus: vi.fn()
  });

  it('a second launch gets no lock (and should quit); the first focuses its window on second-instance', () => {
    expect(claimSingleInstance(fakeApp(false) as never, () => null)).toBe(false);
    const app = fakeApp(true);
    const window = fakeWindow(true, false);
    expect(claimSingleInstance(app as never, () => window as never)).toBe(true);
    app.listeners.get('second-instance')!();
    expect(window.restore).toHaveBeenCalled();
    expect(window.show).toHaveBeenCalled();
    expect(window.focus).toHaveBeenCalled();
  });

  it('a visible window is only focused; no window yet is no error', () => {
    const app = fakeApp(true);
    const window = fakeWindow(false, true);
    claimSingleInstance(app as never, () => window as never);
    app.listeners.get('second-instance')!();
    expect(window.restore).not.toHaveBeenCalled();
    expect(window.show).not.toHaveBeenCalled();
    expect(window.focus).toHaveBeenCalledTimes(1);
    const empty = fakeApp(true);
    claimSingleInstance(empty as never, () => null);
    expect(() => empty.listeners.get('second-instance')!()).not.toThrow();
  });
});
