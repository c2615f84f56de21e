/** The synchronous IPC channel on which a window's preload asks for its client id (per webContents). */
export const CLIENT_ID_CHANNEL = 'mocoop:client-id';

/** A window's client id: its label history and the origin of the changes it makes. */
export const windowClientId = (webContentsId: number): string => `win-${webContentsId}`;
