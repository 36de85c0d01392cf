import { Component, inject, input, signal } from '@angular/core';
import { FormGroup, ReactiveFormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { toApiError } from '../core/api-error';
import { errorMessage } from '../i18n/error-message';
import { safeReturnUrl } from './return-url';

/** One input of the form; its label is `auth.<name>` and its test hook is `<name>`. */
export interface AuthField {
  name: string;
  type: 'text' | 'email' | 'password';
  autocomplete: string;
  /** Shown under the field once it is touched and invalid. */
  rule?: string;
}

/** Translation keys of the page: its title, the button, and the link to the other page. */
export interface AuthTexts {
  title: string;
  submit: string;
  submitting: string;
  otherPrompt: string;
  otherLink: string;
  otherPath: string;
}

export const EMAIL_FIELD: AuthField = { name: 'email', type: 'email', autocomplete: 'username' };

/**
 * The page sign-in and sign-up share: the card, the fields, the error and the button, and the
 * submit flow (one request at a time, the contract's message on failure, then on to where the
 * user was headed). Each page brings its form (validators), fields, texts and request; anything
 * projected shows above the form.
 */
@Component({
  selector: 'app-auth-form',
  imports: [ReactiveFormsModule, RouterLink, TranslatePipe],
  templateUrl: './auth-form.html',
})
export class AuthForm {
  readonly form = input.required<FormGroup>();
  readonly fields = input.required<readonly AuthField[]>();
  readonly texts = input.required<AuthTexts>();
  /** Sends the form's values; a rejection is shown as the API's error. */
  readonly send = input.required<() => Promise<unknown>>();
  readonly returnUrl = input<string>();
  private readonly router = inject(Router);
  private readonly translate = inject(TranslateService);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);

  protected async submit(): Promise<void> {
    const form = this.form();
    if (form.invalid || this.busy()) {
      form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.error.set(null);
    try {
      await this.send()();
      await this.router.navigateByUrl(safeReturnUrl(this.returnUrl()));
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
    } finally {
      this.busy.set(false);
    }
  }
}
