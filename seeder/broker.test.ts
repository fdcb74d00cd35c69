import { describe, expect, it } from 'vitest';
import { redactUrl } from './broker.ts';

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
