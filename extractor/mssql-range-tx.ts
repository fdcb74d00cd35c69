import { SeedlineError } from '../common/errors.ts';
import type { KeyValue } from './source.ts';
import { rangeSetupSql, type IsolationChoice, type RangeTransaction } from './mssql-consistency.ts';
import type { MssqlDriver, MssqlTransaction } from './mssql-driver.ts';

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
  async begin(table: string, after: KeyValue | undefined, upTo: KeyValue | undefined): Promise<OpenTransaction> {
    if (!this.driver || !this.choice) throw new Error('internal: MssqlSource.connect() was not called');
    const choice = this.choice;
    const tx = await this.driver.begin(choice.level);
    try {
      const [row] = await tx.batch(rangeSetupSql(this.lockTimeoutMs));
      const [startedAt, lockTimeout] = row!;
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
