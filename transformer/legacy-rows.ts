import type protobuf from 'protobufjs';
import { dumpType, type DumpTable } from './dump-schema.ts';
import { compileRowDecoder } from './legacy-row-decoder.ts';

/**
 * Legacy rows as modules see them: plain objects with one property per column, named as the
 * column. SQL NULL (an unset proto3 `optional` field) is `null`, never a default value;
 * int64 columns are bigint; bytes are Uint8Array.
 *
 * The interfaces mirror schemas/legacy/<Table>.proto; keep them in step when a .proto changes.
 */

/** dbo.Members (schemas/legacy/Members.proto). */
export interface MembersRow {
  readonly MemberId: number;
  readonly UserName: string | null;
  readonly Email: string | null;
  readonly PasswordHash: Uint8Array | null;
  /** 0 unknown, 1 man, 2 woman. */
  readonly Gender: number;
  /** YYYY-MM-DD. */
  readonly BirthDate: string | null;
  readonly City: string | null;
  readonly CountryCode: string;
  /** Exact decimal text. */
  readonly Credits: string;
  readonly IsDeleted: boolean;
  readonly RegisteredAt: bigint;
  readonly LastLoginAt: bigint | null;
  readonly DeletedAt: bigint | null;
  readonly ExternalId: string;
  readonly RowVer: Uint8Array;
  readonly Presentation: string | null;
}

/** dbo.Messages (schemas/legacy/Messages.proto). */
export interface MessagesRow {
  readonly MessageId: bigint;
  readonly SenderId: number;
  readonly RecipientId: number;
  readonly Body: string | null;
  readonly SentAt: bigint;
  readonly ReadAt: bigint | null;
  readonly IsDeletedBySender: boolean;
  readonly IsDeletedByRecipient: boolean;
}

/** dbo.Photos (schemas/legacy/Photos.proto). */
export interface PhotosRow {
  readonly PhotoId: number;
  readonly MemberId: number;
  readonly FileName: string;
  readonly Caption: string | null;
  readonly Width: number;
  readonly Height: number;
  readonly SizeBytes: number;
  readonly ContentHash: Uint8Array | null;
  readonly IsPrimary: boolean;
  readonly IsApproved: boolean;
  readonly UploadedAt: bigint;
  readonly PhotoGuid: string;
}

/** dbo.Flirts (schemas/legacy/Flirts.proto). */
export interface FlirtsRow {
  readonly FlirtId: number;
  readonly SenderId: number;
  readonly RecipientId: number;
  /** 1 wink, 2 smile, 3 rose. */
  readonly FlirtType: number;
  readonly SentAt: bigint;
  readonly AnsweredAt: bigint | null;
}

/** dbo.Favorites (schemas/legacy/Favorites.proto); primary key (MemberId, FavoriteMemberId). */
export interface FavoritesRow {
  readonly MemberId: number;
  readonly FavoriteMemberId: number;
  readonly AddedAt: bigint;
  readonly Note: string | null;
}

/** dbo.ProfileVisits (schemas/legacy/ProfileVisits.proto). */
export interface ProfileVisitsRow {
  readonly VisitId: bigint;
  readonly VisitorId: number;
  readonly VisitedId: number;
  readonly VisitedAt: bigint;
  /** 1 search, 2 profile link, 3 message, 4 mobile app. */
  readonly Source: number;
  readonly IsAnonymous: boolean;
}

/** dbo.Blocks (schemas/legacy/Blocks.proto); primary key (BlockerId, BlockedId). */
export interface BlocksRow {
  readonly BlockerId: number;
  readonly BlockedId: number;
  readonly BlockedAt: bigint;
  readonly Reason: string | null;
  readonly ReportedToModerator: boolean;
}

/** dbo.PhotoLikes (schemas/legacy/PhotoLikes.proto). */
export interface PhotoLikesRow {
  readonly PhotoLikeId: number;
  readonly PhotoId: number;
  readonly MemberId: number;
  readonly LikedAt: bigint;
}

/** dbo.LoginHistory (schemas/legacy/LoginHistory.proto): a heap, no primary key. */
export interface LoginHistoryRow {
  readonly MemberId: number;
  readonly LoginAt: bigint;
  readonly IpAddress: Uint8Array | null;
  readonly UserAgent: string | null;
  readonly Succeeded: boolean;
}

export type LegacyRow = Readonly<Record<string, unknown>>;

// legacySchema lives in dump-schema.ts, which compares a dump's schemas with it; kept importable from here.
export { legacySchema } from './dump-schema.ts';

export interface RowDecoder {
  readonly type: protobuf.Type;
  decode(bytes: Uint8Array): LegacyRow;
}

interface FieldPlan {
  readonly name: string;
  readonly nullable: boolean;
  readonly long: boolean;
  readonly unsigned: boolean;
  readonly bytes: boolean;
}

/**
 * A decoder from record bytes of a dump's table to a row object (see the top of this file),
 * compiled from the dump's OWN .proto (dump-schema.ts). With `columns`, the row holds just
 * those: the columns a module or lookup uses (the others are not decoded).
 */
export async function rowDecoder(source: DumpTable, columns: readonly string[] | null): Promise<RowDecoder> {
  const type = await dumpType(source);
  const only = columns ? new Set(columns) : undefined;
  return { type, decode: compileRowDecoder(type, only) ?? protobufjsRowDecode(type, only) };
}

/**
 * The same rows through protobufjs: for message types the hand-compiled decoder does not
 * handle, and the reference its test compares it with.
 */
export function protobufjsRowDecode(type: protobuf.Type, only?: ReadonlySet<string>): (bytes: Uint8Array) => LegacyRow {
  const plan: FieldPlan[] = type.fieldsArray.filter((f) => !only || only.has(f.name)).map((f) => ({
    name: f.name,
    nullable: f.options?.['proto3_optional'] === true,
    long: f.long,
    unsigned: f.type === 'uint64' || f.type === 'fixed64',
    bytes: f.type === 'bytes',
  }));
  const hasOwn = Object.prototype.hasOwnProperty;
  return (bytes) => {
    const message = type.decode(bytes) as unknown as Record<string, unknown>;
    const row: Record<string, unknown> = {};
    for (const f of plan) {
      const present = hasOwn.call(message, f.name);
      if (!present && f.nullable) {
        row[f.name] = null;
        continue;
      }
      const value = message[f.name];
      if (f.long) row[f.name] = longToBigInt(value, f.unsigned);
      else if (f.bytes && !present) row[f.name] = new Uint8Array(0);
      else row[f.name] = value;
    }
    return row;
  };
}

function longToBigInt(value: unknown, unsigned: boolean): bigint {
  if (typeof value === 'number') return BigInt(value);
  const { low, high } = value as { low: number; high: number };
  const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}

/** A row as JSON-safe values (bigint → decimal string, bytes → base64), for rejects/. */
export function rowToJson(row: LegacyRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (typeof value === 'bigint') out[name] = value.toString();
    else if (value instanceof Uint8Array) out[name] = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    else out[name] = value;
  }
  return out;
}
