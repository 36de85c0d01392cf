import { NgTemplateOutlet } from '@angular/common';
import { Component, computed, inject, linkedSignal, model, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthService } from '../auth/auth.service';
import { ApiError, ItemAvailable } from '../core/api-error';
import { Booking, BookingItemIn, TicketEvent, TicketType } from '../core/models';
import { AvailabilityBadge } from '../events/availability-badge';
import { ApiErrorPipe } from '../i18n/error-message';
import { LanguageService } from '../i18n/language.service';
import { MoneyPipe } from '../shared/format';
import { BookingClient, Order } from './booking-client';
import {
  afterBooking,
  clampPicks,
  Picks,
  toItems,
  totalMinor,
  totalPicked,
  typeMax,
} from './order';
import { clampQuantity, maxQuantity } from './quantity';

/** A type the answer said is short: how many were asked and how many are left. */
interface ShortItem {
  name: string;
  asked: number;
  available: number;
}

type PanelResult =
  | { kind: 'booked'; booking: Booking }
  | { kind: 'sold_out'; available: number; short: ShortItem[] }
  /** `unknown`: no final answer came, so the booking may have gone through. */
  | { kind: 'failed'; error: ApiError; unknown?: boolean };

/**
 * A booking whose outcome is unknown: its Idempotency-Key and the order it was for (event,
 * items or quantity, buyer). Booking that very order again reuses the key, so the service
 * answers the first booking if it did go through instead of booking twice.
 */
interface UnknownOutcome {
  key: string;
  eventId: number;
  order: Order;
  userId: number | null;
}

/**
 * What to book and the Book button. An event with one ticket type gets one quantity picker;
 * with several, a picker per type (sold-out ones shown, disabled), each bounded by what is left
 * of its type and by what the booking's total bound (max_per_booking, the event's available,
 * the buyer's per-customer limit) leaves after the other types. The event is a model so a
 * refresh after a refusal flows back up. A booking held for payment (PENDING) goes on to the
 * checkout page.
 */
@Component({
  selector: 'app-book-panel',
  imports: [
    NgTemplateOutlet,
    RouterLink,
    TranslatePipe,
    MoneyPipe,
    ApiErrorPipe,
    AvailabilityBadge,
  ],
  templateUrl: './book-panel.html',
})
export class BookPanel {
  readonly event = model.required<TicketEvent>();
  private readonly client = inject(BookingClient);
  private readonly router = inject(Router);
  protected readonly auth = inject(AuthService);
  protected readonly lang = inject(LanguageService).current;

  protected readonly types = computed(() => this.event().ticket_types ?? []);
  /** One type (or an event from before ticket types): the single picker of 1..max. */
  protected readonly single = computed(() => this.types().length <= 1);
  protected readonly max = computed(() => {
    const [only] = this.types();
    const total = maxQuantity(this.event());
    return only ? Math.max(0, Math.min(total, only.available)) : total;
  });
  protected readonly options = computed(() => Array.from({ length: this.max() }, (_, i) => i + 1));
  /** The single picker's quantity, re-clamped whenever the bound changes. */
  protected readonly quantity = linkedSignal<number, number>({
    source: this.max,
    computation: (max, previous) => clampQuantity(previous?.value ?? 1, max),
  });
  /** The per-type picks, re-clamped whenever the event changes (polling, a refresh). */
  protected readonly picks = linkedSignal<TicketEvent, Picks>({
    source: this.event,
    computation: (event, previous) => clampPicks(event, previous?.value ?? new Map()),
  });
  protected readonly picked = computed(() =>
    this.single() ? this.quantity() : totalPicked(this.picks()),
  );
  protected readonly totalPrice = computed(() => totalMinor(this.event(), this.picks()) / 100);
  protected readonly remaining = computed(() => this.event().my_remaining ?? null);
  protected readonly canBook = computed(() => !this.busy() && this.picked() > 0);

  protected readonly busy = signal(false);
  protected readonly retry = signal(0);
  protected readonly result = signal<PanelResult | null>(null);
  protected readonly booked = computed(() => narrow(this.result(), 'booked')?.booking ?? null);
  protected readonly soldOut = computed(() => narrow(this.result(), 'sold_out'));
  protected readonly failure = computed(() => narrow(this.result(), 'failed'));
  /** Kept until a final answer, or until a click books another order. */
  private unknownOutcome: UnknownOutcome | null = null;

  protected typeOptions(type: TicketType): number[] {
    const max = typeMax(this.event(), this.picks(), type);
    return Array.from({ length: max + 1 }, (_, i) => i);
  }

  protected typeMax(type: TicketType): number {
    return typeMax(this.event(), this.picks(), type);
  }

  protected pick(value: string): void {
    this.quantity.set(clampQuantity(Number(value), this.max()));
  }

  protected pickType(type: TicketType, value: string): void {
    const next = new Map(this.picks());
    next.set(type.id, Math.max(0, Math.floor(Number(value)) || 0));
    this.picks.set(clampPicks(this.event(), next));
  }

  protected async book(): Promise<void> {
    if (!this.canBook()) return;
    const event = this.event();
    const items = this.items(event);
    const order: Order = items ?? this.quantity();
    this.busy.set(true);
    this.retry.set(0);
    this.result.set(null);
    try {
      const onRetry = (n: number) => this.retry.set(n);
      // The key of an unknown outcome for this very order, else none: the client makes one.
      const key = this.keyToReuse(event.id, order);
      const outcome = await (key
        ? this.client.book(event.id, order, onRetry, key)
        : this.client.book(event.id, order, onRetry));
      this.unknownOutcome =
        outcome.kind === 'failed' && outcome.retryKey
          ? { key: outcome.retryKey, eventId: event.id, order, userId: this.userId() }
          : null;
      switch (outcome.kind) {
        case 'booked': {
          const { booking } = outcome;
          const held = booking.status === 'PENDING';
          this.event.set(
            afterBooking(event, items ?? [{ ticket_type_id: 0, quantity: booking.quantity }], held),
          );
          if (held) {
            await this.router.navigate(['/checkout', booking.id]);
          } else {
            this.result.set({ kind: 'booked', booking });
          }
          break;
        }
        case 'sold_out':
          this.event.set(outcome.event ?? { ...event, available: outcome.available });
          this.result.set({
            kind: 'sold_out',
            available: outcome.available,
            short: shortItems(event, items ?? [], outcome.items),
          });
          break;
        case 'limit':
          this.event.set({ ...(outcome.event ?? event), my_remaining: outcome.remaining });
          this.result.set({
            kind: 'failed',
            error: {
              status: 409,
              code: 'customer_limit_reached',
              detail: '',
              remaining: outcome.remaining,
            },
          });
          break;
        case 'types_changed':
          if (outcome.event) this.event.set(outcome.event);
          this.result.set({ kind: 'failed', error: outcome.error });
          break;
        case 'failed':
          this.result.set({
            kind: 'failed',
            error: outcome.error,
            unknown: outcome.retryKey !== undefined,
          });
      }
    } finally {
      this.busy.set(false);
    }
  }

  /** The key of the last booking when its outcome is unknown and this is its very order. */
  private keyToReuse(eventId: number, order: Order): string | undefined {
    const last = this.unknownOutcome;
    return last &&
      last.eventId === eventId &&
      sameOrder(last.order, order) &&
      last.userId === this.userId()
      ? last.key
      : undefined;
  }

  private userId(): number | null {
    return this.auth.user()?.id ?? null;
  }

  /** The items to send; null for an event from before ticket types (a bare quantity). */
  private items(event: TicketEvent): BookingItemIn[] | null {
    const types = event.ticket_types ?? [];
    if (types.length === 0) return null;
    if (types.length === 1) return [{ ticket_type_id: types[0].id, quantity: this.quantity() }];
    return toItems(event, this.picks());
  }
}

function narrow<K extends PanelResult['kind']>(
  result: PanelResult | null,
  kind: K,
): Extract<PanelResult, { kind: K }> | null {
  return result?.kind === kind ? (result as Extract<PanelResult, { kind: K }>) : null;
}

/** The same quantity, or the same types with the same quantities in the same order. */
function sameOrder(a: Order, b: Order): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return (
    a.length === b.length &&
    a.every(
      (item, i) => item.ticket_type_id === b[i].ticket_type_id && item.quantity === b[i].quantity,
    )
  );
}

/** The asked types that had fewer left than asked, named as the page showed them. */
function shortItems(
  event: TicketEvent,
  asked: readonly BookingItemIn[],
  left: readonly ItemAvailable[],
): ShortItem[] {
  if ((event.ticket_types ?? []).length <= 1) return [];
  const available = new Map(left.map((item) => [item.ticket_type_id, item.available]));
  return asked.flatMap((item) => {
    const now = available.get(item.ticket_type_id);
    const type = event.ticket_types.find((t) => t.id === item.ticket_type_id);
    return now !== undefined && now < item.quantity && type
      ? [{ name: type.name, asked: item.quantity, available: now }]
      : [];
  });
}
