// Shared helpers for the agent workbench and the shop dashboard.
// No innerHTML anywhere: every piece of text goes in with textContent / text nodes.

/** "zh" unless the browser's preferred language is not Chinese ("?lang=en|zh" overrides, for tests). */
export function detectLang() {
  const forced = new URLSearchParams(location.search).get("lang");
  if (forced === "zh" || forced === "en") return forced;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "zh"];
  return String(langs[0] || "zh").toLowerCase().startsWith("zh") ? "zh" : "en";
}

export const LANG = detectLang();

/** Strings both pages use. */
const COMMON = {
  zh: {
    "err.network": "网络连接失败，请检查网络后重试",
    "err.unauthorized": "令牌无效或已过期，请重新登录",
    "err.forbidden": "没有权限执行此操作",
    "err.not_found": "未找到",
    "err.unavailable": "此功能暂不可用",
    "err.generic": "出错了（{status}）",
    "err.code.unknown_agent": "没有这个客服账号",
    "err.code.same_agent": "会话已经在这位客服名下",
    "err.code.agent_offline": "对方客服不在线",
    "err.code.agent_at_capacity": "对方客服已达接待上限",
    "err.code.unknown_group": "没有这个客服分组",
    "err.code.group_unavailable": "该分组暂无在线客服",
    "err.code.not_your_conversation": "这个会话不在您名下",
    "err.code.conversation_closed": "会话已结束",
    "err.code.not_with_humans": "只有人工接待中的会话才能转接",
    "err.code.not_waiting": "买家已不在排队或离线池中",
    "dur.s": "{s} 秒",
    "dur.ms": "{m} 分 {s} 秒",
    "dur.hm": "{h} 小时 {m} 分",
    "reason.requested": "买家要求转人工",
    "reason.angry": "买家情绪激动",
    "reason.card": "发送了商品/订单卡片",
    "reason.image": "发送了图片",
    "reason.repeated": "重复提问",
    "reason.faq_entry": "需人工处理的问题",
    "reason.low_confidence": "机器人没把握",
    "status.online": "在线",
    "status.suspended": "挂起",
    "status.offline": "离线",
    "signout": "退出登录",
    "loading": "加载中…",
    "retry": "重试",
  },
  en: {
    "err.network": "Network error — check the connection and try again",
    "err.unauthorized": "The token is invalid or has expired; please sign in again",
    "err.forbidden": "You are not allowed to do this",
    "err.not_found": "Not found",
    "err.unavailable": "This feature is not available yet",
    "err.generic": "Something went wrong ({status})",
    "err.code.unknown_agent": "There is no agent with this id",
    "err.code.same_agent": "The conversation is already with this agent",
    "err.code.agent_offline": "That agent is offline",
    "err.code.agent_at_capacity": "That agent is at their maximum",
    "err.code.unknown_group": "There is no such agent group",
    "err.code.group_unavailable": "Nobody in that group is online",
    "err.code.not_your_conversation": "This conversation is not assigned to you",
    "err.code.conversation_closed": "The conversation is closed",
    "err.code.not_with_humans": "Only conversations with the agents can be transferred",
    "err.code.not_waiting": "The buyer is no longer queued or in the pool",
    "dur.s": "{s}s",
    "dur.ms": "{m}m {s}s",
    "dur.hm": "{h}h {m}m",
    "reason.requested": "Asked for a human",
    "reason.angry": "Upset buyer",
    "reason.card": "Sent a product/order card",
    "reason.image": "Sent a photo",
    "reason.repeated": "Repeated question",
    "reason.faq_entry": "Needs a human",
    "reason.low_confidence": "Bot unsure",
    "status.online": "Online",
    "status.suspended": "Suspended",
    "status.offline": "Offline",
    "signout": "Sign out",
    "loading": "Loading…",
    "retry": "Retry",
  },
};

/** A translator over the page's own dictionary {zh: {...}, en: {...}} and the common strings. */
export function makeT(pageDict) {
  const table = { ...COMMON[LANG], ...(pageDict[LANG] || {}) };
  const fallback = { ...COMMON.zh, ...(pageDict.zh || {}) };
  return function t(key, vars) {
    let s = key in table ? table[key] : key in fallback ? fallback[key] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    return s;
  };
}

const t = makeT({});

/** Apply translations to static markup: data-i18n (text), data-i18n-placeholder, data-i18n-title. */
export function translatePage(tr) {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = tr(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.setAttribute("placeholder", tr(node.dataset.i18nPlaceholder));
  }
  for (const node of document.querySelectorAll("[data-i18n-title]")) {
    node.setAttribute("title", tr(node.dataset.i18nTitle));
  }
}

/** An API failure: HTTP status, the server's error code and a message fit to show. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * fetch() with a bearer token and JSON in and out. Resolves to the parsed JSON body;
 * rejects with ApiError (status 0 and code "network" when the server cannot be reached).
 */
export async function api(path, { method = "GET", body, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, signal, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", t("err.network"));
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, errorText(response.status, error));
  }
  return data || {};
}

function errorText(status, error) {
  if (status === 401) return t("err.unauthorized");
  if (error.code && `err.code.${error.code}` in COMMON[LANG]) return t(`err.code.${error.code}`);
  if (status === 404 && !error.code) return t("err.unavailable");
  if (error.message) return error.message;
  if (status === 403) return t("err.forbidden");
  return t("err.generic", { status });
}

/**
 * Make an element. attrs: class, text (textContent), testid (data-testid), dataset {}, on {event: fn},
 * any other key becomes an attribute (false/null/undefined skipped, true → empty attribute).
 * Children: nodes, strings (text nodes) or null.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** An SVG element (for the dashboard's chart). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.setAttribute("class", value);
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Set text safely. */
export function setText(node, text) {
  node.textContent = text === null || text === undefined ? "" : String(text);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(node, visible = true) {
  node.hidden = !visible;
  return node;
}

/** 42 → "42 秒", 125 → "2 分 5 秒", 4000 → "1 小时 6 分". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Math.abs(seconds)));
  if (s < 60) return t("dur.s", { s });
  if (s < 3600) return t("dur.ms", { m: Math.floor(s / 60), s: s % 60 });
  return t("dur.hm", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

/** 125 → "2:05", −7 → "-0:07". */
export function formatClock(seconds) {
  const neg = seconds < 0;
  const s = Math.floor(Math.abs(seconds));
  return `${neg ? "-" : ""}${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** An ISO time as the local "HH:MM" (today) or "MM-DD HH:MM". */
export function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const hm = d.toLocaleTimeString(LANG === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return hm;
  const md = `${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  return `${md} ${hm}`;
}

export function formatPercent(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return `${Math.round(value * 1000) / 10}%`;
}

/** The server's two-language texts ("中文 / English"): the page's half. */
export function bilingual(text) {
  if (typeof text !== "string") return text;
  const parts = text.split(/\s*\/\s+(?=[A-Za-z])/);
  if (parts.length !== 2) return text;
  return (LANG === "zh" ? parts[0] : parts[1]).trim();
}

/** The label of a handover reason (plugins' own reasons are shown as they are). */
export function reasonLabel(reason) {
  if (!reason) return "";
  const key = `reason.${reason}`;
  const label = t(key);
  return label === key ? reason : label;
}

export function statusLabel(status) {
  return t(`status.${status}`);
}

/** sessionStorage with JSON, tolerant of private modes that refuse storage. */
export const session = {
  get(key) {
    try {
      const raw = sessionStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* storage refused: the sign-in lasts until reload */
    }
  },
  remove(key) {
    try {
      sessionStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

/** Run fn every `ms` and when the tab becomes visible again; returns a stop function. */
export function every(ms, fn) {
  const id = setInterval(() => {
    if (!document.hidden) fn();
  }, ms);
  const onVisible = () => {
    if (!document.hidden) fn();
  };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    clearInterval(id);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

let toastTimer = null;
/** A short notice in the page's #toast element; `kind` is "" or "error". */
export function toast(text, kind = "") {
  const node = $("#toast");
  setText(node, text);
  node.className = `toast ${kind}`;
  show(node);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => show(node, false), 3500);
}

/** The text to show for an error of any kind. */
export const errText = (err) => (err && err.message) || String(err);

/** Show a failed call's error, except a lost sign-in (the page handles that by signing out). */
export function reportError(err) {
  if (!(err instanceof ApiError && err.status === 401)) toast(errText(err), "error");
}
