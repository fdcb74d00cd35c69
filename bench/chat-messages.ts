/**
 * Deterministic, realistic-looking legacy chat messages (seedline.legacy.Messages) for
 * benchmarks: bodies are words, mostly 20-300 characters with a long tail to 2000,
 * some non-ASCII (åäö, emoji), a few NULL; ids and times increase like a real table.
 */

/** mulberry32: small, fast, seeded; the same seed gives the same data set on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'hej hi hello how are you today what did do this weekend want to meet for coffee maybe ' +
  'tomorrow evening i like your photos profile nice smile where live work study music ' +
  'film travel dog cat food cook run gym read books sounds great thanks haha ok yes no ' +
  'sure why not love that me too really interesting tell more about yourself long time ' +
  'sorry late reply busy week hope good night morning kiss see soon'
).split(' ');
const NON_ASCII = ['hälsningar', 'trevligt', 'kör', 'går', 'även', 'smörgås', 'naïve', 'café', '🙂', '😂', '❤️', '👍', 'ñ', 'привет'];

/** Body length: skewed like real chat (most short, some long). */
function bodyLength(random: () => number): number {
  const r = random();
  if (r < 0.55) return 20 + Math.floor(random() * 60); // a line
  if (r < 0.9) return 80 + Math.floor(random() * 220); // a paragraph
  if (r < 0.98) return 300 + Math.floor(random() * 700); // a letter
  return 1000 + Math.floor(random() * 1000); // nvarchar(2000) at its limit
}

function body(random: () => number): string {
  const target = bodyLength(random);
  const nonAscii = random() < 0.3;
  const parts: string[] = [];
  let length = 0;
  while (length < target) {
    const word =
      nonAscii && random() < 0.15
        ? NON_ASCII[Math.floor(random() * NON_ASCII.length)]!
        : WORDS[Math.floor(random() * WORDS.length)]!;
    parts.push(word);
    length += word.length + 1;
  }
  // Never cut an emoji in half: a lone surrogate is not valid UTF-8 and would not decode.
  return parts.join(' ').slice(0, target).replace(/[\uD800-\uDBFF]$/, '');
}

export interface ChatMessageRow {
  MessageId: number;
  SenderId: number;
  RecipientId: number;
  Body?: string;
  SentAt: number;
  ReadAt?: number;
  IsDeletedBySender: boolean;
  IsDeletedByRecipient: boolean;
}

/** Yields `count` rows; same seed, same rows. */
export function* chatMessages(count: number, seed = 42): Generator<ChatMessageRow> {
  const random = prng(seed);
  let sentAt = Date.UTC(2009, 0, 1) * 1000; // microseconds since epoch, like the extractor writes
  for (let i = 0; i < count; i++) {
    sentAt += Math.floor(random() * 60_000_000); // up to a minute apart
    const row: ChatMessageRow = {
      MessageId: i + 1,
      SenderId: 1 + Math.floor(random() * 50_000),
      RecipientId: 1 + Math.floor(random() * 50_000),
      SentAt: sentAt,
      IsDeletedBySender: random() < 0.02,
      IsDeletedByRecipient: random() < 0.03,
    };
    if (random() >= 0.01) row.Body = body(random);
    if (random() < 0.7) row.ReadAt = sentAt + Math.floor(random() * 86_400_000_000);
    yield row;
  }
}
