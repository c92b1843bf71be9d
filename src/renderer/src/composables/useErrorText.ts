import { useI18n } from 'vue-i18n'
import { codeName } from '../../../shared/codes'
import type { UiError } from '../lib/im'

/**
 * Words for a failed call: the translation of its code name; the engine's msg only when the code is
 * unknown to this build, or as the detail of INVALID_ARGUMENT (where msg names the field).
 */
export function useErrorText() {
  const { t, te } = useI18n({ useScope: 'global' })
  return (error: UiError): string => {
    const name = codeName(error.code)
    const key = `codes.${name}`
    if (name && te(key)) {
      const text = t(key)
      return name === 'INVALID_ARGUMENT' && error.msg ? `${text} (${error.msg})` : text
    }
    return error.msg ?? t('errors.unknown', { code: error.code })
  }
}
