import { Component } from '@angular/core';
import { RouterLink } from '@angular/router';
import { TranslatePipe } from '@ngx-translate/core';

@Component({
  selector: 'app-not-found',
  imports: [RouterLink, TranslatePipe],
  template: `
    <section class="card narrow" data-testid="not-found">
      <h1>{{ 'common.notFound' | translate }}</h1>
      <a routerLink="/events">{{ 'nav.events' | translate }}</a>
    </section>
  `,
})
export class NotFound {}
