import { Component, effect, input, signal } from '@angular/core';
import QRCode from 'qrcode';

/** A ticket's code as a QR image, drawn as SVG (no canvas needed) for the door scanner. */
@Component({
  selector: 'app-ticket-qr',
  template: `
    @if (src(); as src) {
      <img
        class="qr"
        [src]="src"
        [attr.alt]="'QR ' + code()"
        width="148"
        height="148"
        data-testid="ticket-qr"
      />
    }
  `,
})
export class TicketQr {
  readonly code = input.required<string>();
  protected readonly src = signal<string | null>(null);

  constructor() {
    effect(() => {
      const code = this.code();
      QRCode.toString(code, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
        .then((svg) => {
          if (this.code() === code)
            this.src.set(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
        })
        .catch(() => this.src.set(null));
    });
  }
}
