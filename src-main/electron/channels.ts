/** The IPC channel names: one for requests (the request name travels as an argument), one for events. */
export const INVOKE_CHANNEL = 'mocoop:invoke';
export const EVENT_CHANNEL = 'mocoop:event';
export const MEDIA_SCHEME = 'mocoop-media';
