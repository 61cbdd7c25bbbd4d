// Host side of the XS bench entries: loads a bundle into a fresh xsnap-worker
// and runs commands, collecting the reports the entry sends through
// issueCommand. A command counts only when its `done` report arrives (the
// engine can end a crank quietly after an exception).
import { XsWorker, type MeterReport } from '../xs/worker.js';

export type Report = Record<string, unknown> & { kind: string };

export class BenchCommandError extends Error {
  override name = 'BenchCommandError';
  readonly code = 'BENCH_COMMAND_FAILED';
}

export interface CommandResult {
  reports: Report[];
  meter: MeterReport;
}

export class XsBench {
  private readonly worker: XsWorker;
  private inbox: Report[] = [];

  private constructor() {
    this.worker = new XsWorker({
      onCommand: (message) => {
        this.inbox.push(JSON.parse(Buffer.from(message).toString('utf8')) as Report);
        return new Uint8Array(0);
      },
    });
  }

  /** Starts an engine and evaluates `code` (a bundle's text, read once by the caller). */
  static async load(code: string): Promise<XsBench> {
    const bench = new XsBench();
    try {
      await bench.worker.evaluate(code);
    } catch (e) {
      await bench.close();
      throw e;
    }
    return bench;
  }

  async run(command: Report): Promise<CommandResult> {
    this.inbox = [];
    const result = await this.worker.command(Buffer.from(JSON.stringify(command), 'utf8'));
    const reports = this.inbox;
    this.inbox = [];
    const last = reports[reports.length - 1];
    if (!last || last.kind !== 'done') {
      const error = reports.find((r) => r.kind === 'error');
      throw new BenchCommandError(`XS command ${command.kind} failed: ${error ? String(error.error) : 'no done report'}`);
    }
    return { reports, meter: result.meter };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
