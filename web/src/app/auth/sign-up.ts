import { Component, inject, input } from '@angular/core';
import { FormBuilder, Validators } from '@angular/forms';
import { AuthForm, AuthField, AuthTexts, EMAIL_FIELD } from './auth-form';
import { LanguageService } from '../i18n/language.service';
import { AuthService } from './auth.service';
import { NEW_PASSWORD_VALIDATORS } from './password-rules';

@Component({
  selector: 'app-sign-up',
  imports: [AuthForm],
  templateUrl: './sign-up.html',
})
export class SignUp {
  readonly returnUrl = input<string>();
  private readonly auth = inject(AuthService);
  private readonly language = inject(LanguageService);
  /** Bounds from the contract: password 8..128, name 1..200. */
  protected readonly form = inject(FormBuilder).nonNullable.group({
    name: ['', [Validators.required, Validators.maxLength(200)]],
    email: ['', [Validators.required, Validators.email]],
    password: ['', NEW_PASSWORD_VALIDATORS],
  });
  protected readonly fields: readonly AuthField[] = [
    { name: 'name', type: 'text', autocomplete: 'name' },
    EMAIL_FIELD,
    { name: 'password', type: 'password', autocomplete: 'new-password', rule: 'auth.passwordRule' },
  ];
  protected readonly texts: AuthTexts = {
    title: 'auth.signUp',
    submit: 'auth.signUp',
    submitting: 'auth.signingUp',
    otherPrompt: 'auth.haveAccount',
    otherLink: 'auth.signIn',
    otherPath: '/sign-in',
  };
  protected readonly send = async (): Promise<void> => {
    const { name, email, password } = this.form.getRawValue();
    // The language the buyer signs up in is the language of their emails.
    await this.auth.register(email, password, name, this.language.current());
  };
}
