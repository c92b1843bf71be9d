import type { Scenario } from '../lib/types'
import { s1Store } from './s1Store'
import { s2Ingest } from './s2Ingest'
import { s3ReceiptTraffic } from './s3ReceiptTraffic'
import { s4GroupReaders } from './s4GroupReaders'
import { s5ServerLoad } from './s5ServerLoad'
import { s6Peer } from './s6Peer'
import { s7Renderer } from './s7Renderer'
import { s8Search } from './s8Search'
import { s9Attachments } from './s9Attachments'
import { s10Acks } from './s10Acks'

export const scenarios: Scenario[] = [
  s1Store,
  s2Ingest,
  s3ReceiptTraffic,
  s4GroupReaders,
  s5ServerLoad,
  s6Peer,
  s7Renderer,
  s8Search,
  s9Attachments,
  s10Acks,
]
