import { Code, type Result } from '../../../shared/codes'

/** A failed call as the UI keeps it: the code says what happened, msg is the engine's detail. */
export interface UiError {
  code: number
  msg?: string
}

/**
 * Runs one window.im call. The contract resolves every call to a Result, but a transport can still
 * reject (the headless socket closed mid-call); that becomes a Result too, so callers handle one shape.
 */
export async function callIm<T>(invoke: () => Promise<Result<T>>): Promise<Result<T>> {
  try {
    return await invoke()
  } catch (error) {
    return { code: Code.INTERNAL, msg: error instanceof Error ? error.message : String(error) }
  }
}

export function toUiError(result: { code: number; msg?: string }): UiError {
  return result.msg === undefined ? { code: result.code } : { code: result.code, msg: result.msg }
}
