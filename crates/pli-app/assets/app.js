// pli app's one script. The pages are whole without it (server-rendered HTML, forms that
// post); it adds what a chat needs: live updates over server-sent events, Enter to send,
// older pages on request, local times and day separators, the conversation filter, and
// desktop notifications when the user turned them on. No third-party code, no inline
// script (the Content-Security-Policy allows only this file).

let chat = document.querySelector("section.chat");
let log = document.getElementById("messages");
const onboarding = document.body.dataset.screen === "onboarding";

/** A fetch of one of the app's own fragments (the cookie goes along: same origin). */
async function fragment(url) {
  const response = await fetch(url, { headers: { accept: "text/html" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return { html: await response.text(), headers: response.headers };
}

function parse(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

// ---- Times and day separators, in the user's own time zone.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    const today = new Date().toDateString() === when.toDateString();
    el.textContent = today ? timeFormat.format(when) : `${dayFormat.format(when)}, ${timeFormat.format(when)}`;
    if (el.closest(".msg")) el.textContent = timeFormat.format(when);
  }
}

function dayOf(el) {
  const at = Number(el.dataset.at);
  return at ? new Date(at).toDateString() : null;
}

/** One separator before the first item of each day, and none elsewhere. */
function daySeparators() {
  if (!log) return;
  for (const old of log.querySelectorAll(".day")) old.remove();
  let previous = null;
  for (const item of [...log.querySelectorAll(".msg, .notice")]) {
    const day = dayOf(item);
    if (day && day !== previous) {
      const separator = document.createElement("div");
      separator.className = "day";
      separator.setAttribute("role", "separator");
      separator.textContent = dayFormat.format(new Date(Number(item.dataset.at)));
      item.before(separator);
    }
    previous = day ?? previous;
  }
}

function scrollToEnd() {
  if (log) log.scrollTop = log.scrollHeight;
}

// A picture grows its message once it has loaded: a log that was at its end stays there.
if (log) {
  let atEnd = true;
  log.addEventListener("scroll", () => {
    atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  });
  log.addEventListener("load", (event) => {
    if (atEnd && event.target.matches?.("img.thumbnail")) scrollToEnd();
  }, true);
}

// ---- The open conversation: new items, their states, older pages.

/** Inserts `html`'s messages and notices: one already shown is replaced (its state moved on,
 * or it was edited, deleted or reacted to); a changed one older than the page shows is left. */
function upsert(html) {
  const nearEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  document.getElementById("no-messages")?.remove();
  const oldest = Math.min(...[...log.querySelectorAll(".msg")].map((m) => Number(m.dataset.id)));
  for (const item of [...parse(html).children]) {
    const key = item.dataset.id ? `[data-id="${item.dataset.id}"]` : `[data-notice="${item.dataset.notice}"]`;
    const shown = log.querySelector(key);
    // (With nothing shown yet, `oldest` is Infinity and nothing is older.)
    if (!shown && item.dataset.id && Number.isFinite(oldest) && Number(item.dataset.id) < oldest) continue;
    // A report form the user opened stays as it is (a received message's state never moves).
    if (shown?.querySelector("details[open]")) continue;
    if (shown) shown.replaceWith(item);
    else {
      log.append(item);
      // Whoever just wrote is no longer typing.
      const who = item.matches(".msg.in") ? item.querySelector(".who")?.textContent : null;
      if (who?.startsWith("@")) showTyping({ sender: who.slice(1), typing: false });
    }
    localTimes(item);
  }
  daySeparators();
  if (nearEnd) scrollToEnd();
}

function lastShown() {
  const ids = [...log.querySelectorAll(".msg")].map((m) => Number(m.dataset.id));
  const notices = [...log.querySelectorAll(".notice")].map((n) => Number(n.dataset.notice));
  // Own messages still on their way are fetched again, to show where they are now.
  const waiting = [...log.querySelectorAll(".msg.out")]
    .filter((m) => m.querySelector('[data-state="queued"]'))
    .map((m) => Number(m.dataset.id) - 1);
  const revs = [...log.querySelectorAll(".msg")].map((m) => Number(m.dataset.rev) || 0);
  return {
    after: Math.min(Math.max(0, ...ids), ...waiting),
    // The newest change shown: edits, deletions and reactions after it come again.
    afterRev: Math.max(Number(chat.dataset.lastRev) || 0, ...revs),
    // The conversation's newest notice when the page was rendered, even if none is shown.
    afterNotice: Math.max(Number(chat.dataset.lastNotice) || 0, ...notices),
  };
}

let refreshing = null;
async function refreshChat() {
  if (!chat) return;
  // One refresh at a time; one more after it if something came meanwhile.
  if (refreshing) {
    refreshing.again = true;
    return;
  }
  refreshing = { again: false };
  try {
    const { after, afterNotice, afterRev } = lastShown();
    const id = chat.dataset.conversation;
    const { html } = await fragment(`/c/${id}/after?after=${after}&after_notice=${afterNotice}&after_rev=${afterRev}`);
    if (html.trim()) upsert(html);
    if (document.visibilityState === "visible") markRead(id);
  } finally {
    const again = refreshing.again;
    refreshing = null;
    if (again) refreshChat();
  }
}

async function markRead(id) {
  await fetch(`/c/${id}/read`, { method: "POST" });
}

async function loadOlder(button) {
  // One page at a time: a second click while one loads would prepend it twice.
  if (button.disabled) return;
  button.disabled = true;
  try {
    const id = chat.dataset.conversation;
    const { html, headers } = await fragment(`/c/${id}/before?before=${button.dataset.before}`);
    const height = log.scrollHeight;
    const older = parse(html);
    for (const item of [...older.children]) {
      const key = item.dataset.id ? `[data-id="${item.dataset.id}"]` : `[data-notice="${item.dataset.notice}"]`;
      if (log.querySelector(key)) item.remove();
    }
    log.prepend(older);
    localTimes(log);
    daySeparators();
    log.scrollTop += log.scrollHeight - height;
    const next = headers.get("x-pli-before");
    if (next) button.dataset.before = next;
    else button.remove();
  } finally {
    button.disabled = false;
  }
}

// ---- The composer: Enter sends, Shift+Enter adds a line.

// ---- Typing: said while the user types (at most every few seconds), and that they
// stopped once the box is empty again; shown for whoever else types here.

const TYPING_EVERY_MS = 4000;
const TYPING_HOLDS_MS = 6000;
let typingSent = 0;

function sayTyping(typing) {
  if (!chat) return;
  const body = new URLSearchParams({ typing: typing ? "1" : "0" });
  fetch(`/c/${chat.dataset.conversation}/typing`, { method: "POST", body }).catch(() => {});
}

const typers = new Map();
function showTyping(update) {
  const line = document.getElementById("typing");
  if (!line) return;
  clearTimeout(typers.get(update.sender));
  typers.delete(update.sender);
  if (update.typing) {
    typers.set(update.sender, setTimeout(() => showTyping({ sender: update.sender, typing: false }), TYPING_HOLDS_MS));
  }
  const names = [...typers.keys()].map((name) => `@${name}`);
  line.textContent = names.length === 0 ? "" : `${names.join(", ")} ${names.length === 1 ? "is" : "are"} typing…`;
}

function composer() {
  const form = document.getElementById("composer");
  const box = document.getElementById("message");
  if (!form || !box) return;
  box.addEventListener("input", () => {
    const now = Date.now();
    if (box.value.trim() && now - typingSent > TYPING_EVERY_MS) {
      typingSent = now;
      sayTyping(true);
    } else if (!box.value.trim() && typingSent) {
      typingSent = 0;
      sayTyping(false);
    }
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!box.value.trim()) return;
    // The whole form: the text, and the message it answers when replying.
    const body = new URLSearchParams(new FormData(form));
    const sent = box.value;
    box.value = "";
    // The message itself says the typing is over.
    typingSent = 0;
    let response;
    try {
      response = await fetch(form.action, { method: "POST", body });
    } catch {
      // The app could not be reached: the text goes back, unless something new was typed.
      if (!box.value) box.value = sent;
      return;
    }
    const code = response.headers.get("x-pli-error");
    if (code) {
      // The chat comes back with the reason and the text kept in the composer.
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("section.chat");
      if (!fresh) {
        box.value = sent;
        return;
      }
      chat.replaceWith(fresh);
      chat = fresh;
      log = document.getElementById("messages");
      localTimes(chat);
      daySeparators();
      scrollToEnd();
      composer();
      document.getElementById("message")?.focus();
      return;
    }
    if (!response.ok) box.value = sent;
    if (response.ok) {
      // Replied: the composer answers nothing more, and a reload does not reply again.
      form.querySelector(".replying")?.remove();
      if (location.search) history.replaceState(null, "", location.pathname);
    }
    await refreshChat();
    box.focus();
  });
}

// ---- The conversation list: live, and filtered by name.

async function refreshList() {
  const list = document.getElementById("list");
  if (!list) return;
  const open = chat?.dataset.conversation ?? "";
  const { html } = await fragment(`/list?open=${open}`);
  list.innerHTML = html;
  localTimes(list);
  applyFilter();
}

function applyFilter() {
  const filter = document.getElementById("filter");
  if (!filter) return;
  const words = filter.value.trim().toLowerCase();
  for (const entry of document.querySelectorAll("#conversations li")) {
    entry.hidden = words !== "" && !entry.dataset.name.includes(words);
  }
}

async function refreshAlerts() {
  const alerts = document.getElementById("alerts");
  if (!alerts) return;
  const { html } = await fragment("/alerts");
  alerts.replaceWith(parse(html));
}

// ---- Desktop notifications, off unless turned on in Settings.

const NOTIFY = "pli.notify";
const SOUND = "pli.sound";

// Whether the user is looking at pli: the window's own focus and blur, and the tab shown.
let focused = document.hasFocus();
window.addEventListener("focus", () => {
  focused = true;
});
window.addEventListener("blur", () => {
  focused = false;
});

function notify(update) {
  if (localStorage.getItem(NOTIFY) !== "on" || !("Notification" in window)) return;
  if (Notification.permission !== "granted") return;
  if (focused && document.visibilityState === "visible") return;
  const entry = document.querySelector(`#conversations a[href="/c/${update.conversation}"] .name`);
  new Notification("pli", { body: `New message${entry ? ` in ${entry.textContent}` : ""}`, silent: localStorage.getItem(SOUND) !== "on" });
}

function settings() {
  const notifyBox = document.getElementById("notify");
  const soundBox = document.getElementById("sound");
  const state = document.getElementById("notify-state");
  if (!notifyBox || !soundBox) return;
  notifyBox.checked = localStorage.getItem(NOTIFY) === "on";
  soundBox.checked = localStorage.getItem(SOUND) === "on";
  notifyBox.addEventListener("change", async () => {
    if (notifyBox.checked && "Notification" in window && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission();
      if (answer !== "granted") {
        notifyBox.checked = false;
        state.textContent = "Your browser did not allow notifications.";
      }
    }
    localStorage.setItem(NOTIFY, notifyBox.checked ? "on" : "off");
    state.textContent = notifyBox.checked ? "Notifications are on." : "Notifications are off.";
  });
  soundBox.addEventListener("change", () => localStorage.setItem(SOUND, soundBox.checked ? "on" : "off"));
}

// ---- Live updates: the app pushes what changed; the page fetches that part.

function showStatus(online) {
  const status = document.getElementById("status");
  if (!status) return;
  status.dataset.status = online ? "online" : "offline";
  status.textContent = online ? "Connected" : "Offline: messages wait and go out when the server is back";
}

function live() {
  const events = new EventSource("/events");
  // What changed between this page's rendering and the stream's opening (or while it was
  // reconnecting) came with no event: read it now.
  events.addEventListener("open", () => {
    if (onboarding) return;
    refreshList();
    refreshChat();
    refreshAlerts();
  });
  events.addEventListener("message", (event) => {
    const update = JSON.parse(event.data);
    const here = chat && (!update.conversation || update.conversation === chat.dataset.conversation);
    if (update.kind === "typing") {
      if (here) showTyping(update);
      return;
    }
    if (update.kind === "status") {
      showStatus(update.online);
      // A linked device just got approved, or an account was made: on to the main view.
      if (update.online && onboarding) location.reload();
      return;
    }
    if (onboarding) return;
    refreshList();
    if (here) refreshChat();
    if (update.kind === "notice" && update.alert) refreshAlerts();
    if (update.kind === "message") notify(update);
  });
}

// ---- Small things.

function newChat() {
  const button = document.getElementById("new-chat");
  const form = document.getElementById("new-chat-form");
  if (!button || !form) return;
  button.addEventListener("click", () => {
    form.hidden = !form.hidden;
    button.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) document.getElementById("new-chat-username").focus();
  });
}

function registration() {
  const form = document.getElementById("register");
  if (!form) return;
  form.addEventListener("submit", () => {
    document.getElementById("working").hidden = false;
    form.querySelector('button[type="submit"]').disabled = true;
  });
  const server = document.getElementById("server");
  const region = document.getElementById("region");
  const words = document.getElementById("region-words");
  const describe = () => {
    const chosen = document.getElementById("region").selectedOptions[0];
    if (chosen?.dataset.words) words.textContent = chosen.dataset.words;
  };
  server.addEventListener("change", async () => {
    try {
      const { html } = await fragment(`/regions?server=${encodeURIComponent(server.value)}`);
      document.getElementById("region").replaceWith(parse(html));
      document.getElementById("region").addEventListener("change", describe);
      describe();
    } catch {
      words.textContent = "This server's regions could not be read: check its address.";
    }
  });
  region.addEventListener("change", describe);
}

// A disappearing message leaves the page when its timer is over, as it leaves the
// database (the app purges it before it next reads the conversation).
function dropExpired() {
  const now = Date.now();
  for (const message of document.querySelectorAll(".msg[data-expires]")) {
    if (Number(message.dataset.expires) <= now) message.remove();
  }
  // The conversation list's preview of one: the list is read again (without it).
  const previews = [...document.querySelectorAll(".last[data-expires]")];
  if (previews.some((last) => Number(last.dataset.expires) <= now)) refreshList();
}

function start() {
  localTimes(document);
  daySeparators();
  scrollToEnd();
  composer();
  newChat();
  registration();
  settings();
  document.getElementById("filter")?.addEventListener("input", applyFilter);
  const older = document.getElementById("older");
  older?.addEventListener("click", () => loadOlder(older));
  if (chat) document.getElementById("message")?.focus();
  setInterval(dropExpired, 1000);
  live();
}

start();
