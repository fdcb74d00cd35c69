import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMAS_DIR } from '../common/protos.ts';
import { extract, type TableSpec } from '../extractor/extract.ts';
import { createTempDb, type TempDb } from '../extractor/test-db.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import { eventStreams, readManifest } from '../recordfile/index.ts';
import { transform } from './transform.ts';

/**
 * A dump is decoded with its own schemas/ (the .proto copies extract wrote beside it), checked
 * against the columns each module uses (dump-schema.ts). Real extracts of the tiny fixture.
 */
describe("transform decodes a dump with the dump's own schemas", () => {
  let db: TempDb;
  let dir: string;

  beforeAll(async () => {
    db = await createTempDb();
    dir = await mkdtemp(join(tmpdir(), 'seedline-dump-schema-'));
    await createFixture({ url: db.url, preset: 'tiny', progress: 'off' });
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const TABLES = ['Members', 'Messages', 'Photos', 'PhotoLikes'];

  async function extractWith(name: string, specs: Readonly<Record<string, Omit<TableSpec, 'name'>>> = {}): Promise<string> {
    const out = join(dir, name);
    await extract({
      source: db.url,
      tables: TABLES.map((t) => ({ name: `dbo.${t}`, ...specs[t] })),
      out,
      sourceTimezone: FIXTURE_TIMEZONE,
      progress: 'off',
    });
    return out;
  }

  /** A copy of the repository's .proto of `table`, edited, where extract's per-table "proto" config can point. */
  async function protoVariant(name: string, table: string, edit: (text: string) => string): Promise<string> {
    const folder = join(dir, `protos-${name}`);
    await mkdir(folder, { recursive: true });
    const file = join(folder, `${table}.proto`);
    await writeFile(file, edit(await readFile(`${SCHEMAS_DIR}legacy/${table}.proto`, 'utf8')));
    return file;
  }

  async function eventParts(out: string): Promise<string[]> {
    // Every module's stream, in module order: the whole events data set.
    const manifest = await readManifest(out);
    return eventStreams(manifest, out).flatMap((s) => s.entry.parts.map((p) => p.sha256));
  }

  it('a Messages .proto with other field numbers gives the same events as the normal dump', async () => {
    const normal = await extractWith('normal');
    // Field numbers reversed (MessageId = 8 ... IsDeletedByRecipient = 1): read with the
    // repository's numbering, SentAt and ReadAt would be swapped with other fields.
    const renumbered = await protoVariant('renumbered', 'Messages', (text) => text.replace(/= (\d+);/g, (_, n: string) => `= ${9 - Number(n)};`));
    const other = await extractWith('renumbered', { Messages: { proto: renumbered } });
    expect(await readFile(join(other, 'schemas', 'Messages.proto'), 'utf8')).toContain('int64 MessageId = 8;');
    const a = await transform({ dump: normal, out: join(dir, 'events-normal'), progress: 'off', workers: 0 });
    const b = await transform({ dump: other, out: join(dir, 'events-renumbered'), progress: 'off', workers: 2 });
    expect(b.eventsByType).toEqual(a.eventsByType);
    expect(b.rejectsByModule).toEqual(a.rejectsByModule);
    expect(await eventParts(join(dir, 'events-renumbered'))).toEqual(await eventParts(join(dir, 'events-normal')));
  }, 120_000);

  it('Email masked to bytes: a clear schema error for the module that uses it, none for the others', async () => {
    const bytesEmail = await protoVariant('masked', 'Members', (text) => text.replace('optional string Email = 3;', 'optional bytes Email = 3;'));
    const masked = await extractWith('masked', { Members: { proto: bytesEmail, mask: { Email: 'sha256' } } });
    const err = await transform({ dump: masked, out: join(dir, 'events-masked'), progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SCHEMA_INVALID', context: { table: 'Members', column: 'Email' } });
    expect((err as Error).message).toMatch(/module members needs Members\.Email as optional string; the dump's .*Members\.proto holds optional bytes \(masked by extract\)/);
    // chat, photos and likes read Members only through the members lookup, which never looks at Email.
    const rest = await transform({ dump: masked, out: join(dir, 'events-masked-rest'), modules: ['chat', 'photos', 'likes'], progress: 'off' });
    expect(rest.events).toBeGreaterThan(0);
  }, 120_000);

  it('a column the modules do not use may be excluded; one they use may not', async () => {
    const withoutPassword = await protoVariant('no-password', 'Members', (text) => text.replace(/^.*PasswordHash = 4;.*$/m, ''));
    const noPassword = await extractWith('no-password', { Members: { proto: withoutPassword, exclude: ['PasswordHash'] } });
    const result = await transform({ dump: noPassword, out: join(dir, 'events-no-password'), progress: 'off' });
    expect(result.eventsByType['members.member-registered']).toBeGreaterThan(0);
    const withoutBody = await protoVariant('no-body', 'Messages', (text) => text.replace(/^.*Body = 4;.*$/m, ''));
    const noBody = await extractWith('no-body', { Messages: { proto: withoutBody, exclude: ['Body'] } });
    const err = await transform({ dump: noBody, out: join(dir, 'events-no-body'), progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SCHEMA_INVALID', context: { table: 'Messages', column: 'Body' } });
    expect((err as Error).message).toMatch(/module chat needs Messages\.Body as optional string; the dump's .* has no such field/);
  }, 120_000);
});
