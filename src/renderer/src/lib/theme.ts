/**
 * The colour theme: the system's (the default: the stylesheet's light-dark() colours follow
 * prefers-color-scheme) or one chosen in Settings → Appearance, kept in this profile's localStorage
 * and applied as data-theme on <html>, which sets color-scheme (styles/main.css).
 */
import { ref } from 'vue'

export const THEMES = ['system', 'light', 'dark'] as const
export type Theme = (typeof THEMES)[number]

const THEME_STORAGE_KEY = 'messenger.theme'

export function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value)
}

function readStoredTheme(): Theme {
  try {
    const stored = localStorage.getItem(THEME_STORAGE_KEY)
    return isTheme(stored) ? stored : 'system'
  } catch {
    // Storage can be unavailable (disabled, or an opaque origin): the system's theme still applies.
    return 'system'
  }
}

function apply(theme: Theme): void {
  if (theme === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = theme
}

/** The current choice, shared by every component of the window. */
export const currentTheme = ref<Theme>('system')

/** At start, before the first paint: the stored choice. */
export function applyStoredTheme(): void {
  currentTheme.value = readStoredTheme()
  apply(currentTheme.value)
}

export function setTheme(theme: Theme): void {
  currentTheme.value = theme
  apply(theme)
  try {
    if (theme === 'system') localStorage.removeItem(THEME_STORAGE_KEY)
    else localStorage.setItem(THEME_STORAGE_KEY, theme)
  } catch {
    // Not persisting is acceptable: the choice still holds for this window.
  }
}
