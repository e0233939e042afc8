// Who the buyer is, for the workbench and the dashboard: display name, where from, device, history, and how
// they were assigned. Everything here is text: callers put it in with textContent (el/setText), never HTML.
import { LANG, formatDuration, makeT } from "./common.js";

const STRINGS = {
  zh: {
    "buyer.name": "买家",
    "buyer.entry": "入口",
    "buyer.page": "来自页面",
    "buyer.card": "卡片",
    "buyer.device": "设备",
    "buyer.lang": "语言",
    "buyer.first": "首次咨询",
    "buyer.earlier": "此前会话",
    "buyer.earlierN": "{n} 次",
    "buyer.new": "新买家",
    "buyer.assigned": "接入方式",
    "entry.shop": "店铺首页",
    "entry.product": "商品页",
    "entry.order": "订单页",
    "entry.contacts": "联系人列表",
    "card.product": "商品卡片",
    "card.order": "订单卡片",
    "device.phone": "手机",
    "device.tablet": "平板",
    "device.desktop": "电脑",
    "lang.zh": "中文",
    "lang.en": "英文",
    "via.route": "自动分配",
    "via.queue": "排队后自动分配",
    "via.pool.auto": "离线留言自动分配",
    "via.pool.admin": "管理员从离线留言分配",
    "via.pool.agent": "{a} 从离线留言接入",
    "via.pool.self": "您从离线留言接入",
    "via.accept.admin": "管理员分配",
    "via.accept.agent": "{a} 从排队中接入",
    "via.accept.self": "您从排队中接入",
    "via.transfer": "同事转接",
    "via.reassign": "超时未回复，自动改派",
    "preview.card": "[{c}]",
    "reason.none": "未要求人工（离线留言）",
  },
  en: {
    "buyer.name": "Buyer",
    "buyer.entry": "Entry",
    "buyer.page": "Page",
    "buyer.card": "Card",
    "buyer.device": "Device",
    "buyer.lang": "Language",
    "buyer.first": "First contact",
    "buyer.earlier": "Earlier chats",
    "buyer.earlierN": "{n}",
    "buyer.new": "new buyer",
    "buyer.assigned": "Assigned",
    "entry.shop": "shop page",
    "entry.product": "product page",
    "entry.order": "order page",
    "entry.contacts": "contact list",
    "card.product": "Product card",
    "card.order": "Order card",
    "device.phone": "Phone",
    "device.tablet": "Tablet",
    "device.desktop": "Desktop",
    "lang.zh": "Chinese",
    "lang.en": "English",
    "via.route": "routed automatically",
    "via.queue": "from the queue, automatically",
    "via.pool.auto": "offline messages, auto-assigned",
    "via.pool.admin": "assigned by the admin from offline messages",
    "via.pool.agent": "taken by {a} from offline messages",
    "via.pool.self": "you took them from offline messages",
    "via.accept.admin": "assigned by the admin",
    "via.accept.agent": "taken by {a} from the queue",
    "via.accept.self": "you took them from the queue",
    "via.transfer": "transferred by a colleague",
    "via.reassign": "reassigned after no reply",
    "preview.card": "[{c}]",
    "reason.none": "did not ask for a person (offline message)",
  },
};

export const bt = makeT(STRINGS);

/** The name to show: the channel's name for the buyer, else the stable nickname (买家·7Q2K / Buyer·7Q2K). */
export function buyerName(view) {
  const b = view && view.buyer;
  if (!b) return (view && view.customer_id) || "";
  return (LANG === "zh" ? b.display_name : b.display_name_en) || b.display_name || view.customer_id;
}

function entryText(entry) {
  if (!entry) return "";
  const key = `entry.${entry}`;
  const label = bt(key);
  return label === key ? entry : label;
}

export function deviceText(device) {
  if (!device) return "";
  const kind = device.kind ? bt(`device.${device.kind}`) : "";
  return [kind, device.os, device.browser].filter(Boolean).join(" · ");
}

export function cardText(card) {
  return card ? `${bt(`card.${card.type}`)} ${card.id}` : "";
}

/** "The buyer's last message", shortened by the server; a card alone shows as [商品卡片]. */
export function previewText(view) {
  const m = view && view.last_message;
  if (!m) return "";
  if (m.text) return m.text;
  return m.card ? bt("preview.card", { c: cardText(m.card) }) : "";
}

/** How an agent got the buyer: routing, the queue, the pool's run, the admin, a colleague … */
export function assignedText(assigned, me) {
  if (!assigned) return "";
  const { via, by } = assigned;
  if (via === "pool" || via === "accept") {
    if (!by || by === "system auto-assign") return bt(via === "pool" ? "via.pool.auto" : "via.queue");
    if (by === "admin") return bt(`via.${via}.admin`);
    if (me && by === me) return bt(`via.${via}.self`);
    return bt(`via.${via}.agent`, { a: by });
  }
  const key = `via.${via}`;
  const label = bt(key);
  return label === key ? via || "" : label;
}

/** An ISO time in a named timezone: "HH:MM" today there, else "MM-DD HH:MM". */
export function formatInZone(iso, timeZone) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  let parts;
  try {
    const fmt = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    parts = Object.fromEntries(fmt.formatToParts(d).map((p) => [p.type, p.value]));
    const today = Object.fromEntries(fmt.formatToParts(new Date()).map((p) => [p.type, p.value]));
    const hm = `${parts.hour}:${parts.minute}`;
    const sameDay = parts.year === today.year && parts.month === today.month && parts.day === today.day;
    return sameDay ? hm : `${parts.month}-${parts.day} ${hm}`;
  } catch {
    return d.toISOString().slice(0, 16).replace("T", " ");
  }
}

/** [label, value] rows about the buyer, for a definition list (values are plain text). */
export function buyerRows(view, me) {
  const b = (view && view.buyer) || {};
  const earlier = typeof b.earlier_conversations === "number"
    ? (b.earlier_conversations ? bt("buyer.earlierN", { n: b.earlier_conversations }) : bt("buyer.new")) : "";
  const page = [b.page_title, b.page_url].filter(Boolean).join(" — ");
  return [
    [bt("buyer.name"), buyerName(view)],
    [bt("buyer.entry"), entryText(b.entry || (view && view.entry))],
    [bt("buyer.page"), page],
    [bt("buyer.card"), cardText(b.card)],
    [bt("buyer.lang"), b.lang || (view && view.lang) ? bt(`lang.${b.lang || view.lang}`) : ""],
    [bt("buyer.device"), deviceText(b.device)],
    [bt("buyer.first"), b.first_contact ? new Date(b.first_contact).toLocaleDateString(LANG === "zh" ? "zh-CN" : "en-GB") : ""],
    [bt("buyer.earlier"), earlier],
    [bt("buyer.assigned"), assignedText(view && view.assigned, me)],
  ].filter(([, v]) => v);
}

/** Seconds a waiting buyer has waited for a person, as the server measured plus the time since the read. */
export function waitedText(view, passed = 0) {
  const s = typeof view.wait_seconds === "number" ? view.wait_seconds : null;
  return s === null ? "" : formatDuration(s + passed);
}
