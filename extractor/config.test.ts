import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExtractConfig } from './config.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'seedline-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(content: unknown): Promise<string> {
  const file = join(dir, `c-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('extract config file', () => {
  it('reads source, zone, tables with per-table proto and exclusions; paths relative to the file', async () => {
    const file = await configFile({
      source: 'postgres://reader@db:5432/legacy',
      sourceTimezone: 'Europe/Helsinki',
      out: 'dump',
      concurrency: 2,
      tables: ['dbo.Members', { name: 'dbo.Messages', proto: 'protos/Messages.proto', exclude: ['Body'] }],
    });
    const config = await loadExtractConfig(file);
    expect(config).toEqual({
      source: 'postgres://reader@db:5432/legacy',
      sourceTimezone: 'Europe/Helsinki',
      out: join(dir, 'dump'),
      concurrency: 2,
      tables: [{ name: 'dbo.Members' }, { name: 'dbo.Messages', proto: join(dir, 'protos/Messages.proto'), exclude: ['Body'] }],
    });
  });

  it('a typo is CONFIG_INVALID naming the file and the key, with the closest valid key', async () => {
    const file = await configFile({ source: 'postgres://db/x', sourceTimeZone: 'UTC' });
    await expect(loadExtractConfig(file)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      context: { file, option: 'sourceTimeZone', hint: 'rename it to "sourceTimezone"' },
    });
    const nested = await configFile({ tables: [{ name: 'dbo.Members', exlcude: ['Email'] }] });
    await expect(loadExtractConfig(nested)).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { option: 'tables[0].exlcude', hint: 'rename it to "exclude"' } });
  });

  it('a value of the wrong type, bad JSON or a missing file is CONFIG_INVALID', async () => {
    await expect(loadExtractConfig(await configFile({ gzipLevel: 12 }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { option: 'gzipLevel' } });
    await expect(loadExtractConfig(await configFile('{ "source": '))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(loadExtractConfig(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('takes the password from the environment and never shows it', async () => {
    process.env.SEEDLINE_TEST_PW = 'p@ss/word';
    try {
      const config = await loadExtractConfig(await configFile({ source: 'postgres://reader:${SEEDLINE_TEST_PW}@db/legacy' }));
      expect(config.source).toBe('postgres://reader:p%40ss%2Fword@db/legacy');
      expect(decodeURIComponent(new URL(config.source!).password)).toBe('p@ss/word');
    } finally {
      delete process.env.SEEDLINE_TEST_PW;
    }
    const err = await loadExtractConfig(await configFile({ source: 'postgres://reader:${SEEDLINE_NOT_SET_X}@db/legacy' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', context: { option: 'source' } });
    const wrongType = await loadExtractConfig(await configFile({ source: 42 })).catch((e: Error) => e);
    expect(wrongType).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
