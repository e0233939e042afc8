// The agent workbench (/agent): own buyers with the 3-minute countdown, the conversation, replies.
import {
  $, ApiError, LANG, api, bilingual, el, fill, formatClock, formatDuration, formatTime, makeT, reasonLabel, session,
  setText, show, statusLabel, translatePage, toast, errText, reportError,
} from "./common.js";
import { createWaiting } from "./agent-waiting.js";
import { createNotes } from "./agent-notes.js";
import { createQuickReplies } from "./agent-quick.js";
import { createSearch } from "./search.js";
import { createPresence } from "./agent-presence.js";
import { photoLabel, photoNode, wirePhotoSending } from "./photos.js";
import { buyerName, buyerRows, previewText } from "./buyer.js";

const STRINGS = {
  zh: {
    "app.title": "客服工作台",
    "login.hint": "使用店铺分配给您的客服账号和令牌登录。",
    "login.id": "客服账号",
    "login.token": "令牌",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.missing": "请填写客服账号和令牌",
    "login.unknown": "没有这个客服账号",
    "login.badToken": "令牌不正确",
    "login.expired": "登录已失效，请重新登录",
    "status.title": "在线：接待新买家；挂起：只接老客户；离线：不接待",
    "load.label": "接待",
    "list.title": "我的会话",
    "list.empty": "暂无接待中的买家",
    "list.offlineNote": "您当前离线，不会分配新买家。切换为「在线」开始接待。",
    "list.suspendedNote": "您已挂起：只会分配最近联系过您的老客户。",
    "live.live": "实时连接",
    "live.connecting": "连接中…",
    "live.polling": "连接断开，每 15 秒刷新",
    "conv.none": "从左侧选择一个会话开始接待",
    "conv.noneAbove": "从上方列表选择一个会话开始接待",
    "login.demo": "这是演示店铺（没有 reception.toml），没有配置客服账号。要试用工作台，请用 reception init 生成配置，在 [[agents]] 中添加客服后用 --config 启动。",
    "conv.close": "结束会话",
    "conv.closed": "会话已结束，已邀请买家评价",
    "conv.gone": "这个会话已不在您名下（已转接或已结束）",
    "conv.fromPool": "离线留言",
    "countdown.left": "剩 {t}",
    "countdown.overdue": "超时 {t}",
    "countdown.answered": "已回复",
    "countdown.title": "平台要求 3 分钟内回复买家",
    "wait": "已等待 {d}",
    "reminded": "已提醒",
    "sender.buyer": "买家",
    "sender.bot": "机器人",
    "sender.agent": "客服",
    "sender.me": "我",
    "sender.system": "系统",
    "msg.welcome": "自动问候",
    "msg.card.product": "商品卡片",
    "msg.card.order": "订单卡片",
    "msg.confidence": "把握 {p}%",
    "msg.empty": "还没有消息",
    "msg.loadFailed": "消息加载失败：{e}",
    "transfer.placeholder": "转给客服 shop:bob 或分组",
    "transfer.submit": "转接",
    "transfer.missing": "请填写要转给的客服账号或分组",
    "transfer.done": "已转接给 {to}",
    "warn.title": "这条消息可能不合规：",
    "warn.edit": "修改",
    "warn.sendAnyway": "仍然发送",
    "warn.sentWith": "已发送，但有提示：{w}",
    "quick.label": "快捷回复",
    "quick.none": "没有匹配的快捷回复",
    "reply.placeholder": "输入回复…",
    "reply.send": "发送",
    "reply.hint": "Enter 发送，Shift+Enter 换行",
    "side.buyer": "买家信息",
    "side.noneSelected": "未选择会话",
    "side.history": "历史会话",
    "side.orders": "最近订单",
    "status.now": "状态：{s}",
    "side.noHistory": "没有更早的会话",
    "orders.none": "暂无订单数据",
    "orders.hint": "该买家还没有订单",
    "orders.status.unpaid": "待付款",
    "orders.status.paid": "待发货",
    "orders.status.shipped": "已发货",
    "orders.status.delivered": "已签收",
    "orders.status.after_sale": "售后中",
    "info.buyer": "买家编号",
    "info.channel": "渠道",
    "info.group": "分组",
    "info.entry": "入口",
    "info.reason": "转人工原因",
    "info.intent": "问题类型",
    "info.assigned": "接入时间",
    "info.lang": "语言",
    "lang.zh": "中文",
    "lang.en": "英文",
    "history.msgs": "{n} 条消息",
    "conv.status.closed": "已结束",
    "conv.status.bot": "机器人",
    "conv.status.assigned": "人工",
    "conv.status.queued": "排队",
    "conv.status.offline": "离线留言",
    "newBuyer.title": "【新买家】",
    "newBuyer.toast": "新买家接入：{who}",
  },
  en: {
    "app.title": "Agent workbench",
    "login.hint": "Sign in with the agent id and token your shop gave you.",
    "login.id": "Agent id",
    "login.token": "Token",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.missing": "Enter your agent id and token",
    "login.unknown": "There is no agent with this id",
    "login.badToken": "The token is not correct",
    "login.expired": "Your session has expired; please sign in again",
    "status.title": "Online: take new buyers; Suspended: only returning buyers; Offline: none",
    "load.label": "Load",
    "list.title": "My conversations",
    "list.empty": "No buyers right now",
    "list.offlineNote": "You are offline and get no new buyers. Switch to Online to start.",
    "list.suspendedNote": "Suspended: you only get buyers who recently talked to you.",
    "live.live": "Live",
    "live.connecting": "Connecting…",
    "live.polling": "Disconnected, refreshing every 15 s",
    "conv.none": "Pick a conversation on the left",
    "conv.noneAbove": "Pick a conversation from the list above",
    "login.demo": "This is the demo shop (no reception.toml): it has no agent accounts. To try the workbench, run reception init, add agents under [[agents]] and start with --config.",
    "conv.close": "Close",
    "conv.closed": "Closed; the buyer was asked for a rating",
    "conv.gone": "This conversation is no longer yours (transferred or closed)",
    "conv.fromPool": "offline message",
    "countdown.left": "{t} left",
    "countdown.overdue": "{t} over",
    "countdown.answered": "Replied",
    "countdown.title": "The platform requires a reply within 3 minutes",
    "wait": "waiting {d}",
    "reminded": "reminded",
    "sender.buyer": "Buyer",
    "sender.bot": "Bot",
    "sender.agent": "Agent",
    "sender.me": "Me",
    "sender.system": "System",
    "msg.welcome": "auto greeting",
    "msg.card.product": "Product card",
    "msg.card.order": "Order card",
    "msg.confidence": "{p}% sure",
    "msg.empty": "No messages yet",
    "msg.loadFailed": "Could not load the messages: {e}",
    "transfer.placeholder": "Agent (shop:bob) or group",
    "transfer.submit": "Transfer",
    "transfer.missing": "Enter an agent id or a group to transfer to",
    "transfer.done": "Transferred to {to}",
    "warn.title": "This message may break the platform's rules:",
    "warn.edit": "Edit",
    "warn.sendAnyway": "Send anyway",
    "warn.sentWith": "Sent, with warnings: {w}",
    "quick.label": "Quick replies",
    "quick.none": "No matching quick replies",
    "reply.placeholder": "Type a reply…",
    "reply.send": "Send",
    "reply.hint": "Enter to send, Shift+Enter for a new line",
    "side.buyer": "Buyer",
    "side.noneSelected": "No conversation selected",
    "side.history": "Earlier conversations",
    "side.orders": "Recent orders",
    "status.now": "Status: {s}",
    "side.noHistory": "No earlier conversations",
    "orders.none": "No order data",
    "orders.hint": "This buyer has no orders yet",
    "orders.status.unpaid": "Unpaid",
    "orders.status.paid": "Paid, not shipped",
    "orders.status.shipped": "Shipped",
    "orders.status.delivered": "Delivered",
    "orders.status.after_sale": "After-sale",
    "info.buyer": "Buyer id",
    "info.channel": "Channel",
    "info.group": "Group",
    "info.entry": "Entry",
    "info.reason": "Handover",
    "info.intent": "Topic",
    "info.assigned": "Assigned",
    "info.lang": "Language",
    "lang.zh": "Chinese",
    "lang.en": "English",
    "history.msgs": "{n} messages",
    "conv.status.closed": "closed",
    "conv.status.bot": "bot",
    "conv.status.assigned": "agent",
    "conv.status.queued": "queued",
    "conv.status.offline": "offline",
    "newBuyer.title": "[New buyer] ",
    "newBuyer.toast": "New buyer: {who}",
  },
};

const t = makeT(STRINGS);
const AUTH_KEY = "reception.agent";
const SELECTED_KEY = "reception.agent.selected";
const POLL_MS = 15000;
const BASE_TITLE = t("app.title") + " · reception";

const state = {
  auth: null, // {id, token}
  agent: null, // the agent's view
  convs: [], // the list, as last read
  listAt: 0, // performance.now() when the list was read (countdowns tick from there)
  selected: null, // the open conversation id
  messagesSig: "",
  lastBuyerText: null,
  quickFor: null,
  confirmedText: null, // text the agent chose to send despite warnings
  items: new Map(), // conversation id → <li>
  flashing: new Set(),
  drafts: new Map(), // conversation id → unsent reply text
  ws: null,
  wsAttempt: 0,
  wsTimer: null,
  pollTimer: null,
  tickTimer: null,
  refreshTimer: null,
  refreshConv: false,
  busy: false,
};

// ---------- helpers ----------

/** Agent ids look like "shop:alice": keep the colon readable in paths. */
const seg = (value) => encodeURIComponent(value).replace(/%3A/gi, ":");

function call(path, options = {}) {
  return api(path, { ...options, token: state.auth && state.auth.token }).catch((err) => {
    if (err instanceof ApiError && err.status === 401 && state.auth) signOut(t("login.expired"));
    throw err;
  });
}


function selectedConv() {
  return state.convs.find((c) => c.conversation_id === state.selected) || null;
}

function elapsed() {
  return (performance.now() - state.listAt) / 1000;
}

// ---------- sign-in ----------

async function signIn(event) {
  event.preventDefault();
  const id = $("#login-id").value.trim();
  const token = $("#login-token").value.trim();
  const error = $("#login-error");
  setText(error, "");
  if (!id || !token) {
    setText(error, t("login.missing"));
    return;
  }
  unlockAudio();
  const button = $("#login-submit");
  button.disabled = true;
  setText(button, t("login.busy"));
  try {
    const data = await api(`/api/v1/agents/${seg(id)}`, { token });
    state.auth = { id, token };
    session.set(AUTH_KEY, state.auth);
    $("#login-token").value = "";
    start(data.agent);
  } catch (err) {
    setText(error, loginError(err));
  } finally {
    button.disabled = false;
    setText(button, t("login.submit"));
  }
}

function loginError(err) {
  if (!(err instanceof ApiError)) return errText(err);
  if (err.code === "unknown_agent" || err.status === 404) return t("login.unknown");
  if (err.status === 401 || err.status === 403) return t("login.badToken");
  return err.message;
}

function signOut(message) {
  session.remove(AUTH_KEY);
  session.remove(SELECTED_KEY);
  state.auth = null;
  state.agent = null;
  state.convs = [];
  state.selected = null;
  state.items.clear();
  fill($("#conv-list"));
  stopLive();
  clearInterval(state.pollTimer);
  clearInterval(state.tickTimer);
  show($("#app"), false);
  show($("#login"));
  setText($("#login-error"), message || "");
  document.title = BASE_TITLE;
  $("#login-id").focus();
}

async function resume() {
  const saved = session.get(AUTH_KEY);
  if (!saved || !saved.id || !saved.token) {
    show($("#login"));
    $("#login-id").focus();
    return;
  }
  state.auth = saved;
  $("#login-id").value = saved.id;
  try {
    const data = await api(`/api/v1/agents/${seg(saved.id)}`, { token: saved.token });
    start(data.agent);
  } catch (err) {
    state.auth = null;
    if (err instanceof ApiError && err.status !== 0) session.remove(AUTH_KEY);
    show($("#login"));
    setText($("#login-error"), loginError(err));
  }
}

function start(agent) {
  state.agent = agent;
  state.waiting = state.waiting || createWaiting({
    call, agent: () => state.agent,
    onAccepted: (id) => {
      state.waiting.setOpen(false);
      state.selected = id;
      session.set(SELECTED_KEY, id);
      refreshList(true);
    },
  });
  state.waiting.refresh();
  show($("#login"), false);
  show($("#app"));
  renderAgent();
  const groups = $("#transfer-options");
  fill(groups, ...(agent.groups || []).map((g) => el("option", { value: g })));
  state.selected = session.get(SELECTED_KEY);
  refreshList(true);
  clearInterval(state.pollTimer);
  state.pollTimer = setInterval(() => refreshList(true), POLL_MS);
  clearInterval(state.tickTimer);
  state.tickTimer = setInterval(tick, 1000);
  connect();
}

// ---------- header: the agent, status, load ----------

function renderAgent() {
  const a = state.agent;
  if (!a) return;
  setText($("#agent-name"), a.name || a.id);
  setText($("#agent-id"), a.id);
  setText($("#agent-avatar"), (a.name || a.id).trim().slice(0, 1).toUpperCase());
  for (const button of document.querySelectorAll("#status-switch button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === a.status));
  }
  setText($("#agent-load"), `${a.load}/${a.max_concurrent}`);
  $("#load-chip").classList.toggle("full", a.load >= a.max_concurrent);
  const note = $("#offline-note");
  if (a.status === "online") show(note, false);
  else {
    setText(note, t(a.status === "offline" ? "list.offlineNote" : "list.suspendedNote"));
    show(note);
  }
}

async function setStatus(status) {
  if (!state.agent || state.agent.status === status) return;
  const buttons = document.querySelectorAll("#status-switch button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    const data = await call(`/api/v1/agents/${seg(state.auth.id)}/status`, { method: "POST", body: { status } });
    state.agent = data.agent;
    renderAgent();
    toast(t("status.now", { s: statusLabel(status) }));
    refreshList(false);
  } catch (err) {
    toast(errText(err), "error");
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

// ---------- the list ----------

async function refreshList(withConversation) {
  if (!state.auth) return;
  try {
    const [list, me] = await Promise.all([
      call(`/api/v1/agents/${seg(state.auth.id)}/conversations`),
      call(`/api/v1/agents/${seg(state.auth.id)}`),
    ]);
    state.convs = list.conversations || [];
    state.listAt = performance.now();
    state.agent = me.agent;
    renderAgent();
    renderList();
    const conv = selectedConv();
    if (state.selected && !conv) {
      if ($("#conv-view").hidden === false) toast(t("conv.gone"));
      closeView();
    } else if (conv && $("#conv-view").hidden) {
      select(conv.conversation_id, false); // after a reload: reopen the conversation that was open
    } else if (conv) {
      renderConvHeader(conv);
      if (withConversation) loadMessages();
    }
    tick();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) setLive(state.ws && state.ws.readyState === 1 ? "live" : "polling");
  }
}

/** Re-read soon (several WebSocket events in a row make one request). */
function scheduleRefresh(withConversation) {
  state.refreshConv = state.refreshConv || withConversation;
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    const conv = state.refreshConv;
    state.refreshConv = false;
    refreshList(conv);
  }, 120);
}

function renderList() {
  const list = $("#conv-list");
  const ids = state.convs.map((c) => c.conversation_id);
  for (const [id, node] of state.items) {
    if (!ids.includes(id)) {
      node.remove();
      state.items.delete(id);
    }
  }
  state.convs.forEach((conv, index) => {
    let item = state.items.get(conv.conversation_id);
    if (!item) {
      item = el("li", {
        class: "conv-item", role: "option", tabindex: "0", testid: "ag-conv-item",
        dataset: { conversationId: conv.conversation_id },
        on: {
          click: () => select(conv.conversation_id),
          keydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              select(conv.conversation_id);
            }
          },
        },
      });
      state.items.set(conv.conversation_id, item);
    }
    fillItem(item, conv);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
  setText($("#list-count"), String(state.convs.length));
  show($("#list-empty"), state.convs.length === 0);
}

function fillItem(item, conv) {
  item.setAttribute("aria-selected", String(conv.conversation_id === state.selected));
  item.classList.toggle("flash", state.flashing.has(conv.conversation_id));
  const meta = [];
  if (conv.handover_reason) meta.push(el("span", { class: "badge accent", text: reasonLabel(conv.handover_reason) }));
  if (conv.intent) meta.push(el("span", { class: "badge", text: conv.intent }));
  if (conv.pooled_at) meta.push(el("span", { class: "badge", text: t("conv.fromPool") }));
  if (conv.reminded) meta.push(el("span", { class: "badge red", testid: "ag-reminded", text: t("reminded") }));
  const unread = presence.badge(conv);
  if (unread) meta.unshift(unread);
  fill(item,
    el("div", { class: "row" },
      el("span", { class: "buyer", testid: "ag-conv-name", text: buyerName(conv), title: conv.customer_id }),
      el("span", { class: "countdown", testid: "ag-countdown", title: t("countdown.title"),
        dataset: { conversationId: conv.conversation_id } })),
    el("div", { class: "meta" }, ...meta),
    previewText(conv) ? el("div", { class: "meta preview", text: previewText(conv) }) : null,
    el("div", { class: "meta" },
      el("span", { class: "waiting", dataset: { conversationId: conv.conversation_id } }),
      el("span", { class: "faint", text: conv.channel })));
}

/** Every second: the countdowns and waiting times, from the server's figures and the time since the read. */
function tick() {
  const passed = elapsed();
  for (const conv of state.convs) {
    const item = state.items.get(conv.conversation_id);
    if (!item) continue;
    paintCountdown(item.querySelector(".countdown"), conv, passed);
    const waiting = item.querySelector(".waiting");
    const waits = typeof conv.waiting_seconds === "number";
    setText(waiting, waits ? t("wait", { d: formatDuration(conv.waiting_seconds + passed) }) : "");
    show(waiting, waits);
  }
  const conv = selectedConv();
  if (conv) paintCountdown($("#conv-countdown"), conv, passed);
}

function paintCountdown(node, conv, passed) {
  if (!node) return;
  const due = conv.reply_due_in_seconds;
  if (due === null || due === undefined) {
    node.dataset.state = "answered";
    delete node.dataset.remaining;
    setText(node, t("countdown.answered"));
    return;
  }
  const left = Math.ceil(due - passed); // whole seconds still to go (≤ 0: overdue by that much)
  node.dataset.remaining = String(left);
  if (left <= 0) {
    node.dataset.state = "overdue";
    setText(node, t("countdown.overdue", { t: formatClock(-left) }));
  } else {
    node.dataset.state = left < 60 ? "soon" : "ok";
    setText(node, t("countdown.left", { t: formatClock(left) }));
  }
}

// ---------- the open conversation ----------

function select(id, byUser = true) {
  if (byUser) unlockAudio();
  if (state.selected === id && !$("#conv-view").hidden) return;
  if (state.selected && !$("#conv-view").hidden) state.drafts.set(state.selected, $("#reply-input").value);
  state.selected = id;
  session.set(SELECTED_KEY, id);
  state.messagesSig = "";
  state.lastBuyerText = null;
  state.quickFor = null;
  hideWarnings();
  $("#reply-input").value = state.drafts.get(id) || "";
  state.drafts.delete(id);
  presence.opened();
  updateCount();
  for (const [cid, item] of state.items) item.setAttribute("aria-selected", String(cid === id));
  const conv = selectedConv();
  if (!conv) return;
  show($("#conv-empty"), false);
  show($("#conv-view"));
  fill($("#messages"), el("div", { class: "empty", text: t("loading") }));
  renderConvHeader(conv);
  renderBuyerInfo(conv);
  tick();
  loadMessages();
  loadHistory();
  notes.open(id);
  if (byUser && window.matchMedia("(max-width: 700px)").matches) $("#conv-panel").scrollIntoView({ block: "start" });
}

function closeView() {
  state.selected = null;
  session.remove(SELECTED_KEY);
  show($("#conv-view"), false);
  show($("#conv-empty"));
  fill($("#buyer-info"), el("dt", { class: "faint", text: t("side.noneSelected") }), el("dd"));
  fill($("#history"));
  setText($("#history-count"), "");
  for (const item of state.items.values()) item.setAttribute("aria-selected", "false");
  notes.close();
}

function renderConvHeader(conv) {
  setText($("#conv-buyer"), buyerName(conv));
  const meta = [el("span", { text: conv.channel })];
  if (conv.group) meta.push(el("span", { class: "badge", text: conv.group }));
  if (conv.handover_reason) meta.push(el("span", { class: "badge accent", text: reasonLabel(conv.handover_reason) }));
  if (conv.intent) meta.push(el("span", { class: "badge", text: conv.intent }));
  if (conv.reminded) meta.push(el("span", { class: "badge red", text: t("reminded") }));
  fill($("#conv-meta"), ...meta);
}

function renderBuyerInfo(conv) {
  const rows = [
    ...buyerRows(conv, state.auth && state.auth.id),
    [t("info.buyer"), conv.customer_id],
    [t("info.channel"), conv.channel],
    [t("info.group"), conv.group],
    [t("info.reason"), conv.handover_reason ? reasonLabel(conv.handover_reason) : null],
    [t("info.intent"), conv.intent],
    [t("info.assigned"), formatTime(conv.assigned_at)],
  ].filter(([, v]) => v);
  fill($("#buyer-info"), ...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  loadOrders(conv.conversation_id);
}

/** The buyer's latest orders: status, items, carrier and the latest tracking event. */
async function loadOrders(id) {
  let orders = [];
  try {
    orders = (await call(`/api/v1/conversations/${seg(id)}/orders`)).orders || [];
  } catch (err) {
    return; // the panel keeps its last content; the list refresh reports lost access
  }
  if (state.selected !== id) return;
  if (!orders.length) {
    fill($("#orders"), el("div", { class: "orders-empty" }, el("div", { text: t("orders.none") }),
      el("div", { class: "small faint", text: t("orders.hint") })));
    return;
  }
  fill($("#orders"), ...orders.map((o) => {
    const items = (o.items || []).map((i) => `${i.name}${i.spec ? ` ${i.spec}` : ""} ×${i.qty}`).join("，");
    const last = (o.tracking_events || []).slice(-1)[0];
    return el("div", { class: "order-card", "data-testid": "ag-order" },
      el("div", { class: "order-head" }, el("strong", { text: o.order_id }),
        el("span", { class: "badge", text: t(`orders.status.${o.status}`) })),
      el("div", { class: "small", text: items }),
      o.carrier || o.tracking_no ? el("div", { class: "small faint", text: [o.carrier, o.tracking_no].filter(Boolean).join(" ") }) : null,
      last ? el("div", { class: "small faint", text: `${formatTime(last.time)} ${last.text}` }) : null);
  }));
}

async function loadMessages() {
  const id = state.selected;
  if (!id) return;
  try {
    const data = await call(`/api/v1/conversations/${seg(id)}/messages`);
    if (state.selected !== id) return;
    renderMessages(data.messages || []);
  } catch (err) {
    if (state.selected !== id) return;
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
      toast(t("conv.gone"));
      closeView();
      refreshList(false);
      return;
    }
    if (!state.messagesSig) fill($("#messages"), el("div", { class: "section-error", text: t("msg.loadFailed", { e: errText(err) }) }));
  }
}

function renderMessages(messages) {
  const sig = `${messages.length}|${messages.length ? messages[messages.length - 1].created_at : ""}`;
  if (sig === state.messagesSig) return;
  state.messagesSig = sig;
  const box = $("#messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const first = box.querySelector(".msg") === null;
  if (!messages.length) {
    fill(box, el("div", { class: "empty", text: t("msg.empty") }));
  } else {
    let lastDay = "";
    const nodes = [];
    for (const m of messages) {
      const day = new Date(m.created_at).toDateString();
      if (day !== lastDay && lastDay) nodes.push(el("div", { class: "msg-day", text: new Date(m.created_at).toLocaleDateString() }));
      lastDay = day;
      nodes.push(messageNode(m));
    }
    fill(box, ...nodes);
  }
  if (first || nearBottom) box.scrollTop = box.scrollHeight;
  presence.shown(messages);
  const buyer = messages.filter((m) => m.sender === "buyer" && m.text).pop();
  const lastBuyer = buyer ? buyer.text : "";
  if (lastBuyer !== state.quickFor) loadQuickReplies(lastBuyer);
}

function messageNode(m) {
  const classes = ["msg"];
  if (m.kind === "welcome") classes.push("welcome");
  if (m.kind === "agent_notice") classes.push("notice");
  const by = [];
  if (m.sender === "bot") {
    by.push(el("span", { class: "badge bot", text: t("sender.bot") }));
    if (typeof m.confidence === "number") by.push(el("span", { text: t("msg.confidence", { p: Math.round(m.confidence * 100) }) }));
  } else if (m.sender === "agent") {
    const mine = state.auth && m.agent_id === state.auth.id;
    by.push(el("span", { text: mine ? t("sender.me") : m.agent_id || t("sender.agent") }));
    if (m.kind === "welcome") by.push(el("span", { class: "badge", text: t("msg.welcome") }));
  } else if (m.sender === "buyer") {
    by.push(el("span", { text: t("sender.buyer") }));
  } else if (m.kind === "welcome") {
    by.push(el("span", { class: "badge", text: t("msg.welcome") }));
  }
  if (m.sender !== "system") by.push(el("span", { text: formatTime(m.created_at) }));
  const receipt = presence.receipt(m);
  if (receipt) by.push(receipt);
  const bubble = el("div", { class: "bubble" });
  if (m.text) bubble.appendChild(document.createTextNode(m.kind === "agent_notice" ? bilingual(m.text) : m.text));
  if (m.card) {
    bubble.appendChild(el("div", { class: "card" },
      el("strong", { text: t(`msg.card.${m.card.type}`) }), el("span", { class: "mono", text: m.card.id })));
  }
  if (m.image) bubble.appendChild(photoNode(m.image, () => state.auth && state.auth.token));
  return el("div", { class: classes.join(" "), testid: "ag-message", dataset: { sender: m.sender, kind: m.kind || "" } },
    by.length ? el("div", { class: "by" }, ...by) : null,
    bubble,
    m.sender === "system" ? el("div", { class: "by", text: formatTime(m.created_at) }) : null);
}

async function loadHistory() {
  const id = state.selected;
  const box = $("#history");
  fill(box, el("div", { class: "faint", text: t("loading") }));
  setText($("#history-count"), "");
  try {
    const data = await call(`/api/v1/conversations/${seg(id)}/history`);
    if (state.selected !== id) return;
    const convs = data.conversations || [];
    setText($("#history-count"), `(${convs.length})`);
    if (!convs.length) {
      fill(box, el("div", { class: "faint", text: t("side.noHistory") }));
      return;
    }
    fill(box, ...convs.map((c) => el("details", { class: "history-item", testid: "ag-history-item" },
      el("summary", {},
        el("span", { text: formatTime(c.created_at) }),
        el("span", { class: "faint", text: `${t(`conv.status.${c.status}`)} · ${t("history.msgs", { n: (c.messages || []).length })}` })),
      el("div", { class: "history-msgs" }, ...(c.messages || []).map((m) => el("div", { class: "line" },
        el("span", { class: "who", text: t(`sender.${m.sender}`) }),
        el("span", { class: "txt", text: m.text || (m.card ? `[${t(`msg.card.${m.card.type}`)}] ${m.card.id}` : m.image ? photoLabel() : "") })))))));
  } catch (err) {
    if (state.selected !== id) return;
    fill(box, el("div", { class: "error-text", text: errText(err) }));
  }
}

// ---------- quick replies ----------

const quick = createQuickReplies({
  call, selected: () => state.selected, lang: () => (selectedConv() || {}).lang || LANG,
  use: (value, cursor) => useQuickReply(value, cursor),
});
const notes = createNotes({ call, me: () => state.auth && state.auth.id });
createSearch({
  root: $("#conv-search"), call, prefix: "ag",
  onOpen: (id) => {
    if (state.waiting) state.waiting.setOpen(false);
    state.selected = id;
    session.set(SELECTED_KEY, id);
    refreshList(true);
  },
});

async function loadQuickReplies(text) {
  const fresh = state.quickFor === null;
  state.quickFor = text;
  quick.suggest(text, fresh);
}

function useQuickReply(text, cursor = text.length) {
  const input = $("#reply-input");
  input.value = text;
  hideWarnings();
  updateCount();
  input.focus();
  input.setSelectionRange(cursor, cursor);
}

// ---------- reply, transfer, close ----------

function updateCount() {
  const n = $("#reply-input").value.length;
  setText($("#reply-count"), n ? `${n}/4000` : "");
}

function hideWarnings() {
  state.confirmedText = null;
  show($("#warnings"), false);
  fill($("#warnings-list"));
}

function showWarnings(warnings, text) {
  state.confirmedText = text;
  fill($("#warnings-list"), ...warnings.map((w) => el("li", { text: bilingual(w.message) || w.code, dataset: { code: w.code || "" } })));
  show($("#warnings"));
  $("#send-anyway").focus();
}

async function send(anyway) {
  if (state.busy || !state.selected) return;
  const input = $("#reply-input");
  const text = input.value.trim();
  if (!text) {
    input.focus();
    return;
  }
  const id = state.selected;
  state.busy = true;
  $("#reply-send").disabled = true;
  $("#send-anyway").disabled = true;
  try {
    let checked = false;
    if (!(anyway && state.confirmedText === text)) {
      try {
        const check = await call("/api/v1/compliance/check", { method: "POST", body: { text } });
        checked = true;
        if (check.warnings && check.warnings.length) {
          showWarnings(check.warnings, text);
          return;
        }
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return;
        // the check is advice: when it cannot run, the reply still goes out
      }
    } else {
      checked = true;
    }
    const data = await call(`/api/v1/conversations/${seg(id)}/messages`, { method: "POST", body: { text } });
    if (input.value.trim() === text) input.value = "";
    presence.stopTyping();
    hideWarnings();
    updateCount();
    if (!checked && data.warnings && data.warnings.length) {
      toast(t("warn.sentWith", { w: data.warnings.map((w) => bilingual(w.message) || w.code).join("；") }));
    }
    if (state.selected === id) {
      state.messagesSig = "";
      loadMessages();
    }
    refreshList(false);
  } catch (err) {
    reportError(err);
  } finally {
    state.busy = false;
    $("#reply-send").disabled = false;
    $("#send-anyway").disabled = false;
  }
}

async function transfer() {
  const id = state.selected;
  const target = $("#transfer-target").value.trim();
  if (!id) return;
  if (!target) {
    toast(t("transfer.missing"), "error");
    $("#transfer-target").focus();
    return;
  }
  const body = target.includes(":") ? { agent_id: target } : { group: target };
  const button = $("#transfer-submit");
  button.disabled = true;
  try {
    await call(`/api/v1/conversations/${seg(id)}/transfer`, { method: "POST", body });
    $("#transfer-target").value = "";
    toast(t("transfer.done", { to: target }));
    closeView();
    refreshList(false);
  } catch (err) {
    reportError(err);
  } finally {
    button.disabled = false;
  }
}

async function closeConversation() {
  const id = state.selected;
  if (!id) return;
  const button = $("#close-conv");
  button.disabled = true;
  try {
    await call(`/api/v1/conversations/${seg(id)}/close`, { method: "POST" });
    toast(t("conv.closed"));
    closeView();
    refreshList(false);
  } catch (err) {
    reportError(err);
  } finally {
    button.disabled = false;
  }
}

// ---------- live updates ----------

function setLive(stateName) {
  const node = $("#live");
  node.dataset.state = stateName;
  setText($("#live-text"), t(`live.${stateName}`));
}

function connect() {
  if (!state.auth) return;
  stopLive();
  setLive("connecting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${location.host}/api/v1/agents/${seg(state.auth.id)}/ws?token=${encodeURIComponent(state.auth.token)}`;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    retry();
    return;
  }
  state.ws = ws;
  ws.addEventListener("open", () => {
    if (state.ws !== ws) return;
    state.wsAttempt = 0;
    setLive("live");
    scheduleRefresh(true); // catch up on whatever happened while disconnected
  });
  ws.addEventListener("message", (event) => {
    if (state.ws !== ws) return;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    onLive(data);
  });
  ws.addEventListener("close", (event) => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (event.code === 4401 || event.code === 4403) {
      signOut(t("login.expired"));
      return;
    }
    retry();
  });
  ws.addEventListener("error", () => {
    /* a close event follows */
  });
}

function retry() {
  if (!state.auth) return;
  setLive("polling");
  const delay = Math.min(30000, 1000 * 2 ** state.wsAttempt) * (0.8 + Math.random() * 0.4);
  state.wsAttempt = Math.min(state.wsAttempt + 1, 6);
  clearTimeout(state.wsTimer);
  state.wsTimer = setTimeout(connect, delay);
}

function stopLive() {
  clearTimeout(state.wsTimer);
  const ws = state.ws;
  state.ws = null;
  if (ws) {
    try {
      ws.close(1000);
    } catch {
      /* already closing */
    }
  }
}

function onLive(data) {
  if (presence.onLive(data)) return; // typing, read receipts: nothing to re-read
  if (data.type === "agent") {
    if (state.agent && data.status) {
      state.agent.status = data.status;
      renderAgent();
    }
    scheduleRefresh(false);
  } else if (data.type === "changed") {
    if (state.waiting) state.waiting.schedule(); // the queue and pool of the agent's groups, and the count
    if (data.waiting) return; // about a buyer waiting for the agent's groups, not one of theirs
    const mine = data.conversation_id && data.conversation_id === state.selected;
    if (data.event === "conversation.assigned") newBuyer(data.conversation_id);
    scheduleRefresh(Boolean(mine) || !data.conversation_id);
  }
}

function newBuyer(conversationId) {
  beep();
  flashTitle();
  if (conversationId) {
    state.flashing.add(conversationId);
    setTimeout(() => {
      state.flashing.delete(conversationId);
      const item = state.items.get(conversationId);
      if (item) item.classList.remove("flash");
    }, 4500);
  }
}

// ---------- sound and title ----------

let audio = null;
/** Audio may only start after a user gesture: the context is made (or resumed) on the first click or key. */
function unlockAudio() {
  try {
    if (!audio) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = new Ctx();
    }
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

function beep() {
  if (!audio || audio.state !== "running") return;
  try {
    const now = audio.currentTime;
    [[880, 0], [1175, 0.16]].forEach(([freq, at]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.18, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.14);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + at);
      osc.stop(now + at + 0.15);
    });
  } catch {
    /* no sound, the title and the item still flash */
  }
}

let titleTimer = null;
function flashTitle() {
  clearInterval(titleTimer);
  let on = false;
  let count = 0;
  const stop = () => {
    clearInterval(titleTimer);
    titleTimer = null;
    document.title = BASE_TITLE;
    window.removeEventListener("focus", stop);
  };
  titleTimer = setInterval(() => {
    on = !on;
    count += 1;
    document.title = on ? t("newBuyer.title") + BASE_TITLE : BASE_TITLE;
    if (count >= 20 || (count >= 6 && document.hasFocus())) stop();
  }, 800);
  if (!document.hasFocus()) window.addEventListener("focus", stop);
}

// ---------- wiring ----------

function wire() {
  translatePage(t);
  document.title = BASE_TITLE;
  $("#login-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", () => signOut(""));
  for (const button of document.querySelectorAll("#status-switch button")) {
    button.addEventListener("click", () => setStatus(button.dataset.status));
  }
  const input = $("#reply-input");
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send(false);
    }
  });
  input.addEventListener("input", () => {
    updateCount();
    presence.typed(input.value);
    if (state.confirmedText !== null && input.value.trim() !== state.confirmedText) hideWarnings();
  });
  $("#reply-send").addEventListener("click", () => send(false));
  wirePhotoSending({
    input, sendButton: $("#reply-send"), conversation: () => state.selected, token: () => state.auth && state.auth.token,
    sent: (id) => {
      if (state.selected === id) {
        state.messagesSig = "";
        loadMessages();
      }
      refreshList(false);
    },
  });
  $("#send-anyway").addEventListener("click", () => send(true));
  $("#warn-edit").addEventListener("click", () => {
    hideWarnings();
    input.focus();
  });
  $("#transfer-submit").addEventListener("click", transfer);
  $("#transfer-target").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) transfer();
  });
  $("#close-conv").addEventListener("click", closeConversation);
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, unlockAudio, { passive: true });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.auth) {
      state.messagesSig = ""; // in view again: what is on screen is read now
      scheduleRefresh(true);
    }
  });
  setLive("connecting");
  api("/api/v1/web/setup").then((setup) => show($("#login-demo"), Boolean(setup.demo) && !setup.agents)).catch(() => {});
}

const presence = createPresence({
  call, socket: () => state.ws, selected: () => state.selected, conv: (id) => state.convs.find((c) => c.conversation_id === id),
  repaint: (id) => {
    const conv = state.convs.find((c) => c.conversation_id === id);
    const item = state.items.get(id);
    if (conv && item) {
      fillItem(item, conv);
      tick();
    }
  },
});

wire();
resume();
