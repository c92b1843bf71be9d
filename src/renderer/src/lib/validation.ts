import { DisplayName, hasHiddenCharacters, LIMITS, Password, UserId } from '../../../shared/model'
import { checkServerList, type ServerListProblem } from '../../../shared/serverList'

/** Form checks use the contract's own schemas, so the UI accepts exactly what the engine accepts. */
export const isValidUserId = (value: string): boolean => UserId.safeParse(value).success
export const isValidNewPassword = (value: string): boolean => Password.safeParse(value).success
export const isValidDisplayName = (value: string): boolean => DisplayName.safeParse(value).success
/** What is wrong with the server field (one URL, or the nodes of one server, comma-separated), if anything. */
export const serverListProblem = (value: string): ServerListProblem | undefined => {
  const checked = checkServerList(value)
  return 'problem' in checked ? checked.problem : undefined
}

/** The shared rule of names (issue #11): no control, bidi-override or invisible characters. */
export { hasHiddenCharacters, LIMITS }
