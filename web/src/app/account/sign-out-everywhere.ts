import { Component, effect, ElementRef, inject, signal, viewChild } from '@angular/core';
import { Router } from '@angular/router';
import { TranslatePipe, TranslateService } from '@ngx-translate/core';
import { firstValueFrom } from 'rxjs';
import { toApiError } from '../core/api-error';
import { AuthService } from '../auth/auth.service';
import { errorMessage } from '../i18n/error-message';
import { AccountApi } from './account-api';

/**
 * "Sign out everywhere": asks first, then has the service revoke every token of the user,
 * this browser's too, and forgets the session here. If the service cannot be reached the user
 * stays signed in and is told so: nothing was revoked, so saying otherwise would mislead.
 */
@Component({
  selector: 'app-sign-out-everywhere',
  imports: [TranslatePipe],
  templateUrl: './sign-out-everywhere.html',
})
export class SignOutEverywhere {
  private readonly api = inject(AccountApi);
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly translate = inject(TranslateService);
  protected readonly confirming = signal(false);
  protected readonly busy = signal(false);
  protected readonly error = signal<string | null>(null);
  private readonly askButton = viewChild<ElementRef<HTMLButtonElement>>('askButton');
  private readonly keepButton = viewChild<ElementRef<HTMLButtonElement>>('keepButton');
  /** Set when the question closes, so the keyboard focus goes back to the button that opened it. */
  private readonly refocusAsk = signal(false);

  constructor() {
    // Keyboard users land on the safe answer when asked, and back on the button afterwards.
    effect(() => {
      if (this.confirming()) this.keepButton()?.nativeElement.focus();
      else if (this.refocusAsk()) this.askButton()?.nativeElement.focus();
    });
  }

  protected ask(): void {
    this.error.set(null);
    this.confirming.set(true);
  }

  protected keep(): void {
    if (this.busy()) return;
    this.refocusAsk.set(true);
    this.confirming.set(false);
  }

  protected async confirm(): Promise<void> {
    if (this.busy()) return;
    this.busy.set(true);
    try {
      await firstValueFrom(this.api.signOutEverywhere());
    } catch (caught) {
      this.error.set(errorMessage(this.translate, toApiError(caught)));
      this.busy.set(false);
      this.keep();
      return;
    }
    this.auth.forget();
    await this.router.navigate(['/sign-in'], { queryParams: { notice: 'signed-out-everywhere' } });
  }
}
