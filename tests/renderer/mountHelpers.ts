import { createTestingPinia } from '@pinia/testing'
import { mount, type ComponentMountingOptions } from '@vue/test-utils'
import { vi } from 'vitest'
import type { Component } from 'vue'
import { createAppI18n, type AppLocale } from '@renderer/i18n'

/**
 * A testing Pinia whose actions really run (against the fake window.im; it is also the active
 * Pinia, so stores can be prepared before mounting) and the app's i18n, where a key missing from
 * the JSON throws instead of rendering the key.
 */
export function createTestApp(locale: AppLocale = 'en') {
  const pinia = createTestingPinia({ stubActions: false, createSpy: vi.fn })
  const i18n = createAppI18n({
    locale,
    missing: (missingLocale, key) => {
      throw new Error(`missing ${missingLocale} translation: ${key}`)
    },
  })
  return {
    pinia,
    i18n,
    mount: <C extends Component>(component: C, props?: ComponentMountingOptions<C>['props']) => {
      // test-utils' conditional prop types do not narrow through a generic C; the call site is checked.
      const options = {
        props,
        global: { plugins: [pinia, i18n] },
        attachTo: document.body,
      } as ComponentMountingOptions<C>
      return mount(component, options)
    },
  }
}
