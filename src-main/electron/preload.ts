import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createDomainApi } from '../contract/client';
import { type EventName, isEventName } from '../contract';
import { EVENT_CHANNEL, INVOKE_CHANNEL, MEDIA_SCHEME } from './channels';
import { CLIENT_ID_CHANNEL } from './client-channel';

const api = createDomainApi((name, input) => ipcRenderer.invoke(INVOKE_CHANNEL, name, input));

contextBridge.exposeInMainWorld('mocoop', {
  transport: 'electron',
  api,
  // This window's client id (main names it per webContents): tells its own changes from another window's.
  clientId: String(ipcRenderer.sendSync(CLIENT_ID_CHANNEL) ?? ''),
  on(name: EventName, listener: (payload: unknown) => void): () => void {
    if (!isEventName(name)) throw new Error(`Unknown event "${String(name)}".`);
    const handler = (_event: unknown, eventName: string, payload: unknown) => {
      if (eventName === name) listener(payload);
    };
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  },
  mediaUrl: (kind: 'thumb' | 'image', id: number) => `${MEDIA_SCHEME}://${kind}/${id}`,
  pathForFile: (file: File) => webUtils.getPathForFile(file)
});
