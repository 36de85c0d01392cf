import { BookingItemIn, TicketEvent, TicketType } from '../core/models';
import { maxQuantity } from './quantity';

/** How many of each ticket type the buyer has picked (type id → quantity; 0 or absent: none). */
export type Picks = ReadonlyMap<number, number>;

type Bounded = Pick<TicketEvent, 'available' | 'max_per_booking' | 'ticket_types'> & {
  my_remaining?: number | null;
};

export function totalPicked(picks: Picks): number {
  let total = 0;
  for (const quantity of picks.values()) total += quantity;
  return total;
}

/**
 * The most of one type the picker offers with the other picks kept: what is left of the type
 * (its own cap and the event's), and what the booking's total bound (max_per_booking, the
 * event's available, the per-customer limit) leaves after the other types.
 */
export function typeMax(
  event: Bounded,
  picks: Picks,
  type: Pick<TicketType, 'id' | 'available'>,
): number {
  const others = totalPicked(picks) - (picks.get(type.id) ?? 0);
  return Math.max(0, Math.min(type.available, maxQuantity(event) - others));
}

/**
 * Picks cut down to what can be booked now, e.g. after a refresh that says less is left: each
 * type to what is left of it, then the total to the booking's bound, earlier types first. Types
 * the event no longer has are dropped.
 */
export function clampPicks(event: Bounded, picks: Picks): Map<number, number> {
  let budget = maxQuantity(event);
  const clamped = new Map<number, number>();
  for (const type of event.ticket_types) {
    const wanted = Math.max(0, Math.floor(picks.get(type.id) ?? 0));
    const kept = Math.max(0, Math.min(wanted, type.available, budget));
    clamped.set(type.id, kept);
    budget -= kept;
  }
  return clamped;
}

/** The request's items: the picked types, in the event's order. */
export function toItems(event: Pick<TicketEvent, 'ticket_types'>, picks: Picks): BookingItemIn[] {
  return event.ticket_types
    .map((type) => ({ ticket_type_id: type.id, quantity: picks.get(type.id) ?? 0 }))
    .filter((item) => item.quantity > 0);
}

/** The price of the picks, in the currency's minor units (cents, satang). */
export function totalMinor(event: Pick<TicketEvent, 'ticket_types'>, picks: Picks): number {
  return event.ticket_types.reduce(
    (sum, type) => sum + Math.round(Number(type.price) * 100) * (picks.get(type.id) ?? 0),
    0,
  );
}

/** The event as it stands after this page's own booking of `items` went through. */
export function afterBooking(
  event: TicketEvent,
  items: readonly BookingItemIn[],
  held: boolean,
): TicketEvent {
  const booked = new Map(items.map((item) => [item.ticket_type_id, item.quantity]));
  const total = totalPicked(booked);
  const available = Math.max(0, event.available - total);
  return {
    ...event,
    tickets_sold: event.tickets_sold + (held ? 0 : total),
    tickets_held: (event.tickets_held ?? 0) + (held ? total : 0),
    available,
    my_remaining:
      event.my_remaining === null || event.my_remaining === undefined
        ? event.my_remaining
        : Math.max(0, event.my_remaining - total),
    ticket_types: (event.ticket_types ?? []).map((type) => {
      const quantity = booked.get(type.id) ?? 0;
      return {
        ...type,
        tickets_sold: type.tickets_sold + (held ? 0 : quantity),
        tickets_held: type.tickets_held + (held ? quantity : 0),
        available: Math.max(0, Math.min(type.available - quantity, available)),
      };
    }),
  };
}
