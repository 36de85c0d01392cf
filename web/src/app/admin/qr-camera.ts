import {
  Component,
  DestroyRef,
  ElementRef,
  inject,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';
import { createQrReader, QrReader } from './qr-reader';

/** How often a frame is read while the camera runs. */
export const SCAN_EVERY_MS = 200;
/** The same code seen again within this time is the same ticket still in front of the camera. */
export const SAME_CODE_MS = 4000;

export type CameraState = 'off' | 'starting' | 'on' | 'unavailable';

/**
 * The phone's (back) camera as a QR reader: Start asks for the camera, then frames are read
 * every SCAN_EVERY_MS while `paused` is false and each new code is emitted once. Stop (or
 * leaving the page) releases the camera.
 */
@Component({
  selector: 'app-qr-camera',
  imports: [TranslatePipe],
  template: `
    <div class="camera">
      <video
        #video
        class="camera-video"
        [class.camera-off]="state() !== 'on'"
        playsinline
        muted
        aria-hidden="true"
        data-testid="camera-video"
      ></video>
      <div class="actions">
        @if (state() === 'on' || state() === 'starting') {
          <button type="button" class="btn" data-testid="camera-stop" (click)="stop()">
            {{ 'checkIn.stopCamera' | translate }}
          </button>
          <span class="small" data-testid="camera-state" [attr.data-state]="state()">{{
            (state() === 'on' ? 'checkIn.scanning' : 'checkIn.starting') | translate
          }}</span>
        } @else {
          <button
            type="button"
            class="btn btn-primary"
            data-testid="camera-start"
            (click)="start()"
          >
            {{ 'checkIn.startCamera' | translate }}
          </button>
        }
      </div>
      @if (state() === 'unavailable') {
        <p class="alert alert-warn" role="status" data-testid="camera-unavailable">
          {{ 'checkIn.noCamera' | translate }}
        </p>
      }
    </div>
  `,
})
export class QrCamera {
  /** While true (a check-in in flight), frames are not read. */
  readonly paused = input(false);
  readonly code = output<string>();
  /** Told on Start, inside the click, e.g. to unlock sound. */
  readonly started = output<void>();
  protected readonly state = signal<CameraState>('off');
  private readonly video = viewChild.required<ElementRef<HTMLVideoElement>>('video');
  private stream: MediaStream | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reading = false;
  private last: { code: string; at: number } | null = null;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  protected async start(): Promise<void> {
    this.started.emit();
    if (!navigator.mediaDevices?.getUserMedia) {
      this.state.set('unavailable');
      return;
    }
    this.state.set('starting');
    try {
      const [stream, reader] = await Promise.all([
        navigator.mediaDevices.getUserMedia({
          video: { facingMode: { ideal: 'environment' } },
          audio: false,
        }),
        createQrReader(),
      ]);
      if (this.state() !== 'starting') {
        // Stopped while the camera was being opened.
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      this.stream = stream;
      const video = this.video().nativeElement;
      video.srcObject = stream;
      await video.play();
      this.state.set('on');
      this.timer = setInterval(() => void this.scan(reader), SCAN_EVERY_MS);
    } catch {
      this.stop();
      this.state.set('unavailable');
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.last = null;
    const video = this.video().nativeElement;
    video.srcObject = null;
    if (this.state() !== 'unavailable') this.state.set('off');
  }

  private async scan(reader: QrReader): Promise<void> {
    if (this.reading || this.paused() || this.state() !== 'on') return;
    this.reading = true;
    try {
      const code = (await reader.read(this.video().nativeElement))?.trim();
      if (!code) return;
      const now = Date.now();
      if (this.last && this.last.code === code && now - this.last.at < SAME_CODE_MS) {
        this.last.at = now;
        return;
      }
      this.last = { code, at: now };
      this.code.emit(code);
    } catch {
      // A frame that could not be read: the next one may.
    } finally {
      this.reading = false;
    }
  }
}
