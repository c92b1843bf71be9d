/**
 * NATS for the multi-node tests: NATS_TEST_URL (default nats://127.0.0.1:4222). `skipNats`: nothing
 * answers there and this is not CI (under CI=true the tests run, and fail, as for PostgreSQL).
 */
import { connect } from 'node:net'

export const NATS_URL = process.env.NATS_TEST_URL ?? 'nats://127.0.0.1:4222'

async function natsAnswers(): Promise<boolean> {
  const { hostname, port } = new URL(NATS_URL)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 4222) })
    socket.setTimeout(2000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

export const skipNats = process.env.CI !== 'true' && !(await natsAnswers())
