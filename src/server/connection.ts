import { WebSocket } from 'ws'
import type { Duplex } from 'node:stream'
import type { AuthenticatedSession } from './accounts'
import type { Logger } from './log'
import { TokenBucket } from './rateLimit'

export interface ConnectionOptions {
  /** Past this many unsent bytes the peer is too slow: drop it; it resyncs by seq when it comes back. */
  maxBufferedBytes: number
  ratePerSecond: number
  rateBurst: number
  /** Inbound bytes of this socket: `inboundBurstBytes` at once, then this many a second (absent: no limit). */
  inboundBytesPerSecond?: number
  inboundBurstBytes?: number
}

/** WebSocket close code sent to the sockets of a session that logged out. */
export const CLOSE_SESSION_REVOKED = 4001
/** Close code for the sockets of a session that reached its expiry. */
export const CLOSE_SESSION_EXPIRED = 4002
/** Close code for a socket that kept sending past its limits after being refused. */
export const CLOSE_TOO_MUCH = 4008

let lastConnectionId = 0

/** One authenticated socket: one device of one user. */
export class Connection {
  readonly id = ++lastConnectionId
  /** Cleared at each heartbeat, set again by the pong (or any frame). */
  alive = true
  readonly bucket: TokenBucket
  /** Inbound bytes, when limited. */
  readonly inbound: TokenBucket | undefined
  /** Bytes and frames refused since the last frame accepted: past the abuse limits, the socket is closed. */
  refusedBytes = 0
  refusedFrames = 0

  constructor(
    readonly ws: WebSocket,
    readonly session: AuthenticatedSession,
    private readonly options: ConnectionOptions,
    private readonly log: Logger,
    /** The client's address as limits see it (authGuard.ts clientAddress). */
    readonly address = 'unknown',
  ) {
    this.bucket = new TokenBucket(options.ratePerSecond, options.rateBurst)
    const { inboundBytesPerSecond, inboundBurstBytes } = options
    this.inbound =
      inboundBytesPerSecond !== undefined && inboundBurstBytes !== undefined
        ? new TokenBucket(inboundBytesPerSecond, inboundBurstBytes)
        : undefined
  }

  get userId(): string {
    return this.session.userId
  }

  /** True once the session behind this socket has reached its expiry. */
  expired(now: number): boolean {
    return this.session.expiresAt !== undefined && this.session.expiresAt <= now
  }

  /** Never blocks: ws queues the frame; a peer that lets the queue grow too far is cut off. */
  send(payload: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    if (this.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.log.warn('terminating slow consumer', {
        connection: this.id,
        userId: this.userId,
        bufferedAmount: this.ws.bufferedAmount,
      })
      this.ws.terminate()
      return
    }
    this.ws.send(payload)
  }

  /**
   * Several frames in one socket write: the TCP socket is corked while ws frames them, so the
   * replies and pushes of one event-loop turn leave in one writev instead of one write each.
   */
  sendAll(payloads: readonly string[]): void {
    if (payloads.length === 1) return this.send(payloads[0] as string)
    // ws keeps its net.Socket as _socket (ws 8); without it the frames still go, one write each.
    const socket = (this.ws as unknown as { _socket?: Duplex })._socket
    socket?.cork()
    try {
      for (const payload of payloads) this.send(payload)
    } finally {
      socket?.uncork()
    }
  }
}
