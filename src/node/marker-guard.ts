// The folder marker: a file of ours inside the folder. If it vanishes while the index
// knows files, the folder was most likely unmounted or replaced (an empty mount point now
// shows where the files were): deletions are then not sent to peers, and that is logged.
import type { Logger } from '../util/logger.ts';

export interface FolderMarker {
  present(): Promise<boolean>;
  create(nodeId: string): Promise<void>;
}

export class MarkerGuard {
  private live = false;
  private missingLogged = false;

  constructor(
    private readonly marker: FolderMarker | undefined,
    private readonly logger: Logger,
    private readonly folder: string,
  ) {}

  /**
   * At start-up: whether the marker was there. A missing one is created (a first start, or
   * a replaced folder: `hadIndex` says the log knew files here, and that is logged).
   */
  async atStart(nodeId: string, hadIndex: boolean): Promise<boolean> {
    const there = await this.present();
    if (!there) {
      if (hadIndex) {
        this.logger.error(
          'folder marker missing: the folder looks replaced or unmounted; not sending deletions',
          { folder: this.folder },
        );
      }
      await this.marker?.create(nodeId);
    }
    return there;
  }

  /** From now on a vanished marker is logged (once, until it is back). */
  goLive(): void {
    this.live = true;
  }

  /** The marker is there: deletions seen on disk may be sent. */
  async present(): Promise<boolean> {
    if (!this.marker) return true;
    const ok = await this.marker.present().catch(() => false);
    if (!ok && this.live && !this.missingLogged) {
      this.missingLogged = true;
      this.logger.error('folder marker vanished: is the folder unmounted? not sending deletions', {
        folder: this.folder,
      });
    }
    if (ok) this.missingLogged = false;
    return ok;
  }
}
