/**
 * Files dropped onto the chat, or images pasted into the composer (issue 13, H3), handed to
 * `onFiles`. `dragging` is true while files are held over the zone, for its "drop to send" overlay.
 * Only drags that carry files count: dragging text or a link around the page does nothing.
 */
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

function carriesFiles(event: DragEvent): boolean {
  return [...(event.dataTransfer?.types ?? [])].includes('Files')
}

export function useFileDrop(zone: Ref<HTMLElement | null>, onFiles: (files: File[]) => void) {
  const dragging = ref(false)
  // dragenter/dragleave fire for every child crossed: count them so leaving a child is not leaving.
  let depth = 0

  const enter = (event: DragEvent): void => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    depth++
    dragging.value = true
  }
  const over = (event: DragEvent): void => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy'
  }
  const leave = (event: DragEvent): void => {
    if (!carriesFiles(event)) return
    depth = Math.max(0, depth - 1)
    if (depth === 0) dragging.value = false
  }
  const drop = (event: DragEvent): void => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    depth = 0
    dragging.value = false
    const files = [...(event.dataTransfer?.files ?? [])]
    if (files.length > 0) onFiles(files)
  }

  onMounted(() => {
    const el = zone.value
    if (!el) return
    el.addEventListener('dragenter', enter)
    el.addEventListener('dragover', over)
    el.addEventListener('dragleave', leave)
    el.addEventListener('drop', drop)
  })
  onBeforeUnmount(() => {
    const el = zone.value
    if (!el) return
    el.removeEventListener('dragenter', enter)
    el.removeEventListener('dragover', over)
    el.removeEventListener('dragleave', leave)
    el.removeEventListener('drop', drop)
  })
  return { dragging }
}

/** The files of a paste (a screenshot, a copied image), or none when it pastes only text. */
export function pastedFiles(event: ClipboardEvent): File[] {
  return [...(event.clipboardData?.items ?? [])]
    .filter((item) => item.kind === 'file')
    .map((item) => item.getAsFile())
    .filter((file): file is File => file !== null)
}
