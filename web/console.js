// Parley agent console: a reference client application built only on the public client API
// (docs/api.md) — conversations and messages over REST, live events over /v1/stream.
//
// The API key lives in sessionStorage (this tab) until "Sign out". Message content, context,
// cookies and private data are untrusted: they reach the DOM only through textContent and
// attribute setters, and URLs only when they are http(s).
(function () {
  'use strict';

  const KEY_STORAGE = 'parley-console:key';
  const NAME_STORAGE = 'parley-console:name';
  const TYPING_THROTTLE_MS = 3000;
  const TYPING_IDLE_MS = 5000;
  const CUSTOMER_TYPING_HIDE_MS = 10000;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const MAX_SEEN_EVENTS = 5000;
  const STATUS_RANK = { sent: 1, delivered: 2, read: 3, failed: 4 };
  const STATUS_TEXT = { sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Failed' };

  const $ = (id) => document.getElementById(id);
  const ui = {
    signinView: $('signin-view'), signinForm: $('signin-form'), key: $('key'),
    signinError: $('signin-error'), appView: $('app-view'), sessionBar: $('session-bar'),
    agentName: $('agent-name'), streamState: $('stream-state'), signout: $('signout'),
    list: $('conversations'), noConversations: $('no-conversations'), empty: $('empty-state'),
    view: $('conversation-view'), heading: $('conversation-heading'),
    convState: $('conversation-state'), end: $('end'), endConfirm: $('end-confirm'),
    endYes: $('end-yes'), endNo: $('end-no'), notice: $('notice'), messages: $('messages'),
    typing: $('typing'), composer: $('composer'), input: $('input'), send: $('send'),
    quickReplies: $('quick-replies'), sendQuickReplies: $('send-quick-replies'), file: $('file'),
    context: $('context'), cookies: $('cookies'), privateData: $('private-data'),
  };

  const state = {
    key: null,
    ws: null,
    streamWanted: false,
    lastEventId: null,
    seen: new Set(),
    attempts: 0,
    retryTimer: 0,
    conversations: new Map(),  // id -> {conv, item}
    selected: null,
    selectedOpen: false,
    loadSerial: 0,
    rows: new Map(),           // message id -> row of the selected conversation
    statuses: new Map(),       // message id -> latest status seen on the stream
    newestCustomerMessage: null,
    readSent: new Map(),       // conversation id -> message id reported read
    typingOn: false,
    typingSentAt: 0,
    typingIdleTimer: 0,
    customerTypingTimer: 0,
    detailsTimer: 0,
  };

  // ---- Helpers ----------------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function str(value) {
    return typeof value === 'string' ? value : '';
  }

  function safeUrl(value) {
    if (typeof value !== 'string' || value === '') return null;
    try {
      const url = new URL(value, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(url, text) {
    const a = el('a', null, text);
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function kindOf(mime) {
    const top = String(mime || '').split('/')[0];
    return top === 'image' || top === 'audio' || top === 'video' ? top : 'file';
  }

  function formatTime(value, withDate) {
    const t = Date.parse(value);
    if (!Number.isFinite(t)) return '';
    const d = new Date(t);
    return withDate ? d.toLocaleString() : d.toLocaleTimeString();
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = !text;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // Calls the client API. `body`: a Blob (sent raw with its type) or a JSON value.
  async function api(method, path, body, opts) {
    const key = (opts && opts.key) || state.key;
    const headers = { Authorization: 'Bearer ' + key };
    let payload;
    if (body instanceof Blob) {
      payload = body;
      headers['Content-Type'] = body.type || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    if (opts && opts.idempotent) headers['Idempotency-Key'] = randomId();
    const res = await fetch(path, {
      method, headers, body: payload, credentials: 'omit', cache: 'no-store',
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      if (res.status === 401 && !(opts && opts.key)) signOut('Your key is no longer accepted.');
      throw new ApiError(res.status, str(err.code), str(err.message) || 'HTTP ' + res.status);
    }
    return data;
  }

  async function listAll(path) {
    const out = [];
    let after = null;
    for (let page = 0; page < 20; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const data = await api('GET', path + sep + 'limit=500' +
        (after ? '&after=' + encodeURIComponent(after) : ''));
      if (data && Array.isArray(data.data)) out.push(...data.data);
      after = data && data.next_cursor;
      if (!after) break;
    }
    return out;
  }

  const enc = encodeURIComponent;

  // ---- Signing in and out -----------------------------------------------------------------

  function init() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const fromHash = hash.get('key');
    if (fromHash) {
      ui.key.value = fromHash;
      history.replaceState(null, '', location.pathname + location.search);
    }
    ui.agentName.value = sessionStorage.getItem(NAME_STORAGE) || 'Agent';
    wire();
    const stored = sessionStorage.getItem(KEY_STORAGE);
    if (stored) start(stored);
    else (fromHash ? $('signin') : ui.key).focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const key = ui.key.value.trim();
    ui.signinError.hidden = true;
    if (!key) {
      ui.signinError.textContent = 'Enter an API key.';
      ui.signinError.hidden = false;
      return;
    }
    try {
      await api('GET', '/v1/conversations?state=open&limit=1', undefined, { key });
    } catch (e) {
      ui.signinError.textContent = e.status === 401 ? 'This key is not accepted.' :
        e.status === 403 ? 'This key lacks the scope conversations:read.' :
        'Cannot sign in: ' + e.message;
      ui.signinError.hidden = false;
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    ui.key.value = '';
    start(key);
  }

  function start(key) {
    state.key = key;
    ui.signinView.hidden = true;
    ui.appView.hidden = false;
    ui.sessionBar.hidden = false;
    state.streamWanted = true;
    loadConversations();
    connectStream();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    state.streamWanted = false;
    clearTimeout(state.retryTimer);
    if (state.ws) {
      const ws = state.ws;
      state.ws = null;
      ws.close(1000);
    }
    state.lastEventId = null;
    state.seen.clear();
    state.conversations.clear();
    state.selected = null;
    state.rows.clear();
    state.statuses.clear();
    ui.list.textContent = '';
    ui.messages.textContent = '';
    ui.view.hidden = true;
    ui.empty.hidden = false;
    for (const box of [ui.context, ui.cookies, ui.privateData]) renderTable(box, null);
    ui.appView.hidden = true;
    ui.sessionBar.hidden = true;
    ui.signinView.hidden = false;
    ui.signinError.textContent = message || '';
    ui.signinError.hidden = !message;
    ui.key.focus();
  }

  // ---- Conversation list ------------------------------------------------------------------

  function channelName(conv) {
    const c = conv.channel;
    if (c && typeof c === 'object') return str(c.kind) || 'chat';
    return str(c) || 'chat';
  }

  function renderItem(entry) {
    const conv = entry.conv;
    const item = entry.item;
    const b = item.firstChild;
    b.textContent = '';
    b.appendChild(el('span', 'item-title', channelName(conv) + ' · ' + str(conv.id).slice(-8)));
    const ended = conv.state === 'ended';
    const sub = ended ? 'ended' + (str(conv.end_reason) ? ' (' + conv.end_reason + ')' : '') :
      'started ' + formatTime(conv.started_at, true);
    b.appendChild(el('span', 'item-sub', sub));
    if (entry.preview) b.appendChild(el('span', 'item-preview', entry.preview));
    item.classList.toggle('ended', ended);
    item.classList.toggle('unread', !!entry.unread);
    if (state.selected === conv.id) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }

  function addConversation(conv, atTop) {
    if (!conv || typeof conv.id !== 'string') return null;
    let entry = state.conversations.get(conv.id);
    if (entry) {
      entry.conv = Object.assign(entry.conv, conv);
      renderItem(entry);
      return entry;
    }
    const item = el('li', 'conversation-item');
    const b = el('button');
    b.type = 'button';
    b.setAttribute('data-testid', 'console-conversation');
    b.setAttribute('data-conversation-id', conv.id);
    b.addEventListener('click', () => select(conv.id));
    item.appendChild(b);
    entry = { conv, item, preview: '', unread: false };
    state.conversations.set(conv.id, entry);
    renderItem(entry);
    if (atTop) ui.list.insertBefore(item, ui.list.firstChild);
    else ui.list.appendChild(item);
    ui.noConversations.hidden = true;
    return entry;
  }

  async function loadConversations() {
    let convs;
    try {
      convs = await listAll('/v1/conversations?state=open');
    } catch (e) {
      showNotice('Cannot load conversations: ' + e.message);
      return;
    }
    for (const conv of convs) addConversation(conv, false);
    ui.noConversations.hidden = state.conversations.size > 0;
  }

  async function fetchConversation(id) {
    try {
      return await api('GET', '/v1/conversations/' + enc(id));
    } catch (e) {
      return null;
    }
  }

  // ---- One conversation -------------------------------------------------------------------

  function setComposerEnabled(on) {
    for (const c of [ui.input, ui.send, ui.quickReplies, ui.sendQuickReplies, ui.file, ui.end]) {
      c.disabled = !on;
    }
  }

  function renderConversationHead(conv) {
    ui.heading.textContent = 'Conversation ' + str(conv.id);
    const open = conv.state !== 'ended';
    state.selectedOpen = open;
    ui.convState.textContent = open ? 'open' :
      'ended' + (str(conv.end_reason) ? ' (' + conv.end_reason + ')' : '');
    ui.convState.classList.toggle('ended', !open);
    setComposerEnabled(open);
    ui.endConfirm.hidden = true;
    if (!open) {
      ui.typing.hidden = true;
      showNotice('This conversation has ended; its messages and context are deleted.');
    }
  }

  async function select(id) {
    if (state.selected !== id) stopTyping();
    state.selected = id;
    const serial = ++state.loadSerial;
    const entry = state.conversations.get(id);
    for (const e of state.conversations.values()) {
      if (e.conv.id === id) e.unread = false;
      renderItem(e);
    }
    ui.empty.hidden = true;
    ui.view.hidden = false;
    ui.messages.textContent = '';
    ui.typing.hidden = true;
    state.rows.clear();
    state.newestCustomerMessage = null;
    showNotice('');
    if (entry) renderConversationHead(entry.conv);
    for (const box of [ui.context, ui.cookies, ui.privateData]) renderTable(box, null);

    let conv;
    let messages;
    try {
      [conv, messages] = await Promise.all([
        api('GET', '/v1/conversations/' + enc(id)),
        listAll('/v1/conversations/' + enc(id) + '/messages'),
      ]);
    } catch (e) {
      if (serial === state.loadSerial) showNotice('Cannot load the conversation: ' + e.message);
      return;
    }
    if (serial !== state.loadSerial) return;  // another conversation was selected meanwhile
    if (entry) {
      entry.conv = Object.assign(entry.conv, conv);
      renderItem(entry);
    }
    renderConversationHead(conv);
    renderTable(ui.context, conv.context);
    renderTable(ui.cookies, conv.cookies);
    renderTable(ui.privateData, conv.private_data);
    for (const msg of messages) appendMessage(msg);
    markRead();
    ui.input.focus();
  }

  // Flattens nested objects to dotted keys: {"device":{"os":"Linux"}} -> device.os = Linux.
  function flatten(value, prefix, out) {
    if (value && typeof value === 'object') {
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) :
        Object.entries(value);
      if (entries.length === 0 && prefix) out.push([prefix, Array.isArray(value) ? '[]' : '{}']);
      for (const [k, v] of entries) flatten(v, prefix ? prefix + '.' + k : k, out);
    } else {
      out.push([prefix, value === null ? 'null' : String(value)]);
    }
    return out;
  }

  function renderTable(box, value) {
    box.textContent = '';
    const rows = value && typeof value === 'object' ? flatten(value, '', []) : [];
    if (rows.length === 0) {
      box.appendChild(el('p', 'muted', 'none'));
      return;
    }
    const table = el('table', 'kv');
    const body = el('tbody');
    for (const [k, v] of rows) {
      const tr = el('tr');
      const th = el('th', null, k);
      th.scope = 'row';
      tr.append(th, el('td', null, v));
      body.appendChild(tr);
    }
    table.appendChild(body);
    box.appendChild(table);
  }

  // ---- Messages ---------------------------------------------------------------------------

  function renderText(parent, text) {
    parent.appendChild(el('div', 'text', text));
  }

  function renderChoices(parent, items) {
    const box = el('ul', 'choices');
    for (const item of Array.isArray(items) ? items : []) {
      if (!item) continue;
      const li = el('li', null, str(item.title));
      if (str(item.id) && item.id !== item.title) li.title = 'payload: ' + item.id;
      box.appendChild(li);
    }
    parent.appendChild(box);
  }

  function renderContent(bubble, c) {
    switch (c.type) {
      case 'text':
        renderText(bubble, str(c.text));
        break;
      case 'media': {
        for (const a of Array.isArray(c.attachments) ? c.attachments : []) {
          if (!a) continue;
          const url = safeUrl(a.url);
          const name = str(a.filename) || str(a.mime_type) || 'attachment';
          if (url && (c.kind === 'image' || c.kind === 'sticker')) {
            const img = el('img', 'image');
            img.src = url;
            img.alt = str(c.caption) || name;
            img.referrerPolicy = 'no-referrer';
            const holder = link(url, null);
            holder.appendChild(img);
            bubble.appendChild(holder);
          } else if (url) {
            bubble.appendChild(link(url, name));
          } else {
            renderText(bubble, name + ' (no link)');
          }
        }
        if (str(c.caption)) renderText(bubble, c.caption);
        break;
      }
      case 'location': {
        const lat = Number(c.latitude);
        const lon = Number(c.longitude);
        renderText(bubble, 'Location: ' +
          ([str(c.name), str(c.address)].filter(Boolean).join(', ') || lat + ', ' + lon));
        if (Number.isFinite(lat) && Number.isFinite(lon)) {
          bubble.appendChild(link('https://www.openstreetmap.org/?mlat=' + lat + '&mlon=' + lon +
            '#map=16/' + lat + '/' + lon, 'Open map'));
        }
        break;
      }
      case 'contact':
        for (const card of Array.isArray(c.contacts) ? c.contacts : []) {
          if (!card) continue;
          const parts = [str(card.name && card.name.formatted)];
          for (const p of Array.isArray(card.phones) ? card.phones : []) parts.push(str(p && p.number));
          for (const e of Array.isArray(card.emails) ? card.emails : []) parts.push(str(e && e.address));
          renderText(bubble, 'Contact: ' + parts.filter(Boolean).join(' · '));
        }
        break;
      case 'reply':
        renderText(bubble, 'Chose: ' + str(c.title));
        if (str(c.payload)) bubble.appendChild(el('div', 'small', 'payload ' + c.payload));
        break;
      case 'reaction':
        renderText(bubble, str(c.emoji) ? 'Reacted ' + c.emoji : 'Removed a reaction');
        break;
      case 'interactive':
        if (str(c.header)) bubble.appendChild(el('div', 'strong', c.header));
        if (str(c.body)) renderText(bubble, c.body);
        if (c.kind === 'quick_replies') renderChoices(bubble, c.quick_replies);
        else if (c.kind === 'buttons') renderChoices(bubble, c.buttons);
        else if (c.kind === 'list' && c.list && Array.isArray(c.list.sections)) {
          renderChoices(bubble, c.list.sections.flatMap((s) => (s && s.rows) || []));
        } else if (c.kind === 'carousel') renderChoices(bubble, c.cards);
        if (str(c.footer)) bubble.appendChild(el('div', 'small', c.footer));
        break;
      case 'template':
        renderText(bubble, 'Template ' + str(c.name) + ' (' + str(c.language) + ')');
        break;
      case 'system':
        renderText(bubble, str(c.text) || str(c.code));
        break;
      case 'unsupported':
        renderText(bubble, 'Unsupported message (' + str(c.provider_type) + ')' +
          (str(c.description) ? ': ' + c.description : ''));
        break;
      default:
        renderText(bubble, 'Message of an unknown type: ' + str(c.type));
    }
  }

  function setRowStatus(row, status) {
    const node = row.querySelector('.status');
    if (!node || !STATUS_TEXT[status]) return;
    const current = node.getAttribute('data-status');
    if (current && STATUS_RANK[current] >= STATUS_RANK[status]) return;
    node.setAttribute('data-status', status);
    node.textContent = STATUS_TEXT[status];
  }

  function appendMessage(msg) {
    if (!msg || typeof msg.id !== 'string' || state.rows.has(msg.id)) return;
    const content = msg.content && typeof msg.content === 'object' ? msg.content : {};
    const author = msg.author && typeof msg.author === 'object' ? msg.author : {};
    const inbound = msg.direction === 'inbound';
    const row = el('li', 'message ' + (inbound ? 'inbound' : 'outbound') +
      (author.role === 'system' || content.type === 'system' ? ' system' : ''));
    row.setAttribute('data-testid', 'console-message');
    row.setAttribute('data-direction', inbound ? 'inbound' : 'outbound');
    row.setAttribute('data-message-id', msg.id);
    const who = str(author.name) || (inbound ? 'Customer' : str(author.role) || 'agent');
    row.appendChild(el('div', 'meta', who + ' · ' + formatTime(msg.received_at || msg.created_at)));
    const bubble = el('div', 'bubble');
    renderContent(bubble, content);
    row.appendChild(bubble);
    if (!inbound && author.role !== 'system') {
      const status = el('div', 'status');
      status.setAttribute('data-testid', 'console-status');
      row.appendChild(status);
      setRowStatus(row, state.statuses.get(msg.id) || 'sent');
    }
    state.rows.set(msg.id, row);
    ui.messages.appendChild(row);
    ui.messages.scrollTop = ui.messages.scrollHeight;
    if (inbound) state.newestCustomerMessage = msg.id;
  }

  // Reports the newest customer message read while the agent is looking at it.
  async function markRead() {
    const conv = state.selected;
    const id = state.newestCustomerMessage;
    if (!conv || !id || !state.selectedOpen || document.visibilityState !== 'visible') return;
    if (state.readSent.get(conv) === id) return;
    state.readSent.set(conv, id);
    try {
      await api('POST', '/v1/conversations/' + enc(conv) + '/read', { message: id });
    } catch (e) {
      if (state.readSent.get(conv) === id) state.readSent.delete(conv);
    }
  }

  function author() {
    const name = ui.agentName.value.trim();
    return name ? { role: 'agent', name } : { role: 'agent' };
  }

  async function sendContent(content) {
    const conv = state.selected;
    if (!conv) return false;
    stopTyping();
    try {
      const msg = await api('POST', '/v1/conversations/' + enc(conv) + '/messages',
        { content, author: author() }, { idempotent: true });
      if (state.selected === conv) appendMessage(msg);
      showNotice('');
      return true;
    } catch (e) {
      showNotice('Not sent: ' + e.message);
      return false;
    }
  }

  async function sendText() {
    const text = ui.input.value.trim();
    if (!text) return;
    ui.send.disabled = true;
    if (await sendContent({ type: 'text', text })) ui.input.value = '';
    ui.send.disabled = !state.selectedOpen;
    ui.input.focus();
  }

  async function sendQuickReplies() {
    const body = ui.input.value.trim();
    const titles = [];
    for (const t of ui.quickReplies.value.split(',')) {
      const title = t.trim();
      if (title && !titles.includes(title)) titles.push(title);
    }
    if (!body || titles.length === 0) {
      showNotice('Write the question in the reply box and at least one option, comma-separated.');
      return;
    }
    if (titles.length > 10) {
      showNotice('At most 10 quick replies.');
      return;
    }
    const content = {
      type: 'interactive', kind: 'quick_replies', body,
      quick_replies: titles.map((title) => ({ id: title, title })),
    };
    if (await sendContent(content)) {
      ui.input.value = '';
      ui.quickReplies.value = '';
    }
  }

  async function sendFiles() {
    const conv = state.selected;
    const files = Array.from(ui.file.files || []);
    ui.file.value = '';
    for (const file of files) {
      showNotice('Uploading ' + file.name + '…');
      let att;
      try {
        att = await api('POST', '/v1/attachments?conversation_id=' + enc(conv) + '&filename=' +
          enc(file.name), file);
      } catch (e) {
        showNotice('Upload of ' + file.name + ' failed: ' + e.message);
        continue;
      }
      if (state.selected !== conv) return;
      await sendContent({
        type: 'media', kind: kindOf(att.mime_type || file.type), attachments: [{ id: att.id }],
      });
    }
  }

  function postTyping(conv, on) {
    api('POST', '/v1/conversations/' + enc(conv) + '/typing', { on }).catch(() => {});
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    if (state.typingOn && state.selected) postTyping(state.selected, false);
    state.typingOn = false;
    state.typingSentAt = 0;
  }

  function onInput() {
    if (!state.selected || !state.selectedOpen) return;
    const now = Date.now();
    if (ui.input.value.trim() && now - state.typingSentAt >= TYPING_THROTTLE_MS) {
      state.typingOn = true;
      state.typingSentAt = now;
      postTyping(state.selected, true);
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  async function endConversation() {
    const conv = state.selected;
    ui.endConfirm.hidden = true;
    try {
      const updated = await api('POST', '/v1/conversations/' + enc(conv) + '/end', {});
      onEnded(conv, updated && updated.end_reason ? updated.end_reason : 'client');
    } catch (e) {
      showNotice(e.status === 409 ? 'This conversation has already ended.' :
        'Cannot end the conversation: ' + e.message);
    }
  }

  function onEnded(conv, reason) {
    const entry = state.conversations.get(conv);
    if (entry) {
      entry.conv.state = 'ended';
      entry.conv.end_reason = reason || entry.conv.end_reason || null;
      renderItem(entry);
    }
    if (state.selected === conv) {
      stopTyping();
      renderConversationHead({ id: conv, state: 'ended', end_reason: reason });
    }
  }

  // ---- Live stream ------------------------------------------------------------------------

  function setStreamState(text) {
    ui.streamState.textContent = text;
  }

  function connectStream() {
    if (!state.streamWanted || state.ws) return;
    const url = new URL('/v1/stream', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('access_token', state.key);
    if (state.lastEventId) url.searchParams.set('last_event_id', state.lastEventId);
    let ws;
    try {
      ws = new WebSocket(url.href);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    setStreamState('Connecting…');
    ws.addEventListener('open', () => {
      state.attempts = 0;
      setStreamState('Live');
    });
    ws.addEventListener('message', (e) => {
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (ev && typeof ev === 'object') onEvent(ev);
    });
    ws.addEventListener('close', (e) => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (e.code === 4404) {
        // The resume point is gone: start over from the current state.
        state.lastEventId = null;
        loadConversations();
        if (state.selected) select(state.selected);
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (!state.streamWanted) return;
    setStreamState('Reconnecting…');
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, state.attempts));
    state.attempts++;
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connectStream, delay);
  }

  function onEvent(ev) {
    if (typeof ev.id === 'string') {
      if (state.seen.has(ev.id)) return;
      state.seen.add(ev.id);
      if (state.seen.size > MAX_SEEN_EVENTS) state.seen.delete(state.seen.values().next().value);
      state.lastEventId = ev.id;
    }
    const data = ev.data && typeof ev.data === 'object' ? ev.data : {};
    switch (ev.type) {
      case 'message.created': onMessageCreated(data); break;
      case 'message.status': onMessageStatus(data); break;
      case 'typing': onTyping(data); break;
      case 'conversation.started': onStarted(data); break;
      case 'conversation.ended': onEnded(str(data.conversation), str(data.reason)); break;
      default: break;  // types added later
    }
  }

  async function onStarted(data) {
    const id = str(data.conversation);
    if (!id || state.conversations.has(id)) return;
    const conv = await fetchConversation(id);
    addConversation(conv || { id, state: 'open', channel: null }, true);
  }

  function preview(msg) {
    const c = msg.content || {};
    const text = c.type === 'text' ? str(c.text) : c.type === 'reply' ? str(c.title) :
      c.type === 'interactive' ? str(c.body) : c.type === 'media' ? '[' + str(c.kind) + ']' :
      '[' + str(c.type) + ']';
    return (msg.direction === 'inbound' ? '' : 'You: ') + text.slice(0, 80);
  }

  async function onMessageCreated(msg) {
    const conv = str(msg.conversation);
    let entry = state.conversations.get(conv);
    if (!entry && conv) {
      entry = addConversation((await fetchConversation(conv)) ||
        { id: conv, state: 'open', channel: msg.channel }, true);
    }
    if (entry) {
      entry.preview = preview(msg);
      if (state.selected !== conv && msg.direction === 'inbound') entry.unread = true;
      renderItem(entry);
    }
    if (state.selected === conv) {
      appendMessage(msg);
      if (msg.direction === 'inbound') {
        ui.typing.hidden = true;
        markRead();
        refreshDetailsSoon(conv);
      }
    }
  }

  // Cookies and private data may reach Parley after the conversation was opened here; the
  // stream has no event for them, so the details are read again after customer messages.
  function refreshDetailsSoon(conv) {
    clearTimeout(state.detailsTimer);
    state.detailsTimer = setTimeout(async () => {
      if (state.selected !== conv) return;
      const fresh = await fetchConversation(conv);
      if (!fresh || state.selected !== conv) return;
      renderTable(ui.context, fresh.context);
      renderTable(ui.cookies, fresh.cookies);
      renderTable(ui.privateData, fresh.private_data);
    }, 500);
  }

  function onMessageStatus(data) {
    const id = str(data.message);
    const status = str(data.status);
    if (!id || !STATUS_TEXT[status]) return;
    const known = state.statuses.get(id);
    if (!known || STATUS_RANK[status] > STATUS_RANK[known]) state.statuses.set(id, status);
    const row = state.rows.get(id);
    if (row) setRowStatus(row, status);
  }

  function onTyping(data) {
    if (str(data.conversation) !== state.selected || data.role === 'agent') return;
    clearTimeout(state.customerTypingTimer);
    ui.typing.hidden = !data.on;
    if (data.on) {
      state.customerTypingTimer = setTimeout(() => { ui.typing.hidden = true; },
        CUSTOMER_TYPING_HIDE_MS);
    }
  }

  // ---- Wiring -----------------------------------------------------------------------------

  function wire() {
    ui.signinForm.addEventListener('submit', signIn);
    ui.signout.addEventListener('click', () => signOut(''));
    ui.agentName.addEventListener('change', () => {
      sessionStorage.setItem(NAME_STORAGE, ui.agentName.value.trim());
    });
    ui.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      sendText();
    });
    ui.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        sendText();
      }
    });
    ui.input.addEventListener('input', onInput);
    ui.sendQuickReplies.addEventListener('click', sendQuickReplies);
    ui.file.addEventListener('change', sendFiles);
    ui.end.addEventListener('click', () => {
      ui.endConfirm.hidden = false;
      ui.endNo.focus();
    });
    ui.endNo.addEventListener('click', () => {
      ui.endConfirm.hidden = true;
      ui.end.focus();
    });
    ui.endYes.addEventListener('click', endConversation);
    document.addEventListener('visibilitychange', markRead);
  }

  init();
})();
