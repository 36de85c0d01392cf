/**
 * The app's names for the API's bodies. The shapes themselves are generated from the service's
 * OpenAPI description into api-schema.ts (scripts/web-api-types), so they cannot drift from it;
 * only names live here.
 */
import { components } from './api-schema';

type Schemas = components['schemas'];

export type User = Schemas['UserOut'];
export type TokenResponse = Schemas['TokenOut'];
export type PasswordChange = Schemas['PasswordChangeIn'];

export type TicketEvent = Schemas['EventOut'];
export type EventPage = Schemas['ListOut_EventOut_'];
export type EventIn = Schemas['EventIn'];
export type EventPatch = Schemas['EventPatch'];
/** What the admin form sends: a whole event, valid to create one and to change one. */
export type EventDraft = EventIn & EventPatch;

export type BookingRequest = Schemas['BookingIn'];
export type Booking = Schemas['BookingOut'];
export type BookingPage = Schemas['ListOut_BookingOut_'];

export type Ticket = Schemas['TicketOut'];
export type TicketStatus = Ticket['status'];
