import { ServerUrl } from '../../../shared/ipc'
import { DisplayName, hasHiddenCharacters, LIMITS, Password, UserId } from '../../../shared/model'

/** Form checks use the contract's own schemas, so the UI accepts exactly what the engine accepts. */
export const isValidServerUrl = (value: string): boolean => ServerUrl.safeParse(value).success
export const isValidUserId = (value: string): boolean => UserId.safeParse(value).success
export const isValidNewPassword = (value: string): boolean => Password.safeParse(value).success
export const isValidDisplayName = (value: string): boolean => DisplayName.safeParse(value).success

/** The shared rule of names (issue #11): no control, bidi-override or invisible characters. */
export { hasHiddenCharacters, LIMITS }
