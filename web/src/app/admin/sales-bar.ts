import { Component, computed, input } from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';

/**
 * Tickets sold (and held for payment) against capacity, as a bar with the numbers beside it.
 * The bar is a meter named by `label` (what it measures), so a screen reader says what it is.
 */
@Component({
  selector: 'app-sales-bar',
  imports: [TranslatePipe],
  template: `
    <div
      class="sales-bar"
      role="meter"
      [attr.aria-label]="label()"
      [attr.aria-valuenow]="sold()"
      aria-valuemin="0"
      [attr.aria-valuemax]="capacity()"
      [attr.aria-valuetext]="
        'admin.soldOf' | translate: { sold: sold(), capacity: capacity(), percent: percent() }
      "
      [attr.data-testid]="testId() + '-bar'"
    >
      <div class="sales-bar-fill" [style.width.%]="percent()"></div>
      @if (held() > 0) {
        <div class="sales-bar-held" [style.width.%]="heldPercent()"></div>
      }
    </div>
    <span class="small" [attr.data-testid]="testId() + '-numbers'">
      {{ 'admin.soldOf' | translate: { sold: sold(), capacity: capacity(), percent: percent() } }}
      @if (held() > 0) {
        <span [attr.data-testid]="testId() + '-held'">{{
          'admin.heldN' | translate: { held: held() }
        }}</span>
      }
    </span>
  `,
})
export class SalesBar {
  /** What the bar measures, e.g. the event's or the ticket type's name. */
  readonly label = input.required<string>();
  readonly sold = input.required<number>();
  readonly capacity = input.required<number>();
  readonly held = input(0);
  /** Prefix of the test hooks: `<testId>-bar`, `<testId>-numbers`, `<testId>-held`. */
  readonly testId = input('sales');
  protected readonly percent = computed(() => share(this.sold(), this.capacity()));
  protected readonly heldPercent = computed(() =>
    Math.min(100 - this.percent(), share(this.held(), this.capacity())),
  );
}

function share(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 100)) : 0;
}
