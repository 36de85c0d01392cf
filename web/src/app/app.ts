import { Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';
import { AuthService } from './auth/auth.service';
import { LANGUAGES, LanguageService } from './i18n/language.service';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, TranslatePipe],
  templateUrl: './app.html',
})
export class App {
  protected readonly auth = inject(AuthService);
  protected readonly language = inject(LanguageService);
  protected readonly languages = LANGUAGES;
  private readonly router = inject(Router);

  /** The session is forgotten at once; the page moves on while the service revokes the token. */
  protected async signOut(): Promise<void> {
    const revoked = this.auth.signOut();
    await this.router.navigateByUrl('/events');
    await revoked;
  }
}
