// Parked notices of an account: waiting for the user to write, soonest expiry first.
import { html } from '../html.js';
import { t } from '../i18n.js';
import { NoticeList } from '../notice-list.js';
import { Section } from '../panel.js';
import { AccountPicker } from '../range.js';

export function Parked({ account, onAccount, accounts }) {
  const chosen = account ?? accounts[0] ?? null;
  return html`
    <div class="toolbar"><${AccountPicker} accounts=${accounts} value=${chosen} onChange=${onAccount} all=${false} /></div>
    <${Section} title=${t('parked.title')} id="parked">
      <p class="muted">${t('parked.note')}</p>
      <${NoticeList} params=${chosen === null ? null : { account: chosen, status: 'awaiting_interaction' }} parked=${true} />
    <//>
  `;
}
