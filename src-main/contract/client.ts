import { type EventName, type EventPayload, type Envelope, type Input, type Output, type RequestName, requestNames } from './index';

type Domain<K> = K extends `${infer D}.${string}` ? D : never;
type Method<K extends RequestName, D extends string> = K extends `${D}.${infer M}` ? M : never;
type Call<K extends RequestName> = undefined extends Input<K> ? (input?: Input<K>) => Promise<Output<K>> : (input: Input<K>) => Promise<Output<K>>;

/** The domain API the renderer sees: `api.project.create({...})`, identical over IPC and web mode. */
export type DomainApi = { [D in Domain<RequestName>]: { [K in RequestName as Method<K, D>]: Call<K> } };

export type Invoke = (name: RequestName, input: unknown) => Promise<Envelope<unknown>>;
export type Subscribe = <E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void) => () => void;

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export function createDomainApi(invoke: Invoke): DomainApi {
  const api: Record<string, Record<string, (input?: unknown) => Promise<unknown>>> = {};
  for (const name of requestNames) {
    const [domain, method] = name.split('.') as [string, string];
    api[domain] ??= {};
    api[domain][method] = async (input?: unknown) => {
      const envelope = await invoke(name, input);
      if (!envelope.ok) throw new RequestError(envelope.error.code, envelope.error.message);
      return envelope.value;
    };
  }
  return api as unknown as DomainApi;
}
