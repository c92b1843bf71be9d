import { createSharedComposable, useIntervalFn, useNow } from '@vueuse/core'

/** One clock for every message row (to hide time-limited actions): a timer per row would not scale. */
export const useSharedNow = createSharedComposable(() =>
  useNow({ scheduler: (tick) => useIntervalFn(tick, 5_000) }),
)
