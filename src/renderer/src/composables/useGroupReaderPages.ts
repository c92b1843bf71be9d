import { computed, ref } from 'vue'
import type { Result } from '../../../shared/codes'
import type { Message } from '../../../shared/model'
import { groupReadCounts, hiddenReaders } from '../lib/messages'
import { useGroupsStore } from '../stores/groups'
import { useHiddenReadersEstimate } from './useGroupReads'
import { usePagedList, type Page } from './usePagedList'

const PAGE_SIZE = 50

export interface Reader {
  userId: string
  /** When they read it. */
  time: number
  /** The server cursor of this reader fact (absent for readers known only from the message). */
  ackId?: string
}

export interface NotReader {
  userId: string
  displayName: string
}

/**
 * The readers of one group message of mine, and the members who have not read it, paged from the
 * server, which keeps one reader fact per member for either model (an Easemob ack or a RongCloud
 * response): fetchGroupReadAcks and fetchGroupUnreadMembers, each with its stable cursor. Used by
 * the reader panel and the message info panel. Pages give the lists only; the counts are the
 * message's own, as the engine reports them, and `hidden` is the number of members who could read
 * it but hide their receipts (the server's latest page, or the estimate until one arrives).
 */
export function useGroupReaderPages(message: () => Message) {
  const groups = useGroupsStore()
  const hiddenEstimate = useHiddenReadersEstimate()
  const pageHidden = ref<number | null>(null)

  const readPager = usePagedList<Reader>(
    async (cursor) => {
      const result = await groups.fetchReadAcks(message().messageUId ?? '', PAGE_SIZE, cursor)
      if (result.code !== 0) return result
      pageHidden.value = result.data.hidden
      const page: Page<Reader> = {
        items: result.data.acks.map((ack) => ({ userId: ack.from, time: ack.timestamp, ackId: ack.ackId })),
      }
      if (result.data.nextAckId !== undefined) page.next = result.data.nextAckId
      return { code: 0, data: page } satisfies Result<Page<Reader>>
    },
    (reader) => reader.ackId ?? '',
  )

  const unreadPager = usePagedList<NotReader>(
    async (cursor) => {
      const result = await groups.fetchUnreadMembers(message().messageUId ?? '', PAGE_SIZE, cursor)
      if (result.code !== 0) return result
      pageHidden.value = result.data.hidden
      const page: Page<NotReader> = {
        items: result.data.members.map((m) => ({ userId: m.userId, displayName: m.displayName || m.userId })),
      }
      if (result.data.nextUserId !== undefined) page.next = result.data.nextUserId
      return { code: 0, data: page } satisfies Result<Page<NotReader>>
    },
    (member) => member.userId,
  )

  const hidden = computed(() => {
    const counts = groupReadCounts(message())
    if (!counts) return 0
    return pageHidden.value === null
      ? hiddenEstimate(message(), counts)
      : hiddenReaders(counts, pageHidden.value)
  })

  return { readPager, unreadPager, hidden }
}
