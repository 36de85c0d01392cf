import { Component, computed, input } from '@angular/core';
import { TranslatePipe } from '@ngx-translate/core';

/** Tickets sold against capacity, as a bar with the numbers beside it. */
@Component({
  selector: 'app-sales-bar',
  imports: [TranslatePipe],
  template: `
    <div
      class="sales-bar"
      role="meter"
      [attr.aria-valuenow]="sold()"
      aria-valuemin="0"
      [attr.aria-valuemax]="capacity()"
      data-testid="sales-bar"
    >
      <div class="sales-bar-fill" [style.width.%]="percent()"></div>
    </div>
    <span class="small" data-testid="sales-numbers">
      {{ 'admin.soldOf' | translate: { sold: sold(), capacity: capacity(), percent: percent() } }}
    </span>
  `,
})
export class SalesBar {
  readonly sold = input.required<number>();
  readonly capacity = input.required<number>();
  protected readonly percent = computed(() =>
    this.capacity() > 0 ? Math.min(100, Math.round((this.sold() / this.capacity()) * 100)) : 0,
  );
}
