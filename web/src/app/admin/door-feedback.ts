import { Injectable } from '@angular/core';

export type DoorSignal = 'admit' | 'warn' | 'refuse';

/**
 * Tells the door staff the verdict without a look at the screen: a beep (high for admit, a low
 * double tone otherwise) and a vibration where the phone has one. Both are best effort: a
 * browser without Web Audio or vibration just stays silent.
 */
@Injectable({ providedIn: 'root' })
export class DoorFeedback {
  private audio: AudioContext | null = null;

  /** Call from a user gesture (the Start camera click) so browsers allow sound later. */
  unlock(): void {
    try {
      this.audio ??= new AudioContext();
      void this.audio.resume();
    } catch {
      this.audio = null;
    }
  }

  signal(kind: DoorSignal): void {
    const pattern = kind === 'admit' ? [120] : kind === 'warn' ? [200, 100, 200] : [400, 100, 400];
    try {
      navigator.vibrate?.(pattern);
    } catch {
      // no vibration here
    }
    if (!this.audio) return;
    const tones =
      kind === 'admit'
        ? [[880, 0, 0.15]]
        : [
            [220, 0, 0.2],
            [220, 0.3, 0.2],
          ];
    for (const [frequency, start, length] of tones) this.beep(frequency, start, length);
  }

  private beep(frequency: number, start: number, length: number): void {
    const audio = this.audio;
    if (!audio) return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.value = 0.2;
    oscillator.connect(gain).connect(audio.destination);
    const at = audio.currentTime + start;
    oscillator.start(at);
    oscillator.stop(at + length);
  }
}
