// Turns the engine's per-layer pull messages into one percentage. Every layer counts its
// compressed bytes twice: once downloaded, once extracted. Layers announce their size only
// when their download starts, so the raw figure can fall back; reported values never do.
// (docker-modem's followProgress reads the messages; it has nothing that weighs them into one figure.)

interface Layer {
  downloaded: number;
  downloadTotal: number;
  extracted: number;
  extractTotal: number;
}

export interface PullMessage {
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export class PullProgress {
  private readonly layers = new Map<string, Layer>();
  private percent = 0;
  private lastStatus = '';

  constructor(private readonly report: (percent: number, status: string) => void) {}

  update(msg: PullMessage): void {
    const status = msg.status ?? '';
    if (msg.id && status) this.updateLayer(msg.id, status, msg.progressDetail);
    this.emit(Math.min(99, Math.max(this.percent, this.computed())), msg.id ? `${msg.id}: ${status}` : status);
  }

  finish(status = 'Pull complete'): void {
    this.emit(100, status);
  }

  private updateLayer(id: string, status: string, detail: PullMessage['progressDetail']): void {
    if (status === 'Already exists') {
      this.layers.delete(id); // nothing to fetch, so it weighs nothing
      return;
    }
    const layer = this.layers.get(id) ?? { downloaded: 0, downloadTotal: 0, extracted: 0, extractTotal: 0 };
    this.layers.set(id, layer);
    const current = detail?.current ?? 0;
    const total = detail?.total ?? 0;
    if (status === 'Downloading' && total > 0) {
      layer.downloadTotal = total;
      layer.downloaded = Math.min(current, total);
    } else if (status === 'Download complete' || status === 'Verifying Checksum') {
      layer.downloaded = layer.downloadTotal;
    } else if (status === 'Extracting' && total > 0) {
      layer.downloaded = layer.downloadTotal;
      layer.extractTotal = total;
      layer.extracted = Math.min(current, total);
    } else if (status === 'Pull complete') {
      layer.downloaded = layer.downloadTotal;
      layer.extractTotal ||= layer.downloadTotal;
      layer.extracted = layer.extractTotal;
    }
  }

  private computed(): number {
    let done = 0;
    let total = 0;
    for (const l of this.layers.values()) {
      done += l.downloaded + l.extracted;
      // Before extraction starts its size is unknown; the download size is a fair guess.
      total += l.downloadTotal + (l.extractTotal || l.downloadTotal);
    }
    return total > 0 ? Math.floor((done / total) * 100) : 0;
  }

  private emit(percent: number, status: string): void {
    if (percent === this.percent && status === this.lastStatus) return;
    this.percent = percent;
    this.lastStatus = status;
    this.report(percent, status);
  }
}
