// The console: sign in with an API key, then pages over the /v1 API (hash routes, so every page
// has a URL and the server serves one HTML page).
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrf, SIGNED_OUT, useApi } from './api.js';
import { html } from './html.js';
import { lang, t } from './i18n.js';
import { presetRange } from './range.js';
import { Accounts } from './pages/accounts.js';
import { Callbacks } from './pages/callbacks.js';
import { Funnel } from './pages/funnel.js';
import { Notice } from './pages/notice.js';
import { Notices } from './pages/notices.js';
import { Overview } from './pages/overview.js';
import { Parked } from './pages/parked.js';
import { Templates } from './pages/templates.js';
import { Webhooks } from './pages/webhooks.js';

const NAV = ['overview', 'funnel', 'templates', 'accounts', 'notices', 'parked', 'webhooks', 'callbacks'];

/** `#/notice/<id>` → { page: 'notice', arg: id }; `#/notices?openid=…` → { page: 'notices', search }. */
function parseHash() {
  const [path, search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [page, ...rest] = path.split('/');
  return { page: page || 'overview', arg: rest.length > 0 ? decodeURIComponent(rest.join('/')) : null, search };
}

function SignIn({ onSignedIn }) {
  const [key, setKey] = useState('');
  const [state, setState] = useState({});
  const submit = async (e) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      await api('/console/session', { method: 'POST', body: { apiKey: key } });
      setKey('');
      onSignedIn();
    } catch (error) {
      setState({ error: error.status === 401 ? t('signin.wrong') : error.status === 400 ? t('signin.empty') : error.message });
    }
  };
  return html`<main class="signin">
    <h1>${t('title')}</h1>
    <form onSubmit=${submit}>
      <label for="api-key">${t('signin.key')}</label>
      <input id="api-key" name="apiKey" type="password" autocomplete="off" required value=${key} onInput=${(e) => setKey(e.currentTarget.value)} />
      <button type="submit" disabled=${state.busy}>${t('signin.go')}</button>
      ${state.error && html`<p class="error" role="alert" data-error="signin">${state.error}</p>`}
      <p class="muted small">${t('signin.note')}</p>
    </form>
    <${Languages} />
  </main>`;
}

function Languages() {
  const other = lang === 'zh' ? 'en' : 'zh';
  return html`<a class="lang" href=${`?lang=${other}${location.hash}`} hreflang=${other}>${other === 'zh' ? '中文' : 'English'}</a>`;
}

function Shell({ session, onSignOut }) {
  const [route, setRoute] = useState(parseHash);
  const [range, setRange] = useState(() => presetRange('24h'));
  const [account, setAccount] = useState(null);
  const accountsAnswer = useApi('/v1/accounts');
  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const accountViews = accountsAnswer.data?.accounts ?? [];
  const accounts = accountViews.filter((a) => a.state !== 'unknown').map((a) => a.appid);
  const shared = { range, onRange: setRange, account, onAccount: setAccount, accounts, accountViews };
  const { page, arg, search } = route;
  const pages = {
    overview: () => html`<${Overview} ...${shared} />`,
    funnel: () => html`<${Funnel} ...${shared} />`,
    templates: () => html`<${Templates} ...${shared} />`,
    accounts: () => html`<${Accounts} accountViews=${accountViews} error=${accountsAnswer.error} />`,
    notices: () => html`<${Notices} key=${search} search=${search} accounts=${accounts} />`,
    notice: () => html`<${Notice} key=${arg} id=${arg ?? ''} />`,
    parked: () => html`<${Parked} ...${shared} />`,
    webhooks: () => html`<${Webhooks} />`,
    callbacks: () => html`<${Callbacks} ...${shared} />`,
  };
  const shown = Object.hasOwn(pages, page) ? page : 'overview';
  const current = shown === 'notice' ? 'notices' : shown;
  return html`
    <header>
      <a class="brand" href="#/overview">wxreach</a>
      <nav aria-label=${t('nav')}>
        ${NAV.map((p) => html`<a href=${`#/${p}`} class=${p === current ? 'on' : ''} aria-current=${p === current ? 'page' : undefined}>${t(`nav.${p}`)}</a>`)}
      </nav>
      <div class="who">
        ${session.operator && html`<span class="badge">${t('operator')}</span>`}
        ${session.accounts && html`<span class="small muted" title=${session.accounts.join(', ')}>${t('limitedTo', { n: session.accounts.length })}</span>`}
        <${Languages} />
        <button type="button" class="small-button" onClick=${onSignOut}>${t('signout')}</button>
      </div>
    </header>
    <main data-page=${shown}>
      <h1>${t(`nav.${shown}`)}</h1>
      ${pages[shown]()}
    </main>
  `;
}

function App() {
  // undefined: asking whether signed in; null: not signed in
  const [session, setSession] = useState(undefined);
  const check = () =>
    api('/console/session').then(
      (s) => {
        setCsrf(s.csrf);
        setSession(s);
      },
      () => setSession(null),
    );
  useEffect(() => {
    void check();
    const out = () => setSession(null);
    window.addEventListener(SIGNED_OUT, out);
    return () => window.removeEventListener(SIGNED_OUT, out);
  }, []);
  const signOut = async () => {
    await api('/console/session', { method: 'DELETE' }).catch(() => undefined);
    setCsrf(null);
    setSession(null);
  };
  if (session === undefined) return html`<p class="muted">${t('loading')}</p>`;
  if (session === null) return html`<${SignIn} onSignedIn=${check} />`;
  return html`<${Shell} session=${session} onSignOut=${signOut} />`;
}

document.title = t('title');
render(html`<${App} />`, document.getElementById('app'));
