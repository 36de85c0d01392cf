import { Validators } from '@angular/forms';

/**
 * A new password's rules as the contract states them (8..128 characters), checked here before
 * sending; sign-up and the change-password page share them. The service may refuse more (too
 * common a password): that comes back as a 422 with its own message.
 */
export const NEW_PASSWORD_VALIDATORS = [
  Validators.required,
  Validators.minLength(8),
  Validators.maxLength(128),
];
