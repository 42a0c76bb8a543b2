// A progress bar for long conversions, drawn only on a terminal and only when the work is long enough
// to want one. cli-progress handles redraws and terminal width.
import cliProgress from 'cli-progress';

const SHOW_AFTER_SEC = 10;

export class ProgressBar {
  private bar: cliProgress.SingleBar | null = null;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(doneSec: number, totalSec: number): void {
    if (!this.stream.isTTY || totalSec < SHOW_AFTER_SEC) return;
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        { stream: this.stream, format: 'converting [{bar}] {percentage}% | {value}/{total} s | eta {eta}s', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.round(totalSec), 0);
    }
    this.bar.update(Math.round(doneSec));
  }

  done(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
