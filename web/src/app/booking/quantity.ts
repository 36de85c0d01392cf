import { TicketEvent } from '../core/models';

/**
 * The most one booking may ask for now, in total: min(available, max_per_booking, and what
 * the per-customer limit leaves this buyer), never below 0.
 */
export function maxQuantity(
  event: Pick<TicketEvent, 'available' | 'max_per_booking'> & { my_remaining?: number | null },
): number {
  const remaining = event.my_remaining ?? Number.POSITIVE_INFINITY;
  return Math.max(0, Math.min(event.available, event.max_per_booking, remaining));
}

/** Keeps a picked quantity within 1..max (0 when nothing is left). */
export function clampQuantity(quantity: number, max: number): number {
  if (max <= 0) return 0;
  return Math.min(Math.max(1, Math.floor(quantity) || 1), max);
}
