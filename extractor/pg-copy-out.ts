import type pg from 'pg';

/**
 * `COPY … TO STDOUT` on a node-postgres client, each CopyData message's bytes handed to
 * `onData` as pg's own protocol parser delivers them (PostgreSQL sends one message per row).
 * pg-copy-streams does this as a Readable with backpressure, at the cost of joining every
 * socket read into a fresh zeroed buffer; a keyset page is bounded and read whole anyway,
 * so no backpressure is needed here. `onData`'s buffer is valid only during the call.
 *
 * Settles when the server is ready for the next statement (ReadyForQuery), never while the
 * COPY is still running, so the connection can be used again right away. `onData` may
 * throw: the rest of the output is then skipped and the promise rejects with that error.
 */
export function copyOut(client: pg.Client, sql: string, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: unknown = null;
    let settled = false;
    const settle = (err: unknown) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    const query = {
      submit(connection: { query(text: string): void }) {
        connection.query(sql);
      },
      handleCopyData(message: { chunk: Buffer }) {
        if (failure) return;
        try {
          onData(message.chunk);
        } catch (err) {
          failure = err;
        }
      },
      handleCommandComplete() {},
      handleEmptyQuery() {},
      // A server error arrives before ReadyForQuery; a broken connection has none to follow.
      handleError(err: unknown) {
        settle(failure ?? err);
      },
      handleReadyForQuery() {
        settle(failure);
      },
    };
    client.query(query as unknown as pg.Submittable);
  });
}
