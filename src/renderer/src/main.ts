import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { ensureImApi } from './bridge/headless'
import { createAppI18n } from './i18n'
import { applyStoredTheme } from './lib/theme'
import './styles/main.css'

async function start(): Promise<void> {
  applyStoredTheme()
  // Outside Electron, window.im is a bridge over a local socket that must exist before any store runs.
  await ensureImApi()
  createApp(App).use(createPinia()).use(createAppI18n()).mount('#app')
}

void start()
