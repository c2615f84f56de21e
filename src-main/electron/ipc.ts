import { type IpcMainInvokeEvent, type WebContents, ipcMain } from 'electron';
import { dispatch } from '../contract/dispatch';
import type { AppServices } from '../services/app-services';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from './channels';
import { CLIENT_ID_CHANNEL, windowClientId } from './client-channel';

/**
 * Main-side IPC manager: one handler for every contract request. Only the app's own window, showing
 * the app's own page, may call it; everything it sends is validated by `dispatch`. Each window is a
 * client of its own (per webContents): its label history, and the origin of the changes it makes.
 */
export function attachIpc(services: AppServices, isTrustedSender: (event: IpcMainInvokeEvent) => boolean): () => void {
  ipcMain.handle(INVOKE_CHANNEL, async (event, name: unknown, input: unknown) => {
    if (!isTrustedSender(event)) {
      return { ok: false, error: { code: 'unavailable', message: 'Request refused: it did not come from the app window.' } };
    }
    return dispatch(services.handlers(), name, input, console.error, () => services.openProject?.file, { clientId: windowClientId(event.sender.id) });
  });
  const tellClientId = (event: Electron.IpcMainEvent) => {
    event.returnValue = windowClientId(event.sender.id);
  };
  ipcMain.on(CLIENT_ID_CHANNEL, tellClientId);
  return () => {
    ipcMain.removeHandler(INVOKE_CHANNEL);
    ipcMain.removeListener(CLIENT_ID_CHANNEL, tellClientId);
  };
}

export function forwardEvents(services: AppServices, target: () => WebContents | null): () => void {
  return services.events.subscribe((name, payload) => {
    const contents = target();
    if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, name, payload);
  });
}
