// Parley web chat widget.
//
//   <script src="https://parley.example.com/widget.js" data-connection="ch_…" async></script>
//
// Draws a launcher button; stores nothing in the browser and opens no connection until the
// visitor opens the chat (docs/channels/web.md is the protocol). Message content is untrusted:
// it reaches the DOM only through textContent and attribute setters, and URLs only when they
// are http(s).
(function () {
  'use strict';

  if (window.Parley && window.Parley.version) return;  // loaded twice

  const PING_MS = 25000;
  const TYPING_THROTTLE_MS = 3000;
  const TYPING_IDLE_MS = 5000;
  const AGENT_TYPING_HIDE_MS = 10000;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const NOTICE_MS = 6000;
  const MAX_TEXT_BYTES = 4096;
  const MAX_COOKIE_BYTES = 1024;
  const STATUS_RANK = { sending: 0, sent: 1, delivered: 2, read: 3 };
  const STATUS_TEXT = {
    sending: 'Sending…', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent',
  };
  const ERROR_TEXT = {
    rate_limited: 'You are sending messages too fast. Please wait a moment.',
    too_large: 'That message is too long.',
    unavailable: 'The chat is busy. Please try again in a moment.',
    invalid_content: 'That message could not be sent.',
    no_conversation: 'There is no open conversation.',
  };

  // ---- Where we were loaded from ----------------------------------------------------------

  function findScript() {
    const current = document.currentScript;
    if (current && current.getAttribute('data-connection')) return current;
    const all = document.querySelectorAll('script[data-connection]');
    for (let i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?[^#]*)?$/.test(all[i].src)) return all[i];
    }
    return null;
  }

  const script = findScript();
  if (!script) return;
  const connection = script.getAttribute('data-connection') || '';
  if (!connection) return;
  const srcUrl = new URL(script.src, location.href);
  const base = srcUrl.origin + srcUrl.pathname.replace(/\/widget\.js$/, '');
  const connPath = base + '/v1/web/' + encodeURIComponent(connection);
  const socketUrl = connPath.replace(/^http/, 'ws') + '/socket';
  const storageKey = 'parley:' + connection;

  // ---- Small helpers ----------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function testid(node, id) {
    node.setAttribute('data-testid', id);
    return node;
  }

  function button(cls, text, id) {
    const b = el('button', cls, text);
    b.type = 'button';
    if (id) testid(b, id);
    return b;
  }

  // Returns an absolute http(s) URL, or null for anything else (javascript:, data:, …).
  // Relative links in messages are relative to Parley, not to the host page.
  function safeUrl(value) {
    if (typeof value !== 'string' || value === '') return null;
    try {
      const url = new URL(value, base + '/');
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function str(value) {
    return typeof value === 'string' ? value : '';
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function byteLength(s) {
    return new TextEncoder().encode(s).length;
  }

  function kindOf(mime) {
    const top = String(mime || '').split('/')[0];
    return top === 'image' || top === 'audio' || top === 'video' ? top : 'file';
  }

  function readRecord() {
    try {
      const raw = localStorage.getItem(storageKey);
      const rec = raw ? JSON.parse(raw) : null;
      return rec && typeof rec === 'object' ? rec : null;
    } catch (e) {
      return null;
    }
  }

  // Only called once the visitor has opened the chat.
  function saveRecord() {
    try {
      localStorage.setItem(storageKey, JSON.stringify(state.record));
    } catch (e) {
      // Storage disabled (private mode): the chat works, it just does not resume.
    }
  }

  // Values of the cookies Parley asked for (cookie_names), raw as the page holds them.
  function readCookies(names) {
    if (!Array.isArray(names) || names.length === 0) return null;
    const out = {};
    let found = false;
    for (const part of document.cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const name = part.slice(0, eq).trim();
      const value = part.slice(eq + 1).trim();
      if (!names.includes(name) || Object.prototype.hasOwnProperty.call(out, name)) continue;
      if (byteLength(value) > MAX_COOKIE_BYTES) continue;
      out[name] = value;
      found = true;
    }
    return found ? out : null;
  }

  // ---- State ------------------------------------------------------------------------------

  const state = {
    record: readRecord(),  // {session, open, cookie_names}; written only after opening
    ws: null,
    ready: false,          // welcome received on the current socket
    attempts: 0,           // failed connection attempts since the last welcome
    retryTimer: 0,
    pingTimer: 0,
    failureReported: false,
    panelOpen: false,
    hasConversation: false,
    ended: false,
    privateToken: null,    // memory only, never stored
    sentCookies: '',
    pending: new Map(),    // client_id -> content, not yet acknowledged
    rows: new Map(),       // message id -> row element
    lastAgentId: null,
    readSentFor: null,
    typingOn: false,
    typingSentAt: 0,
    typingIdleTimer: 0,
    agentTypingTimer: 0,
    noticeTimer: 0,
    unread: 0,
    listeners: [],
  };

  function emit(event) {
    for (const fn of state.listeners) {
      try {
        fn(event);
      } catch (e) {
        // A page's listener must not break the widget.
      }
    }
  }

  // ---- DOM --------------------------------------------------------------------------------

  const ui = buildUi();

  function icon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 ' +
      '2 0 0 1 2-2z');
    svg.appendChild(path);
    return svg;
  }

  function buildUi() {
    const panelId = 'parley-panel-' + randomId().slice(0, 8);
    const root = el('div', 'parley-root');
    root.hidden = true;  // until widget.css has loaded

    const launcher = button('parley-launcher', null, 'parley-launcher');
    launcher.setAttribute('aria-label', 'Open chat');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', panelId);
    launcher.appendChild(icon());
    const badge = el('span', 'parley-badge');
    badge.hidden = true;
    badge.setAttribute('aria-hidden', 'true');
    launcher.appendChild(badge);

    const panel = testid(el('div', 'parley-panel'), 'parley-panel');
    panel.id = panelId;
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', 'Chat');

    const header = el('div', 'parley-header');
    const title = el('h2', 'parley-title', 'Chat');
    const endButton = button('parley-header-button', 'End chat', 'parley-end');
    const closeButton = button('parley-header-button parley-close', '×', 'parley-close');
    closeButton.setAttribute('aria-label', 'Close chat');
    header.append(title, endButton, closeButton);

    const confirm = el('div', 'parley-confirm');
    confirm.hidden = true;
    const confirmYes = button('parley-small-button parley-danger', 'End chat', 'parley-end-confirm');
    const confirmNo = button('parley-small-button', 'Cancel', 'parley-end-cancel');
    confirm.append(el('span', null, 'End this conversation?'), confirmYes, confirmNo);

    const notice = testid(el('div', 'parley-notice'), 'parley-error');
    notice.hidden = true;
    notice.setAttribute('role', 'status');

    const list = testid(el('div', 'parley-messages'), 'parley-messages');
    list.setAttribute('role', 'log');
    list.setAttribute('aria-live', 'polite');
    list.setAttribute('aria-label', 'Messages');
    list.tabIndex = 0;

    const typing = testid(el('div', 'parley-typing', 'Agent is typing…'), 'parley-typing');
    typing.hidden = true;

    const ended = testid(el('div', 'parley-ended'), 'parley-ended');
    ended.hidden = true;
    const newChat = button('parley-small-button', 'Start a new chat', 'parley-new-chat');
    ended.append(el('p', null, 'This conversation has ended'), newChat);

    const form = el('form', 'parley-composer');
    const inputId = panelId + '-input';
    const label = el('label', 'parley-visually-hidden', 'Message');
    label.htmlFor = inputId;
    const input = testid(el('textarea', 'parley-input'), 'parley-input');
    input.id = inputId;
    input.rows = 1;
    input.maxLength = MAX_TEXT_BYTES;
    input.placeholder = 'Write a message…';
    const file = testid(el('input', 'parley-visually-hidden'), 'parley-file');
    file.type = 'file';
    file.tabIndex = -1;
    file.setAttribute('aria-hidden', 'true');
    const attach = button('parley-icon-button', '+', 'parley-attach');
    attach.setAttribute('aria-label', 'Attach a file');
    const send = testid(el('button', 'parley-send', 'Send'), 'parley-send');
    send.type = 'submit';
    form.append(label, attach, input, file, send);

    panel.append(header, confirm, notice, list, typing, ended, form);
    root.append(panel, launcher);

    return {
      root, launcher, badge, panel, title, endButton, closeButton, confirm, confirmYes,
      confirmNo, notice, list, typing, ended, newChat, form, input, file, attach, send,
    };
  }

  function mount() {
    const href = base + '/widget.css';
    const show = () => { ui.root.hidden = false; };
    let link = null;
    for (const l of document.querySelectorAll('link[rel="stylesheet"]')) {
      if (l.href === href) link = l;
    }
    if (link) {
      show();
    } else {
      link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = href;
      link.addEventListener('load', show);
      link.addEventListener('error', show);
      document.head.appendChild(link);
    }
    document.body.appendChild(ui.root);
  }

  function showNotice(text, sticky) {
    clearTimeout(state.noticeTimer);
    ui.notice.textContent = text;
    ui.notice.hidden = false;
    ui.notice.dataset.sticky = sticky ? '1' : '';
    if (!sticky) state.noticeTimer = setTimeout(hideNotice, NOTICE_MS);
  }

  function hideNotice() {
    clearTimeout(state.noticeTimer);
    ui.notice.hidden = true;
    ui.notice.textContent = '';
  }

  function scrollToEnd() {
    ui.list.scrollTop = ui.list.scrollHeight;
  }

  function setUnread(n) {
    state.unread = n;
    ui.badge.textContent = n > 9 ? '9+' : String(n);
    ui.badge.hidden = n === 0;
    ui.launcher.setAttribute('aria-label', state.panelOpen ? 'Close chat' :
      n ? 'Open chat, ' + n + ' new messages' : 'Open chat');
  }

  // ---- Rendering messages -----------------------------------------------------------------

  // Text with http(s) links made clickable; everything else stays text.
  function renderText(parent, text, cls) {
    const node = el('div', cls || 'parley-text');
    const re = /\bhttps?:\/\/[^\s<>"']+/g;
    let at = 0;
    let m;
    while ((m = re.exec(text)) !== null) {
      const raw = m[0].replace(/[.,;:!?)\]]+$/, '');
      const url = safeUrl(raw);
      if (!url) continue;
      node.append(text.slice(at, m.index));
      node.append(link(url, raw));
      at = m.index + raw.length;
      re.lastIndex = at;
    }
    node.append(text.slice(at));
    parent.appendChild(node);
    return node;
  }

  function link(url, text) {
    const a = el('a', 'parley-link', text);
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer nofollow';
    return a;
  }

  function renderMedia(bubble, c) {
    const attachments = Array.isArray(c.attachments) ? c.attachments : [];
    for (const a of attachments) {
      if (!a || typeof a !== 'object') continue;
      const url = safeUrl(a.url);
      const name = str(a.filename) || 'Attachment';
      if (url && (c.kind === 'image' || c.kind === 'sticker')) {
        const img = el('img', 'parley-image');
        img.src = url;
        img.alt = str(c.caption) || str(a.filename) || 'Image';
        img.referrerPolicy = 'no-referrer';
        const holder = link(url, null);
        holder.appendChild(img);
        bubble.appendChild(holder);
      } else if (url && (c.kind === 'audio' || c.kind === 'video')) {
        const media = el(c.kind, 'parley-av');
        media.controls = true;
        media.preload = 'metadata';
        media.src = url;
        media.setAttribute('aria-label', name);
        bubble.appendChild(media);
        bubble.appendChild(link(url, 'Download ' + name));
      } else if (url) {
        bubble.appendChild(link(url, name));
      } else {
        bubble.appendChild(el('div', 'parley-text', name));
      }
    }
    if (str(c.caption)) renderText(bubble, c.caption);
  }

  function renderLocation(bubble, c) {
    const lat = Number(c.latitude);
    const lon = Number(c.longitude);
    const label = [str(c.name), str(c.address)].filter(Boolean).join(', ');
    bubble.appendChild(el('div', 'parley-text', '📍 ' + (label || 'Location')));
    if (Number.isFinite(lat) && Number.isFinite(lon)) {
      const url = 'https://www.openstreetmap.org/?mlat=' + lat + '&mlon=' + lon +
        '#map=16/' + lat + '/' + lon;
      bubble.appendChild(link(url, 'Open map (' + lat.toFixed(5) + ', ' + lon.toFixed(5) + ')'));
    }
  }

  function renderContacts(bubble, c) {
    for (const card of Array.isArray(c.contacts) ? c.contacts : []) {
      if (!card || typeof card !== 'object') continue;
      const lines = [str(card.name && card.name.formatted) || 'Contact'];
      for (const p of Array.isArray(card.phones) ? card.phones : []) lines.push(str(p && p.number));
      for (const e of Array.isArray(card.emails) ? card.emails : []) lines.push(str(e && e.address));
      bubble.appendChild(el('div', 'parley-text', lines.filter(Boolean).join('\n')));
    }
  }

  // Buttons that answer with a `reply`. `once`: the row disappears after a choice.
  function choiceButtons(items, source, cls, id, once) {
    const box = el('div', cls);
    for (const item of Array.isArray(items) ? items : []) {
      if (!item || !str(item.title)) continue;
      const b = button('parley-choice', item.title, id);
      b.addEventListener('click', () => {
        if (once) box.remove();
        sendReply(source, item.title, str(item.id) || null);
      });
      box.appendChild(b);
    }
    return box;
  }

  function renderList(bubble, list) {
    if (!list || typeof list !== 'object') return;
    const toggle = button('parley-choice', str(list.button) || 'Choose', 'parley-list-button');
    toggle.setAttribute('aria-expanded', 'false');
    const box = el('div', 'parley-list');
    box.hidden = true;
    for (const section of Array.isArray(list.sections) ? list.sections : []) {
      if (!section || typeof section !== 'object') continue;
      const group = el('div', 'parley-list-section');
      group.setAttribute('role', 'group');
      if (str(section.title)) {
        const heading = el('div', 'parley-list-title', section.title);
        heading.id = 'parley-' + randomId().slice(0, 10);
        group.setAttribute('aria-labelledby', heading.id);
        group.appendChild(heading);
      }
      for (const row of Array.isArray(section.rows) ? section.rows : []) {
        if (!row || !str(row.title)) continue;
        const b = button('parley-list-row', null, 'parley-list-row');
        b.appendChild(el('span', 'parley-list-row-title', row.title));
        if (str(row.description)) b.appendChild(el('span', 'parley-list-row-desc', row.description));
        b.addEventListener('click', () => {
          box.hidden = true;
          toggle.setAttribute('aria-expanded', 'false');
          sendReply('list', row.title, str(row.id) || null);
        });
        group.appendChild(b);
      }
      box.appendChild(group);
    }
    toggle.addEventListener('click', () => {
      box.hidden = !box.hidden;
      toggle.setAttribute('aria-expanded', String(!box.hidden));
    });
    bubble.append(toggle, box);
  }

  function renderCarousel(row, cards) {
    const strip = testid(el('div', 'parley-carousel'), 'parley-carousel');
    strip.tabIndex = 0;
    strip.setAttribute('role', 'group');
    strip.setAttribute('aria-label', 'Cards');
    for (const card of Array.isArray(cards) ? cards : []) {
      if (!card || !str(card.title)) continue;
      const box = el('div', 'parley-card');
      const url = safeUrl(card.image_url);
      if (url) {
        const img = el('img', 'parley-card-image');
        img.src = url;
        img.alt = card.title;
        img.referrerPolicy = 'no-referrer';
        box.appendChild(img);
      }
      box.appendChild(el('div', 'parley-card-title', card.title));
      if (str(card.subtitle)) box.appendChild(el('div', 'parley-card-subtitle', card.subtitle));
      box.appendChild(choiceButtons(card.buttons, 'button', 'parley-card-buttons',
        'parley-card-button', false));
      strip.appendChild(box);
    }
    row.appendChild(strip);
  }

  function renderInteractive(bubble, row, c) {
    if (str(c.header)) bubble.appendChild(el('div', 'parley-header-text', c.header));
    if (str(c.body)) renderText(bubble, c.body);
    if (str(c.footer)) bubble.appendChild(el('div', 'parley-footer-text', c.footer));
    if (c.kind === 'quick_replies') {
      row.appendChild(choiceButtons(c.quick_replies, 'quick_reply', 'parley-quick-replies',
        'parley-quick-reply', true));
    } else if (c.kind === 'buttons') {
      bubble.appendChild(choiceButtons(c.buttons, 'button', 'parley-buttons', 'parley-button',
        false));
    } else if (c.kind === 'list') {
      renderList(bubble, c.list);
    } else if (c.kind === 'carousel') {
      renderCarousel(row, c.cards);
    }
  }

  function renderContent(bubble, row, c) {
    switch (c.type) {
      case 'text':
        renderText(bubble, str(c.text));
        return;
      case 'media':
        renderMedia(bubble, c);
        return;
      case 'location':
        renderLocation(bubble, c);
        return;
      case 'contact':
        renderContacts(bubble, c);
        return;
      case 'reply':
        bubble.appendChild(el('div', 'parley-text', str(c.title)));
        return;
      case 'reaction':
        bubble.appendChild(el('div', 'parley-text',
          str(c.emoji) ? 'Reacted ' + c.emoji : 'Removed a reaction'));
        return;
      case 'interactive':
        renderInteractive(bubble, row, c);
        return;
      case 'system':
        bubble.appendChild(el('div', 'parley-text', str(c.text) || str(c.code) || 'Notice'));
        return;
      default: {  // unsupported, template, and types this widget does not know yet
        bubble.appendChild(el('div', 'parley-text', 'This message cannot be shown here.'));
        const description = c.type === 'unsupported' ? str(c.description) : '';
        if (description) bubble.appendChild(el('div', 'parley-footer-text', description));
      }
    }
  }

  function setRowStatus(row, status) {
    const node = row.querySelector('.parley-status');
    if (!node || !STATUS_TEXT[status]) return;
    const current = node.getAttribute('data-status');
    if (status !== 'failed' && current && STATUS_RANK[current] >= STATUS_RANK[status]) return;
    node.setAttribute('data-status', status);
    node.textContent = STATUS_TEXT[status];
  }

  // msg is the widget's view: {id, direction, author:{role,name}, content, created_at, status}.
  function renderMessage(msg) {
    const content = msg.content && typeof msg.content === 'object' ? msg.content : {};
    const mine = msg.direction === 'inbound';
    const author = msg.author && typeof msg.author === 'object' ? msg.author : {};
    const system = content.type === 'system' || author.role === 'system';
    const row = testid(el('div', 'parley-message ' +
      (system ? 'parley-system' : mine ? 'parley-mine' : 'parley-theirs')), 'parley-message');
    row.setAttribute('data-direction', mine ? 'inbound' : 'outbound');
    if (typeof msg.id === 'string') row.setAttribute('data-message-id', msg.id);
    if (!mine && !system && str(author.name)) {
      row.appendChild(el('div', 'parley-author', author.name));
    }
    const bubble = el('div', 'parley-bubble');
    row.appendChild(bubble);
    renderContent(bubble, row, content);
    const when = Date.parse(msg.created_at);
    if (Number.isFinite(when)) row.title = new Date(when).toLocaleString();
    if (mine) {
      const status = testid(el('div', 'parley-status'), 'parley-status');
      row.appendChild(status);
      setRowStatus(row, STATUS_TEXT[msg.status] ? msg.status : 'sent');
    }
    return row;
  }

  // Adds a message unless it is already shown. Returns the row, or null for a duplicate.
  function addMessage(msg) {
    if (!msg || typeof msg !== 'object') return null;
    if (typeof msg.id === 'string' && state.rows.has(msg.id)) return null;
    const row = renderMessage(msg);
    if (typeof msg.id === 'string') state.rows.set(msg.id, row);
    const firstPending = ui.list.querySelector('.parley-message[data-client-id]');
    ui.list.insertBefore(row, firstPending);
    if (msg.direction !== 'inbound' && typeof msg.id === 'string') {
      const role = msg.author && msg.author.role;
      if (role !== 'system') state.lastAgentId = msg.id;
    }
    scrollToEnd();
    return row;
  }

  function removeQuickReplies(exceptRow) {
    for (const box of ui.list.querySelectorAll('.parley-quick-replies')) {
      if (!exceptRow || !exceptRow.contains(box)) box.remove();
    }
  }

  function renderHistory(messages) {
    const pendingRows = Array.from(ui.list.querySelectorAll('.parley-message[data-client-id]'));
    ui.list.textContent = '';
    state.rows.clear();
    state.lastAgentId = null;
    let last = null;
    for (const msg of Array.isArray(messages) ? messages : []) last = addMessage(msg) || last;
    removeQuickReplies(last);
    for (const row of pendingRows) ui.list.appendChild(row);
    scrollToEnd();
  }

  // ---- Socket -----------------------------------------------------------------------------

  function sendFrame(frame) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
    state.ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    if (state.ws) return;
    clearTimeout(state.retryTimer);
    state.retryTimer = 0;
    let ws;
    try {
      ws = new WebSocket(socketUrl);
    } catch (e) {
      onSocketClosed(null);
      return;
    }
    state.ws = ws;
    let welcomed = false;
    ws.addEventListener('open', () => {
      const rec = state.record || {};
      const hello = { type: 'hello', page: location.origin + location.pathname };
      if (typeof rec.session === 'string') hello.session = rec.session;
      const cookies = readCookies(rec.cookie_names);
      state.sentCookies = cookies ? JSON.stringify(cookies) : '';
      if (cookies) hello.cookies = cookies;
      sendFrame(hello);
    });
    ws.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'welcome') welcomed = true;
      onFrame(frame);
    });
    ws.addEventListener('close', () => {
      if (state.ws !== ws) return;
      onSocketClosed(welcomed);
    });
  }

  function onSocketClosed(welcomed) {
    state.ws = null;
    state.ready = false;
    clearInterval(state.pingTimer);
    hideAgentTyping();
    if (!welcomed) {
      showNotice('Cannot connect to the chat. Retrying…', true);
      if (!state.failureReported) {
        state.failureReported = true;
        emit({ type: 'error', code: 'connection_failed', message: 'cannot connect to the chat' });
      }
    } else {
      showNotice('Connection lost. Reconnecting…', true);
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, state.attempts));
    state.attempts++;
    state.retryTimer = setTimeout(() => {
      state.retryTimer = 0;
      connect();
    }, delay);
  }

  function onFrame(f) {
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'ack': onAck(f); break;
      case 'message': onMessage(f.message); break;
      case 'status': onStatus(f); break;
      case 'typing': onAgentTyping(f); break;
      case 'ended': onEnded(f); break;
      case 'error': onError(f); break;
      default: break;  // pong, and frames of later versions
    }
  }

  function onWelcome(f) {
    state.ready = true;
    state.attempts = 0;
    state.failureReported = false;
    if (ui.notice.dataset.sticky) hideNotice();
    const names = Array.isArray(f.cookie_names) ?
      f.cookie_names.filter((n) => typeof n === 'string') : [];
    state.record = Object.assign({}, state.record, {
      session: f.session, open: state.panelOpen, cookie_names: names,
    });
    saveRecord();
    const title = str(f.title) || 'Chat';
    ui.title.textContent = title;
    ui.panel.setAttribute('aria-label', title);

    if (f.conversation && typeof f.conversation === 'object') {
      state.hasConversation = true;
      setEnded(false);
      renderHistory(f.messages);
    } else if (state.hasConversation && !state.ended) {
      // It ended while we were away; keep what is on screen until "Start a new chat".
      onEnded({ reason: 'system' });
    } else if (!state.ended) {
      renderHistory([]);
    }

    // cookie_names are only known now; send what hello could not.
    const cookies = readCookies(names);
    if (cookies && JSON.stringify(cookies) !== state.sentCookies) {
      state.sentCookies = JSON.stringify(cookies);
      sendFrame({ type: 'cookies', cookies });
    }
    if (state.privateToken) sendFrame({ type: 'identify', token: state.privateToken });
    for (const [clientId, content] of state.pending) {
      sendFrame({ type: 'message', client_id: clientId, content });
    }
    reportDelivered(f.messages);
    maybeRead();
    clearInterval(state.pingTimer);
    state.pingTimer = setInterval(() => sendFrame({ type: 'ping' }), PING_MS);
  }

  // History: tell Parley about the latest agent messages it has not heard of (bounded, to stay
  // under the frame rate limit). Live messages are reported one by one in onMessage.
  function reportDelivered(messages) {
    if (!Array.isArray(messages)) return;
    const todo = messages.filter((m) => m && m.direction === 'outbound' &&
      typeof m.id === 'string' && (m.status === 'sent' || !m.status));
    for (const m of todo.slice(-10)) sendFrame({ type: 'delivered', message: m.id });
  }

  function onAck(f) {
    const pendingRow = ui.list.querySelector(
      '.parley-message[data-client-id="' + CSS.escape(str(f.client_id)) + '"]');
    state.pending.delete(f.client_id);
    state.hasConversation = true;
    const msg = f.message;
    if (!msg || typeof msg !== 'object') return;
    let row = typeof msg.id === 'string' ? state.rows.get(msg.id) : null;
    if (row) {
      if (pendingRow) pendingRow.remove();
    } else {
      row = renderMessage(msg);
      if (typeof msg.id === 'string') state.rows.set(msg.id, row);
      if (pendingRow) pendingRow.replaceWith(row);
      else ui.list.insertBefore(row, ui.list.querySelector('.parley-message[data-client-id]'));
    }
    setRowStatus(row, 'sent');
    emit({ type: 'message', message: msg });
  }

  function onMessage(msg) {
    if (!msg || typeof msg !== 'object') return;
    state.hasConversation = true;
    const row = addMessage(msg);
    if (!row) return;
    hideAgentTyping();
    if (msg.direction === 'inbound') removeQuickReplies(null);
    emit({ type: 'message', message: msg });
    if (msg.direction === 'outbound' && typeof msg.id === 'string') {
      sendFrame({ type: 'delivered', message: msg.id });
      if (!maybeRead()) setUnread(state.unread + 1);
    }
  }

  function onStatus(f) {
    const target = state.rows.get(f.message);
    if (!target || !STATUS_TEXT[f.status] || f.status === 'sending') return;
    if (target.getAttribute('data-direction') !== 'inbound') return;
    if (f.status !== 'read') {
      setRowStatus(target, f.status);
      return;
    }
    // Read covers every earlier message of the visitor's.
    for (const row of ui.list.querySelectorAll('.parley-message[data-direction="inbound"]')) {
      const atOrBefore = row === target ||
        (row.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_FOLLOWING);
      if (!atOrBefore) break;
      if (!row.hasAttribute('data-client-id')) setRowStatus(row, 'read');
    }
  }

  function hideAgentTyping() {
    clearTimeout(state.agentTypingTimer);
    ui.typing.hidden = true;
  }

  function onAgentTyping(f) {
    if (!f.on) {
      hideAgentTyping();
      return;
    }
    ui.typing.hidden = false;
    clearTimeout(state.agentTypingTimer);
    state.agentTypingTimer = setTimeout(hideAgentTyping, AGENT_TYPING_HIDE_MS);
  }

  function setEnded(ended) {
    state.ended = ended;
    ui.ended.hidden = !ended;
    ui.form.hidden = ended;
    ui.endButton.hidden = ended;
    ui.confirm.hidden = true;
  }

  function onEnded(f) {
    const wasFocused = ui.panel.contains(document.activeElement);
    hideAgentTyping();
    removeQuickReplies(null);
    state.hasConversation = false;
    setEnded(true);
    if (wasFocused) ui.newChat.focus();
    emit({ type: 'ended', reason: str(f.reason) || 'system' });
  }

  function onError(f) {
    const code = str(f.code) || 'error';
    emit({ type: 'error', code, message: str(f.message), ref: f.ref === undefined ? null : f.ref });
    if (code === 'invalid_token') {
      state.privateToken = null;  // refused: do not send it again on reconnect
      return;
    }
    const ref = str(f.ref);
    if (ref && state.pending.has(ref)) {
      const content = state.pending.get(ref);
      if (code === 'rate_limited' || code === 'unavailable') {
        setTimeout(() => {
          if (state.pending.has(ref)) sendFrame({ type: 'message', client_id: ref, content });
        }, 2000);
      } else {
        state.pending.delete(ref);
        const row = ui.list.querySelector(
          '.parley-message[data-client-id="' + CSS.escape(ref) + '"]');
        if (row) setRowStatus(row, 'failed');
      }
    }
    showNotice(ERROR_TEXT[code] || 'Something went wrong. Please try again.', false);
  }

  // Sends `read` for the newest agent message when the visitor can see it. True if seen.
  function maybeRead() {
    if (!state.panelOpen || document.visibilityState !== 'visible') return false;
    setUnread(0);
    const id = state.lastAgentId;
    if (state.ready && id && id !== state.readSentFor) {
      if (sendFrame({ type: 'read', message: id })) state.readSentFor = id;
    }
    return true;
  }

  // ---- Visitor actions --------------------------------------------------------------------

  function addPending(clientId, content) {
    const row = renderMessage({
      direction: 'inbound', content, author: { role: 'customer' }, status: 'sending',
    });
    row.setAttribute('data-client-id', clientId);
    const old = ui.list.querySelector(
      '.parley-message[data-client-id="' + CSS.escape(clientId) + '"]');
    if (old) old.replaceWith(row);
    else ui.list.appendChild(row);
    scrollToEnd();
    return row;
  }

  // `shown` is what the bubble displays (for media, with the preview link); the frame carries
  // `content` only.
  function sendContent(content, shown, clientId) {
    const id = clientId || randomId();
    addPending(id, shown || content);
    state.pending.set(id, content);
    removeQuickReplies(null);
    stopTyping();
    sendFrame({ type: 'message', client_id: id, content });
  }

  function sendReply(source, title, payload) {
    sendContent({ type: 'reply', source, title, payload });
  }

  function submitText() {
    const text = ui.input.value.trim();
    if (!text) return;
    if (byteLength(text) > MAX_TEXT_BYTES) {
      showNotice(ERROR_TEXT.too_large, false);
      return;
    }
    ui.input.value = '';
    sendContent({ type: 'text', text });
    ui.input.focus();
  }

  async function upload(file) {
    const session = state.record && state.record.session;
    if (!state.ready || !session) {
      showNotice('Not connected yet. Please try again in a moment.', false);
      return;
    }
    const clientId = randomId();
    const uploading = { type: 'text', text: 'Uploading ' + file.name + '…' };
    addPending(clientId, uploading);
    let att;
    try {
      const res = await fetch(connPath + '/attachments?filename=' + encodeURIComponent(file.name), {
        method: 'POST',
        body: file,
        credentials: 'omit',
        headers: {
          'Content-Type': file.type || 'application/octet-stream',
          'X-Parley-Session': session,
        },
      });
      if (!res.ok) throw new Error(String(res.status));
      att = await res.json();
      if (!att || typeof att.id !== 'string') throw new Error('no id');
    } catch (e) {
      const row = ui.list.querySelector(
        '.parley-message[data-client-id="' + CSS.escape(clientId) + '"]');
      if (row) setRowStatus(row, 'failed');
      const status = e && e.message;
      showNotice(status === '413' ? 'That file is too large.' :
        status === '415' ? 'That type of file is not allowed.' :
        'The file could not be uploaded.', false);
      return;
    }
    const kind = kindOf(att.mime_type || file.type);
    const content = { type: 'media', kind, attachments: [{ id: att.id }] };
    const shown = { type: 'media', kind, attachments: [{ url: att.url, filename: file.name }] };
    sendContent(content, shown, clientId);
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    if (state.typingOn) {
      state.typingOn = false;
      state.typingSentAt = 0;
      sendFrame({ type: 'typing', on: false });
    }
  }

  function onInput() {
    const now = Date.now();
    if (ui.input.value.trim() && now - state.typingSentAt >= TYPING_THROTTLE_MS) {
      if (sendFrame({ type: 'typing', on: true })) {
        state.typingOn = true;
        state.typingSentAt = now;
      }
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  // ---- Opening and closing ----------------------------------------------------------------

  function open(opts) {
    const restoring = opts && opts.restoring;
    if (!state.panelOpen) {
      state.panelOpen = true;
      ui.panel.hidden = false;
      ui.launcher.setAttribute('aria-expanded', 'true');
      ui.launcher.setAttribute('aria-label', 'Close chat');
      ui.root.classList.add('parley-open');
      state.record = Object.assign({}, state.record, { open: true });
      saveRecord();
      emit({ type: 'open' });
    }
    connect();
    maybeRead();
    scrollToEnd();
    if (!restoring) (state.ended ? ui.newChat : ui.input).focus();
  }

  function close() {
    if (!state.panelOpen) return;
    const hadFocus = ui.panel.contains(document.activeElement);
    state.panelOpen = false;
    ui.panel.hidden = true;
    ui.confirm.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.root.classList.remove('parley-open');
    setUnread(state.unread);
    stopTyping();
    state.record = Object.assign({}, state.record, { open: false });
    saveRecord();
    if (hadFocus) ui.launcher.focus();
    emit({ type: 'close' });
  }

  function wire() {
    ui.launcher.addEventListener('click', () => {
      if (state.panelOpen) {
        close();
        ui.launcher.focus();
      } else {
        open();
      }
    });
    ui.closeButton.addEventListener('click', () => {
      close();
      ui.launcher.focus();
    });
    ui.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close();
        ui.launcher.focus();
      }
    });
    ui.endButton.addEventListener('click', () => {
      ui.confirm.hidden = false;
      ui.confirmNo.focus();
    });
    ui.confirmNo.addEventListener('click', () => {
      ui.confirm.hidden = true;
      ui.endButton.focus();
    });
    ui.confirmYes.addEventListener('click', () => {
      ui.confirm.hidden = true;
      if (!sendFrame({ type: 'end' })) showNotice('Not connected. Please try again.', false);
    });
    ui.newChat.addEventListener('click', () => {
      setEnded(false);
      renderHistory([]);
      ui.input.focus();
    });
    ui.form.addEventListener('submit', (e) => {
      e.preventDefault();
      submitText();
    });
    ui.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submitText();
      }
    });
    ui.input.addEventListener('input', onInput);
    ui.attach.addEventListener('click', () => ui.file.click());
    ui.file.addEventListener('change', () => {
      const files = Array.from(ui.file.files || []);
      ui.file.value = '';
      for (const f of files) upload(f);
    });
    document.addEventListener('visibilitychange', () => maybeRead());
  }

  // ---- Page API ---------------------------------------------------------------------------

  const api = {
    version: 1,
    open: () => open(),
    close: () => close(),
    setPrivateData(token) {
      if (typeof token !== 'string' || token === '') return;
      state.privateToken = token;
      if (state.ready) sendFrame({ type: 'identify', token });
    },
    onEvent(fn) {
      if (typeof fn === 'function') state.listeners.push(fn);
    },
  };

  function start() {
    mount();
    wire();
    window.Parley = api;
    const queued = Array.isArray(window.ParleyQueue) ? window.ParleyQueue : [];
    const run = (call) => {
      if (!Array.isArray(call) || typeof api[call[0]] !== 'function') return;
      api[call[0]].apply(api, call.slice(1));
    };
    window.ParleyQueue = { push: run };
    for (const call of queued) run(call);
    if (state.record && state.record.open && !state.panelOpen) open({ restoring: true });
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
