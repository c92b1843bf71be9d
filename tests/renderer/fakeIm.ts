import { ok, type Result } from '../../src/shared/codes'
import {
  operationNames,
  type EventName,
  type ImApi,
  type IpcEvents,
  type OperationArgs,
  type OperationName,
  type OperationResult,
} from '../../src/shared/ipc'
import { makeSent } from './fixtures'

type Answer<K extends OperationName> = Result<OperationResult<K>> | Promise<Result<OperationResult<K>>>
type Responder<K extends OperationName> = (...args: OperationArgs<K>) => Answer<K>

export interface RecordedCall {
  name: OperationName
  args: unknown[]
}

const defaults: { [K in OperationName]?: Responder<K> } = {
  getAppInfo: () =>
    ok({ version: '0.1.0', host: 'headless', profile: 'alice', defaultServerUrl: 'ws://127.0.0.1:7700/ws' }),
  getCurrentUser: () => ok(null),
  getConnectionState: () => ok({ state: 'connected' }),
  getSettings: () => ok({ requireDeliveryAck: false, requireReadAck: false }),
  updateSettings: (patch) => ok({ requireDeliveryAck: false, requireReadAck: false, ...patch }),
  getConversationList: () => ok([]),
  getHistoryMessages: () => ok({ list: [], hasMore: false }),
  getGroupMembers: () => ok([]),
  sendMessage: (conversation, content) =>
    ok(makeSent({ conversation, content, status: 'sending', seq: null, messageUId: null })),
}

/**
 * A stand-in for window.im: records every call, answers with a responder set per operation (or a
 * harmless default), and emits events to the handlers registered with `on`.
 */
export class FakeIm {
  readonly calls: RecordedCall[] = []
  readonly api: ImApi
  private readonly responders = new Map<OperationName, (...args: unknown[]) => unknown>()
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>()

  constructor() {
    const api: Record<string, unknown> = {
      on: (event: EventName, handler: (payload: unknown) => void) => {
        const set = this.listeners.get(event) ?? new Set()
        set.add(handler)
        this.listeners.set(event, set)
        return () => set.delete(handler)
      },
    }
    for (const name of operationNames) {
      api[name] = async (...args: unknown[]) => {
        this.calls.push({ name, args })
        const responder =
          this.responders.get(name) ?? (defaults[name] as ((...a: unknown[]) => unknown) | undefined)
        return responder ? responder(...args) : ok(null)
      }
    }
    // Built from the contract's own list of operations, so every member of ImApi is present.
    this.api = api as ImApi
  }

  respond<K extends OperationName>(name: K, responder: Responder<K>): void {
    this.responders.set(name, responder as (...args: unknown[]) => unknown)
  }

  emit<E extends EventName>(event: E, payload: IpcEvents[E]): void {
    for (const handler of this.listeners.get(event) ?? []) handler(payload)
  }

  callsOf<K extends OperationName>(name: K): OperationArgs<K>[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.args as OperationArgs<K>)
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0
  }
}

export function installFakeIm(): FakeIm {
  const fake = new FakeIm()
  window.im = fake.api
  return fake
}
