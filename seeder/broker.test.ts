import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, connectBroker, redactUrl } from './broker.ts';

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672')).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(redactUrl('amqps://u:p%40ss@rabbit.example:5671/staging')).toBe('amqps://u:***@rabbit.example:5671/staging');
    expect(redactUrl('amqp://127.0.0.1')).toBe('amqp://127.0.0.1');
  });

  it('hides the password even in a URL it cannot parse', () => {
    expect(redactUrl('amqp://guest:sec ret@host:notaport')).not.toContain('sec ret');
  });
});

describe('connectBroker', () => {
  it("turns Nagle's algorithm off on the publishing socket (amqplib's default turns it on)", async () => {
    // The last setNoDelay() each socket got: what its TCP_NODELAY is now.
    const noDelay = new Map<Socket, boolean>();
    const original = Socket.prototype.setNoDelay;
    Socket.prototype.setNoDelay = function (this: Socket, enable?: boolean) {
      noDelay.set(this, enable ?? true);
      return original.call(this, enable);
    };
    try {
      const model = await connectBroker(DEFAULT_URL, 'seedline broker test');
      try {
        const socket = (model.connection as unknown as { stream: Socket }).stream;
        expect(socket).toBeInstanceOf(Socket);
        expect(noDelay.get(socket)).toBe(true);
      } finally {
        await model.close();
      }
    } finally {
      Socket.prototype.setNoDelay = original;
    }
  });
});
