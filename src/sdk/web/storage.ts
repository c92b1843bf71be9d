/**
 * Where the web SDK keeps what must survive a page reload (the R7 receipt-request cache, the sync
 * cursors, this browser's device id): a small key-value interface with an IndexedDB implementation
 * for browsers and an in-memory one for tests and for pages that want nothing kept.
 *
 * Raw IndexedDB rather than a wrapper library (idb): we need get, put and delete on one object
 * store, about forty lines, and every byte here is a byte of every page that loads the SDK.
 */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>
  set(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<void>
}

/** Values are copied in and out, as IndexedDB's structured clone does, so callers cannot alias them. */
export class MemoryStore implements KeyValueStore {
  private readonly values = new Map<string, unknown>()

  async get<T>(key: string): Promise<T | undefined> {
    const value = this.values.get(key)
    return value === undefined ? undefined : (structuredClone(value) as T)
  }

  async set(key: string, value: unknown): Promise<void> {
    this.values.set(key, structuredClone(value))
  }

  async delete(key: string): Promise<void> {
    this.values.delete(key)
  }
}

const OBJECT_STORE = 'kv'

/** One database per page origin (IndexedDB is per origin), one object store of key → value. */
export class IndexedDbStore implements KeyValueStore {
  private db: Promise<IDBDatabase> | undefined

  constructor(
    private readonly name = 'im-web-sdk',
    private readonly factory: IDBFactory = globalThis.indexedDB,
  ) {}

  get<T>(key: string): Promise<T | undefined> {
    return this.run('readonly', (store) => store.get(key)) as Promise<T | undefined>
  }

  async set(key: string, value: unknown): Promise<void> {
    await this.run('readwrite', (store) => store.put(value, key))
  }

  async delete(key: string): Promise<void> {
    await this.run('readwrite', (store) => store.delete(key))
  }

  private open(): Promise<IDBDatabase> {
    return (this.db ??= new Promise((resolve, reject) => {
      const request = this.factory.open(this.name, 1)
      request.onupgradeneeded = () => request.result.createObjectStore(OBJECT_STORE)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened'))
    }))
  }

  /** One request in its own transaction; resolves once the transaction has committed. */
  private async run(mode: IDBTransactionMode, call: (store: IDBObjectStore) => IDBRequest): Promise<unknown> {
    const db = await this.open()
    return new Promise((resolve, reject) => {
      const tx = db.transaction(OBJECT_STORE, mode)
      const request = call(tx.objectStore(OBJECT_STORE))
      tx.oncomplete = () => resolve(request.result)
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
    })
  }
}

/** IndexedDB where the page has it (every current browser), else memory (nothing survives a reload). */
export function defaultStore(): KeyValueStore {
  return typeof globalThis.indexedDB === 'undefined' ? new MemoryStore() : new IndexedDbStore()
}
