import { Component, computed, input } from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';
import { TicketEvent } from '../core/models';

/** "Sold out" or "N left" at a glance; "few left" is highlighted. */
@Component({
  selector: 'app-availability-badge',
  imports: [TranslatePipe],
  template: `
    @if (soldOut()) {
      <span class="badge badge-danger" data-testid="availability">{{
        'events.soldOut' | translate
      }}</span>
    } @else {
      <span
        class="badge"
        [class.badge-warn]="fewLeft()"
        [class.badge-ok]="!fewLeft()"
        data-testid="availability"
      >
        {{ 'events.left' | translate: { count: event().available } }}
      </span>
    }
  `,
})
export class AvailabilityBadge {
  readonly event = input.required<Pick<TicketEvent, 'available' | 'capacity'>>();
  protected readonly soldOut = computed(() => this.event().available <= 0);
  protected readonly fewLeft = computed(() => {
    const { available, capacity } = this.event();
    return available <= Math.max(5, capacity * 0.1);
  });
}
