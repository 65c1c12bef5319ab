// Browser end-to-end tests of web chat: the widget (web/widget.js) on the demo pages and the
// agent console (web/console.js), against the real `parley serve --demo`, in Debian's Chromium.
//
//   PARLEY_BIN=build/src/parley node --test test/browser/
//
// Needs playwright-core from test/node (scripts/setup.sh installs it) and /usr/bin/chromium
// (or PARLEY_CHROMIUM). Every test starts its own Parley and browser on 127.0.0.1.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';

import {
  newVisitorContext, openWidget, signJwt, tinyPng, waitFor, withParley,
} from './harness.mjs';

const TEST_TIMEOUT_MS = 60000;

function nowS() {
  return Math.floor(Date.now() / 1000);
}

async function events(page) {
  return page.evaluate(() => window.__parleyEvents);
}

// The only open conversation of the demo tenant (each test has a fresh Parley).
async function onlyOpenConversation(parley) {
  return waitFor(async () => {
    const res = await parley.api('GET', '/v1/conversations?state=open');
    assert.equal(res.status, 200, res.text);
    return res.json.data.length === 1 ? res.json.data[0].id : null;
  }, { what: 'exactly one open conversation' });
}

async function sendFromWidget(page, text) {
  await page.getByTestId('parley-input').fill(text);
  await page.getByTestId('parley-send').click();
  const row = page.locator('[data-testid="parley-message"][data-direction="inbound"]')
    .filter({ hasText: text });
  await row.locator('[data-testid="parley-status"]:not([data-status="sending"])').waitFor();
  assert.notEqual(await row.getAttribute('data-message-id'), null, 'acked message has an id');
}

async function signInConsole(agent, parley) {
  await agent.goto(parley.url + '/console#key=' + encodeURIComponent(parley.demo.api_key));
  // The key is taken from the fragment and the fragment leaves the address bar.
  assert.equal(new URL(agent.url()).hash, '');
  assert.equal(await agent.getByTestId('console-key').inputValue(), parley.demo.api_key);
  await agent.getByTestId('console-signin').click();
  await agent.getByTestId('console-input').waitFor({ state: 'attached' });
}

function consoleMessage(agent, direction, text) {
  return agent.locator(`[data-testid="console-message"][data-direction="${direction}"]`)
    .filter({ hasText: text });
}

test('a visitor and an agent chat through widget and console, and the data goes at the end',
  { timeout: TEST_TIMEOUT_MS }, () => withParley({}, async ({ parley, browser }) => {
    const visitorContext = await newVisitorContext(browser);
    await visitorContext.addCookies([
      { name: 'demo_plan', value: 'gold', url: parley.url },
      { name: 'not_listed', value: 'secret-value', url: parley.url },
    ]);
    const visitor = await visitorContext.newPage();
    await visitor.goto(parley.url + '/demo');
    await openWidget(visitor, parley.demo.connection);
    // Focus goes into the input; the panel is a labelled dialog.
    assert.equal(await visitor.evaluate(() => document.activeElement.dataset.testid), 'parley-input');
    assert.equal(await visitor.getByTestId('parley-panel').getAttribute('role'), 'dialog');
    assert.equal(await visitor.getByTestId('parley-launcher').getAttribute('aria-expanded'), 'true');

    await sendFromWidget(visitor, 'Hello, do you have red shoes?');
    await visitor.getByTestId('parley-file').setInputFiles(
      { name: 'swatch.png', mimeType: 'image/png', buffer: tinyPng() });
    const visitorImage = visitor.locator(
      '[data-testid="parley-message"][data-direction="inbound"][data-message-id] img');
    await visitorImage.waitFor();
    await waitFor(() => visitorImage.evaluate((img) => img.complete && img.naturalWidth === 4),
      { what: 'the uploaded image to show in the widget' });

    const conversationId = await onlyOpenConversation(parley);

    // The agent signs in and opens the conversation.
    const agentContext = await browser.newContext();
    agentContext.setDefaultTimeout(10000);
    const agent = await agentContext.newPage();
    await signInConsole(agent, parley);
    await agent.locator(`[data-testid="console-conversation"][data-conversation-id="${conversationId}"]`)
      .click();
    await consoleMessage(agent, 'inbound', 'Hello, do you have red shoes?').waitFor();
    const agentImage = agent.locator('[data-testid="console-message"][data-direction="inbound"] img');
    await agentImage.waitFor();
    await waitFor(() => agentImage.evaluate((img) => img.complete && img.naturalWidth === 4),
      { what: 'the visitor image to show in the console' });

    // Context, cookies (only the listed one) and private data (signed into the demo page).
    await waitFor(async () => (await agent.getByTestId('console-context').innerText())
      .includes('127.0.0.1'), { what: 'the chat context with the client IP' });
    const cookies = await agent.getByTestId('console-cookies').innerText();
    assert.match(cookies, /demo_plan\s+gold/);
    assert.ok(!cookies.includes('not_listed') && !cookies.includes('secret-value'), cookies);
    const privateData = await agent.getByTestId('console-private-data').innerText();
    assert.match(privateData, /sub\s+demo-customer-42/);

    // The agent viewed the message: the visitor sees it read.
    await visitor.locator('[data-testid="parley-message"][data-direction="inbound"]')
      .filter({ hasText: 'red shoes' })
      .locator('[data-testid="parley-status"][data-status="read"]').waitFor();

    // Typing both ways.
    await visitor.getByTestId('parley-input').fill('typing…');
    await agent.getByTestId('console-typing').waitFor({ state: 'visible' });
    await visitor.getByTestId('parley-input').fill('');
    await agent.getByTestId('console-input').pressSequentially('Yes', { delay: 20 });
    await visitor.getByTestId('parley-typing').waitFor({ state: 'visible' });

    // Text reply, then quick replies.
    await agent.getByTestId('console-input').fill('Yes, we have them in two sizes.');
    await agent.getByTestId('console-send').click();
    await visitor.locator('[data-testid="parley-message"][data-direction="outbound"]')
      .filter({ hasText: 'two sizes' }).waitFor();
    // The widget reports what it received and what the visitor saw.
    await consoleMessage(agent, 'outbound', 'two sizes')
      .locator('[data-testid="console-status"][data-status="read"]').waitFor();

    await agent.getByTestId('console-input').fill('Which size?');
    await agent.getByTestId('console-quick-replies').fill('Small, Large');
    await agent.getByTestId('console-send-quick-replies').click();
    const quickReplies = visitor.getByTestId('parley-quick-reply');
    await quickReplies.first().waitFor();
    assert.deepEqual(await quickReplies.allInnerTexts(), ['Small', 'Large']);
    await quickReplies.filter({ hasText: 'Large' }).click();
    await waitFor(async () => (await quickReplies.count()) === 0,
      { what: 'quick replies to disappear after a choice' });
    await consoleMessage(agent, 'inbound', 'Large').waitFor();

    // The choice arrives as a reply with the option's id as payload.
    const listed = await parley.api('GET', `/v1/conversations/${conversationId}/messages`);
    const reply = listed.json.data.find((m) => m.content.type === 'reply');
    assert.ok(reply, JSON.stringify(listed.json.data.map((m) => m.content)));
    assert.equal(reply.content.source, 'quick_reply');
    assert.equal(reply.content.title, 'Large');
    assert.equal(reply.content.payload, 'Large');

    // A reload resumes the conversation, open, with its history.
    const shownBefore = await visitor.getByTestId('parley-message').count();
    await visitor.reload();
    await visitor.getByTestId('parley-panel').waitFor({ state: 'visible' });
    await visitor.locator('[data-testid="parley-message"]').filter({ hasText: 'two sizes' })
      .waitFor();
    assert.equal(await visitor.getByTestId('parley-message').count(), shownBefore);

    // Another page of the site continues it too.
    await visitor.goto(parley.url + '/demo/second');
    await visitor.getByTestId('parley-panel').waitFor({ state: 'visible' });
    await visitor.locator('[data-testid="parley-message"]').filter({ hasText: 'red shoes' })
      .waitFor();
    await sendFromWidget(visitor, 'Sent from the shoes page');
    await consoleMessage(agent, 'inbound', 'Sent from the shoes page').waitFor();
    assert.equal(await onlyOpenConversation(parley), conversationId);

    // The agent ends it: the widget says so, and the data is deleted.
    await agent.getByTestId('console-end').click();
    await agent.getByTestId('console-end-confirm').click();
    await visitor.getByTestId('parley-ended').waitFor({ state: 'visible' });
    assert.match(await visitor.getByTestId('parley-ended').innerText(),
      /This conversation has ended/);
    assert.ok((await events(visitor)).some((e) => e.type === 'ended'));

    await waitFor(async () => {
      const messages = await parley.api('GET', `/v1/conversations/${conversationId}/messages`);
      const conv = await parley.api('GET', `/v1/conversations/${conversationId}`);
      return messages.status === 200 && messages.json.data.length === 0 &&
        conv.status === 200 && conv.json.state === 'ended' && conv.json.context === null &&
        conv.json.cookies === null && conv.json.private_data === null;
    }, { timeout: 15000, what: 'messages, context, cookies and private data to be deleted' });
  }));

test('nothing is stored and no socket opened before the visitor opens the chat',
  { timeout: TEST_TIMEOUT_MS }, () => withParley({}, async ({ parley, browser }) => {
    const context = await newVisitorContext(browser);
    const page = await context.newPage();
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(parley.url + '/demo');
    await page.getByTestId('parley-launcher').waitFor({ state: 'visible' });
    await page.waitForLoadState('networkidle');

    const stored = await page.evaluate(async () => ({
      cookie: document.cookie,
      local: localStorage.length,
      session: sessionStorage.length,
      idb: indexedDB.databases ? (await indexedDB.databases()).length : 0,
    }));
    assert.deepEqual(stored, { cookie: '', local: 0, session: 0, idb: 0 });
    assert.deepEqual(sockets, []);
    assert.deepEqual((await context.cookies()).map((c) => c.name), []);

    await openWidget(page, parley.demo.connection);
    assert.equal(sockets.length, 1);
    assert.ok(sockets[0].endsWith(`/v1/web/${parley.demo.connection}/socket`), sockets[0]);
    const record = await page.evaluate((key) => JSON.parse(localStorage.getItem(key)),
      'parley:' + parley.demo.connection);
    assert.equal(record.open, true);
    assert.match(record.session, /^wst_/);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    assert.equal(await page.evaluate(() => document.cookie), '');
  }));

test('a page of an origin that is not allowed cannot open the chat',
  { timeout: TEST_TIMEOUT_MS }, () => withParley({}, async ({ parley, browser }) => {
    // The same widget tag on a page of another origin (another port).
    const page = `<!doctype html><title>Elsewhere</title><p>Another site</p>
      <script src="${parley.url}/widget.js" data-connection="${parley.demo.connection}" async>
      </script>`;
    const other = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page);
    });
    await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherOrigin = `http://127.0.0.1:${other.address().port}`;
    try {
      // Parley refuses the upgrade from that origin with 403 …
      const status = await rawUpgradeStatus(parley.port,
        `/v1/web/${parley.demo.connection}/socket`, otherOrigin);
      assert.equal(status, 403);
      // … and accepts it from the demo's own origin.
      assert.equal(await rawUpgradeStatus(parley.port,
        `/v1/web/${parley.demo.connection}/socket`, parley.url), 101);

      const context = await newVisitorContext(browser);
      const visitor = await context.newPage();
      const frames = [];
      visitor.on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(f.payload)));
      await visitor.goto(otherOrigin + '/');
      await visitor.getByTestId('parley-launcher').click();
      await visitor.getByTestId('parley-panel').waitFor({ state: 'visible' });
      const notice = visitor.getByTestId('parley-error');
      await notice.waitFor({ state: 'visible' });
      assert.match(await notice.innerText(), /connect/i);
      const errors = (await events(visitor)).filter((e) => e.type === 'error');
      assert.ok(errors.some((e) => e.code === 'connection_failed'), JSON.stringify(errors));
      assert.deepEqual(frames, []);
      assert.equal(await visitor.evaluate((key) => JSON.parse(localStorage.getItem(key)).session,
        'parley:' + parley.demo.connection), undefined);
    } finally {
      other.close();
    }
  }));

test('a private data token with a bad signature is refused and the chat goes on',
  { timeout: TEST_TIMEOUT_MS }, () => withParley({}, async ({ parley, browser }) => {
    const context = await newVisitorContext(browser);
    const page = await context.newPage();
    await page.goto(parley.url + '/demo');
    await openWidget(page, parley.demo.connection);
    await sendFromWidget(page, 'First message');
    const conversationId = await onlyOpenConversation(parley);

    const claims = { sub: 'forged-user', plan: 'platinum', iat: nowS(), exp: nowS() + 600 };
    const forged = signJwt(claims, 'pds_not-the-connection-secret-0123456789abcdef');
    await page.evaluate((token) => window.Parley.setPrivateData(token), forged);
    const refusal = await waitFor(async () => (await events(page))
      .find((e) => e.type === 'error' && e.code === 'invalid_token'),
    { what: 'an invalid_token error event' });
    assert.ok(!JSON.stringify(refusal).includes(forged), 'the event does not echo the token');
    assert.ok(!(await page.getByTestId('parley-panel').innerText()).includes(forged));

    // The conversation goes on, without the forged data.
    await sendFromWidget(page, 'Second message');
    const listed = await parley.api('GET', `/v1/conversations/${conversationId}/messages`);
    assert.deepEqual(listed.json.data.map((m) => m.content.text),
      ['First message', 'Second message']);
    const conv = await parley.api('GET', `/v1/conversations/${conversationId}`);
    assert.notEqual(conv.json.private_data?.sub, 'forged-user');

    // A token signed with the connection's secret is taken.
    const good = signJwt({ ...claims, sub: 'test-user-7' }, parley.demo.private_data_secret);
    await page.evaluate((token) => window.Parley.setPrivateData(token), good);
    await waitFor(async () => {
      const c = await parley.api('GET', `/v1/conversations/${conversationId}`);
      return c.json.private_data?.sub === 'test-user-7' && c.json.private_data?.plan === 'platinum';
    }, { what: 'the correctly signed private data on the conversation' });
    assert.equal((await events(page)).filter((e) => e.code === 'invalid_token').length, 1);
  }));

test('an idle conversation times out and the widget shows it ended',
  { timeout: TEST_TIMEOUT_MS }, () => withParley(
    { config: { retention: { inactivity_timeout_s: 5 } } }, async ({ parley, browser }) => {
      const context = await newVisitorContext(browser);
      const page = await context.newPage();
      await page.goto(parley.url + '/demo');
      await openWidget(page, parley.demo.connection);
      await sendFromWidget(page, 'Anyone there?');
      const conversationId = await onlyOpenConversation(parley);
      await page.getByTestId('parley-ended').waitFor({ state: 'visible', timeout: 20000 });
      const ended = (await events(page)).find((e) => e.type === 'ended');
      assert.equal(ended?.reason, 'inactivity');
      const conv = await parley.api('GET', `/v1/conversations/${conversationId}`);
      assert.equal(conv.json.state, 'ended');
      assert.equal(conv.json.end_reason, 'inactivity');

      // "Start a new chat" lets the visitor write again, into a new conversation.
      await page.getByTestId('parley-new-chat').click();
      await sendFromWidget(page, 'Hello again');
      assert.notEqual(await onlyOpenConversation(parley), conversationId);
    }));

// Sends a WebSocket upgrade request with `origin` and returns the HTTP status of the answer.
function rawUpgradeStatus(port, path, origin) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error('no answer to the upgrade request'));
    });
    socket.on('connect', () => socket.write([
      `GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket',
      'Connection: Upgrade', 'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `Origin: ${origin}`, '', ''].join('\r\n')));
    socket.on('data', (chunk) => {
      data += chunk;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
  });
}
