/** The receipt rules shared by server, engine and renderer: state of one message, and policy. */
export * from './state'
export * from './policy'
