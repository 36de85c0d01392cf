import { TicketEvent } from '../core/models';

/** Whether the event sells several ticket types (its `price` is then the lowest: "from"). */
export function severalTypes(event: Pick<TicketEvent, 'ticket_types'>): boolean {
  return (event.ticket_types ?? []).length > 1;
}
