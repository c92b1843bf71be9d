import type { Scenario } from '../lib/types'
import { s1Store } from './s1Store'

export const scenarios: Scenario[] = [s1Store]
