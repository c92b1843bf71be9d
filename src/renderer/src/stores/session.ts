import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Result } from '../../../shared/codes'
import type { AppInfo, SessionInfo } from '../../../shared/ipc'
import type { AccountSettings } from '../../../shared/protocol'
import { callIm, toUiError, type UiError } from '../lib/im'

export interface SignInForm {
  serverUrl: string
  userId: string
  password: string
}

export interface SignUpForm extends SignInForm {
  displayName?: string
  /** On servers that give out invite codes. */
  inviteCode?: string
}

/** Who is signed in, the app's identity and the account settings: a copy of the engine's state. */
export const useSessionStore = defineStore('session', () => {
  const appInfo = ref<AppInfo | null>(null)
  const session = ref<SessionInfo | null>(null)
  const settings = ref<AccountSettings | null>(null)
  /** False until the first getCurrentUser answer: the UI shows neither screen before that. */
  const ready = ref(false)
  const loadError = ref<UiError | null>(null)
  const endedReason = ref<'logout' | 'revoked' | null>(null)

  const userId = computed(() => session.value?.user.userId ?? null)
  let unsubscribers: Array<() => void> = []

  function subscribe(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('settingsChanged', (next) => {
        settings.value = next
      }),
      window.im.on('sessionEnded', ({ reason }) => {
        session.value = null
        settings.value = null
        endedReason.value = reason
      }),
    ]
  }

  async function loadSettings(): Promise<void> {
    const result = await callIm(() => window.im.getSettings())
    if (result.code === 0) settings.value = result.data
  }

  async function init(): Promise<void> {
    subscribe()
    const [info, current] = await Promise.all([
      callIm(() => window.im.getAppInfo()),
      callIm(() => window.im.getCurrentUser()),
    ])
    if (info.code === 0) appInfo.value = info.data
    else loadError.value = toUiError(info)
    if (current.code === 0) session.value = current.data
    else loadError.value = toUiError(current)
    if (session.value) await loadSettings()
    ready.value = true
  }

  async function login(form: SignInForm): Promise<Result<SessionInfo>> {
    const result = await callIm(() => window.im.login(form))
    if (result.code === 0) {
      session.value = result.data
      endedReason.value = null
      await loadSettings()
    }
    return result
  }

  /** Registers, then signs in with the same credentials: a new user lands straight in the app. */
  async function register(form: SignUpForm): Promise<Result<SessionInfo>> {
    const registered = await callIm(() => window.im.register(form))
    if (registered.code !== 0) return registered
    return login({ serverUrl: form.serverUrl, userId: form.userId, password: form.password })
  }

  async function logout(): Promise<Result<null>> {
    const result = await callIm(() => window.im.logout())
    if (result.code === 0) {
      session.value = null
      settings.value = null
      endedReason.value = 'logout'
    }
    return result
  }

  async function updateSettings(patch: Partial<AccountSettings>): Promise<Result<AccountSettings>> {
    const result = await callIm(() => window.im.updateSettings(patch))
    if (result.code === 0) settings.value = result.data
    return result
  }

  function dispose(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
  }

  return {
    appInfo,
    session,
    settings,
    ready,
    loadError,
    endedReason,
    userId,
    init,
    login,
    register,
    logout,
    updateSettings,
    dispose,
  }
})
