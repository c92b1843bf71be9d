import { useI18n } from 'vue-i18n'
import { codeName } from '../../../shared/codes'
import { argumentProblem } from '../lib/argumentProblem'
import type { UiError } from '../lib/im'

/** Fields the app can name in words when a value was refused; others are "some input". */
const NAMED_FIELDS = new Set([
  'text',
  'name',
  'displayName',
  'userId',
  'userIds',
  'memberIds',
  'newOwnerId',
  'password',
  'serverUrl',
  'inviteCode',
  'validityMs',
  'maxGroupSize',
  'ext',
  'channelId',
])

/**
 * Words for a failed call: the translation of its code name; for INVALID_ARGUMENT, which field was
 * refused and why, in words (never the validator's text); the engine's msg only when the code is
 * unknown to this build.
 */
export function useErrorText() {
  const { t, te } = useI18n({ useScope: 'global' })
  const invalidArgument = (msg: string | undefined): string => {
    const problem = argumentProblem(msg)
    if (!problem) return t('codes.INVALID_ARGUMENT')
    const field = t(
      problem.field && NAMED_FIELDS.has(problem.field)
        ? `argument.fields.${problem.field}`
        : 'argument.fields.unknown',
    )
    const kind = problem.kind ?? 'string'
    if (problem.problem !== 'invalid' && problem.limit !== null) {
      return t(`argument.${problem.problem}.${kind}`, { field, limit: problem.limit }, problem.limit)
    }
    return t('argument.invalid', { field })
  }
  return (error: UiError): string => {
    const name = codeName(error.code)
    if (name === 'INVALID_ARGUMENT') return invalidArgument(error.msg)
    const key = `codes.${name}`
    if (name && te(key)) return t(key)
    return error.msg ?? t('errors.unknown', { code: error.code })
  }
}
