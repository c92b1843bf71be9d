import { createI18n } from 'vue-i18n'
import en from './en.json'
import zhCN from './zh-CN.json'

export const SUPPORTED_LOCALES = ['en', 'zh-CN'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]

const LOCALE_STORAGE_KEY = 'messenger.locale'

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value)
}

/** A choice the user made wins; otherwise every Chinese variant maps to zh-CN and the rest to English. */
export function pickLocale(stored: string | null, browserLanguage: string | undefined): AppLocale {
  if (isAppLocale(stored)) return stored
  return browserLanguage?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

function readStoredLocale(): string | null {
  try {
    return localStorage.getItem(LOCALE_STORAGE_KEY)
  } catch {
    // Storage can be unavailable (disabled, or an opaque origin); the browser language still works.
    return null
  }
}

function initialLocale(): AppLocale {
  return pickLocale(readStoredLocale(), navigator.language)
}

export function storeLocale(locale: AppLocale): void {
  try {
    localStorage.setItem(LOCALE_STORAGE_KEY, locale)
  } catch {
    // Not persisting is acceptable: the choice still holds for this window.
  }
  document.documentElement.lang = locale
}

export interface AppI18nOptions {
  locale?: AppLocale
  /** Tests pass a handler that throws, so a key missing from the JSON fails loudly. */
  missing?: (locale: string, key: string) => string | void
}

export function createAppI18n(options: AppI18nOptions = {}) {
  const locale = options.locale ?? initialLocale()
  document.documentElement.lang = locale
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: { en, 'zh-CN': zhCN },
    ...(options.missing ? { missing: options.missing } : {}),
  })
}
