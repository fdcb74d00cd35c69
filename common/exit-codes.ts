/** Exit codes of every seedline command; scripts may rely on them. */
export const EXIT = {
  OK: 0,
  /** Something failed; the message says what. */
  ERROR: 1,
  /** A wrong flag, argument or config file. */
  USAGE: 2,
  /** Finished, but some legacy rows were rejected (see rejects/). */
  DONE_WITH_REJECTS: 3,
  /** seed stopped cleanly because a watched queue passed --max-backlog or --max-backlog-growth. */
  BACKLOG_LIMIT: 4,
  /** seedline ledger: some balance does not close; the output lists what is unaccounted for. */
  LEDGER_UNBALANCED: 5,
  /** Stopped by Ctrl-C / SIGTERM after a clean shutdown. */
  INTERRUPTED: 130,
} as const;
