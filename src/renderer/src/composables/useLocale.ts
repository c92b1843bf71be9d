import { computed } from 'vue'
import { useI18n } from 'vue-i18n'
import { isAppLocale, storeLocale, SUPPORTED_LOCALES, type AppLocale } from '../i18n'

/** The current UI locale as a writable computed that also persists the choice. */
export function useLocale() {
  const { locale } = useI18n({ useScope: 'global' })
  const current = computed<AppLocale>({
    get: () => (isAppLocale(locale.value) ? locale.value : 'en'),
    set: (next) => {
      locale.value = next
      storeLocale(next)
    },
  })
  return { locale: current, locales: SUPPORTED_LOCALES }
}
