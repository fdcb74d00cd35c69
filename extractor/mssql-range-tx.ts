import { SeedlineError } from '../common/errors.ts';
import type { KeyValue } from './source.ts';
import { rangeSetupSql, type IsolationChoice, type RangeTransaction } from './mssql-consistency.ts';
import type { MssqlDriver, MssqlTransaction } from './mssql-driver.ts';
import type { MssqlTableInfo } from './mssql-types.ts';

export interface OpenTransaction {
  readonly tx: MssqlTransaction;
  /** performance.now() when it began: its age bounds its life. */
  readonly openedAt: number;
}

/**
 * Begins the SQL Server range transactions of a run, each with its session settings, and
 * records every one (bounds, isolation, start time, the LOCK_TIMEOUT read back) in `log`,
 * which the snapshot info — and so the manifest — holds live.
 */
export class RangeTransactions {
  /** Per table, every range transaction in the order they began. */
  readonly log: Record<string, RangeTransaction[]> = {};
  private driver: MssqlDriver | null = null;
  private choice: IsolationChoice | null = null;

  constructor(
    private readonly lockTimeoutMs: number,
    /** `mssql://host:port/database`, for messages. */
    private readonly where: string,
  ) {}

  /** Called once connected and the isolation is decided. */
  use(driver: MssqlDriver, choice: IsolationChoice): void {
    this.driver = driver;
    this.choice = choice;
  }

  /**
   * A new transaction in the run's isolation. The settings go as a plain batch (not through
   * sp_executesql, where they would revert) and @@LOCK_TIMEOUT is read back: the manifest
   * records the setting in force, and a setting not in force stops the read.
   */
  async begin(info: Pick<MssqlTableInfo, 'qualifiedName' | 'objectId' | 'modifiedAt'>, after: KeyValue | undefined, upTo: KeyValue | undefined): Promise<OpenTransaction> {
    if (!this.driver || !this.choice) throw new Error('internal: MssqlSource.connect() was not called');
    const choice = this.choice;
    const table = info.qualifiedName;
    const tx = await this.driver.begin(choice.level);
    try {
      const [row] = await tx.batch(rangeSetupSql(this.lockTimeoutMs, info.modifiedAt === undefined ? undefined : info.objectId));
      const [startedAt, lockTimeout, modifiedAt] = row!;
      if (info.modifiedAt !== undefined && modifiedAt !== info.modifiedAt) {
        // Within one transaction SQL Server itself refuses (3961); between two, only this sees it.
        throw new SeedlineError(
          'SOURCE_QUERY',
          `${this.where}: ${table} was changed by DDL (ALTER TABLE, an index change, or it was dropped) since seedline read its catalog: ` +
            `sys.objects.modify_date was ${info.modifiedAt}, is ${modifiedAt === null || modifiedAt === undefined ? 'gone' : String(modifiedAt)}; ` +
            'reading on in a new transaction would mix the table before and after the change',
          { table, hint: 'the parts already written are kept: once the change has finished, run again with --resume (the table is checked against its .proto again)' },
        );
      }
      if (Number(lockTimeout) !== this.lockTimeoutMs) {
        throw new SeedlineError('SOURCE_QUERY', `${this.where}: SET LOCK_TIMEOUT ${this.lockTimeoutMs} did not take effect (@@LOCK_TIMEOUT is ${String(lockTimeout)})`, {
          table,
          hint: 'this is a bug in the SQL Server adapter or an unusual server configuration; please report it with the server version',
        });
      }
      (this.log[table] ??= []).push({
        ...(after ? { after } : {}),
        ...(upTo ? { upTo } : {}),
        isolation: choice.level,
        startedAt: String(startedAt),
        lockTimeoutMs: Number(lockTimeout),
      });
      return { tx, openedAt: performance.now() };
    } catch (err) {
      await tx.rollback().catch(() => {});
      throw err;
    }
  }
}
