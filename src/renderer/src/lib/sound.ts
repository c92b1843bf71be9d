/**
 * The new-message sound: two short soft tones made with WebAudio, so the app ships no audio file.
 * One AudioContext for the window, made on first use (a browser keeps it suspended until the page
 * has had a user gesture; then the sound is simply skipped).
 */
let context: AudioContext | null = null

export function playMessageSound(): void {
  try {
    context ??= new AudioContext()
    const ctx = context
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined)
    const start = ctx.currentTime + 0.01
    for (const [i, frequency] of [880, 660].entries()) {
      const at = start + i * 0.09
      const osc = ctx.createOscillator()
      const gain = ctx.createGain()
      osc.type = 'sine'
      osc.frequency.value = frequency
      // A quick rise and fall: no click at either end.
      gain.gain.setValueAtTime(0, at)
      gain.gain.linearRampToValueAtTime(0.12, at + 0.01)
      gain.gain.exponentialRampToValueAtTime(0.001, at + 0.12)
      osc.connect(gain).connect(ctx.destination)
      osc.start(at)
      osc.stop(at + 0.13)
    }
  } catch {
    // No audio device or no WebAudio: a notification without sound.
  }
}
