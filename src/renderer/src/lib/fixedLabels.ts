/** A translate function of one i18n instance (vue-i18n's `t`), as called with a key alone. */
type Translate = (key: string) => string
/** The same function, called with named arguments. */
type TranslateNamed = (key: string, named: Record<string, unknown>) => string

const caches = new WeakMap<object, Map<string, string | string[]>>()

function cached<T extends string | string[]>(t: object, key: string, make: () => T): T {
  let cache = caches.get(t)
  if (!cache) {
    cache = new Map()
    caches.set(t, cache)
  }
  let value = cache.get(key) as T | undefined
  if (value === undefined) {
    value = make()
    cache.set(key, value)
  }
  return value
}

/**
 * A label without arguments, translated once per i18n instance and locale. Every message row says
 * the same few words ("Message info", "You:", "Read"…), and vue-i18n's `t` resolves and formats
 * the message again on each call: a large share of the script that mounts a row while scrolling.
 * The caller reads `locale.value` (passed here), so a change of language still renders again.
 * The app's messages are fixed at build time (no setLocaleMessage), so a cached label never goes stale.
 */
export function fixedLabel(t: Translate, locale: string, key: string): string {
  return cached(t, `${locale}\u0000${key}`, () => t(key))
}

const SLOT = '\u0000slot\u0000'

/**
 * A label with one named argument that is only put in its place (`"Sent: {time}"`, no plural or
 * linked message over it), translated once per i18n instance and locale like `fixedLabel`.
 */
export function filledLabel(
  t: TranslateNamed,
  locale: string,
  key: string,
  name: string,
  value: string,
): string {
  return cached(t, `${locale}\u0000${key}\u0000${name}`, () => t(key, { [name]: SLOT }).split(SLOT)).join(
    value,
  )
}
