/*
 * reception — the buyer's chat widget (webchat channel).
 *
 * One tag adds a chat button and a chat panel to any page:
 *     <script src="https://your-reception-server/static/widget.js" defer></script>
 * The server is the origin of this script's own src, so a shop on another
 * origin works. Everything lives in an open shadow DOM: the shop's CSS cannot
 * reach in and ours cannot leak out. Plain ES2020, no dependencies, no build.
 *
 * Protocol: docs/web-api.md, "Chat widget (webchat channel)".
 *   POST /api/v1/webchat/session {token?} -> {customer_id, token, expires_at, renewed}
 *   WS   /api/v1/webchat/ws?token=…  (4401 = bad token)
 *        -> sync {after}   <- message… synced {status}
 *        -> message {client_id, text?, card?}   <- message (echo, replies…) status {status, handover}
 *        <- error {code, message, client_id?}
 *
 *   POST /api/v1/webchat/images?client_id=…  (Authorization: Bearer <token>, the photo as the body)
 *        the photo becomes the buyer's message; its copy comes back over the socket with `image`
 *   GET  /api/v1/media/{id}[/thumb]  (Authorization: Bearer <token>): a photo, shown as a blob: URL
 *
 * Shops and tests: window.receptionWidget = { open(), close(), toggle(), send(text), sendPhoto(file) }.
 * Every text is inserted with textContent, never innerHTML.
 */
(() => {
  'use strict';

  if (window.receptionWidget && window.receptionWidget.version) return; // loaded twice

  const VERSION = '1.0';
  const MAX_TEXT = 4000; // characters (the server's limit)
  const HISTORY_KEEP = 200; // messages kept in localStorage for an instant render after a reload
  const SYNC_PAGE = 500; // the server sends at most this many messages per sync
  const BACKOFF_MIN = 500;
  const BACKOFF_MAX = 10000;

  // -- where the server is, which language -------------------------------------------------
  const script = document.currentScript ||
    Array.from(document.getElementsByTagName('script')).reverse()
      .find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src || ''));
  let SERVER;
  try {
    SERVER = new URL(script && script.src ? script.src : '/', location.href).origin;
  } catch (_) {
    SERVER = location.origin;
  }
  const WS_BASE = SERVER.replace(/^http/i, 'ws');

  const pageLang = (document.documentElement.getAttribute('lang') || '').trim().toLowerCase();
  const LANG = !pageLang || pageLang.startsWith('zh') ? 'zh' : 'en';

  const TEXTS = {
    zh: {
      title: '在线客服',
      openChat: '在线客服',
      closeChat: '关闭聊天窗口',
      messages: '聊天记录',
      placeholder: '输入消息…',
      inputLabel: '输入消息',
      send: '发送',
      bot: '机器人',
      agent: '客服',
      system: '系统',
      servedBy: (name) => `客服 ${name} 为您服务`,
      status: { bot: '智能客服', queued: '排队中', assigned: '人工客服', offline: '留言已保存', closed: '服务已结束' },
      connecting: '连接中…',
      reconnecting: '连接已断开，正在重连…',
      handover: '正在为您转接人工客服',
      agentTyping: '客服正在输入…',
      smaller: '缩小窗口',
      larger: '放大窗口',
      sending: '发送中…',
      failed: '发送失败',
      unread: (n) => `${n} 条新消息`,
      emptyTitle: '您好，欢迎光临',
      emptyText: '有什么可以帮您？物流、退换货、尺码规格都可以问我～',
      rateLabel: '请为本次服务评价',
      ratings: ['满意', '一般', '不满意'],
      product: '商品',
      order: '订单',
      productNo: '商品编号：',
      orderNo: '订单号：',
      tooLong: `消息太长了，请控制在 ${MAX_TEXT} 字以内`,
      errorGeneric: '消息发送失败，请稍后再试',
      photo: '图片',
      attach: '发送图片',
      openPhoto: '查看大图',
      closePhoto: '关闭图片',
      uploading: (p) => `上传中 ${p}%`,
      photoFailed: '图片发送失败',
      photoErrors: {
        image_too_large: '图片太大了，请发送 10 MB 以内的图片',
        unsupported_image_type: '只能发送 JPEG、PNG、WebP 或 HEIC 图片',
        not_an_image: '这个文件不是图片，请重新选择',
        invalid_image: '图片已损坏，无法读取，请重新选择',
        image_too_many_pixels: '图片尺寸太大了，请压缩后再发送',
        too_many_photos: '图片发得太快了，请稍等一会儿再发',
      },
      errors: {
        invalid_message: '这条消息无法发送，请修改后再试',
        invalid_frame: '这条消息无法发送，请修改后再试',
        message_id_conflict: '消息发送失败，请重新发送',
      },
    },
    en: {
      title: 'Chat with us',
      openChat: 'Chat with us',
      closeChat: 'Close chat',
      messages: 'Conversation',
      placeholder: 'Type a message…',
      inputLabel: 'Type a message',
      send: 'Send',
      bot: 'Bot',
      agent: 'Agent',
      system: 'System',
      servedBy: (name) => `${name} is here to help`,
      status: { bot: 'Assistant', queued: 'In queue', assigned: 'Agent', offline: 'Message saved', closed: 'Chat ended' },
      connecting: 'Connecting…',
      reconnecting: 'Reconnecting…',
      handover: 'Connecting you to an agent',
      agentTyping: 'The agent is typing…',
      smaller: 'Make the window smaller',
      larger: 'Make the window larger',
      sending: 'Sending…',
      failed: 'Not sent',
      unread: (n) => `${n} new message${n === 1 ? '' : 's'}`,
      emptyTitle: 'Hi there!',
      emptyText: 'How can we help? Ask about delivery, returns, sizes and more.',
      rateLabel: 'Please rate this chat',
      ratings: ['Satisfied', 'Neutral', 'Dissatisfied'],
      product: 'Product',
      order: 'Order',
      productNo: 'Item ',
      orderNo: 'Order ',
      tooLong: `This message is too long (at most ${MAX_TEXT} characters).`,
      errorGeneric: 'The message could not be sent. Please try again.',
      photo: 'Photo',
      attach: 'Send a photo',
      openPhoto: 'View full size',
      closePhoto: 'Close photo',
      uploading: (p) => `Uploading ${p}%`,
      photoFailed: 'The photo was not sent',
      photoErrors: {
        image_too_large: 'This photo is too large. Please send one under 10 MB.',
        unsupported_image_type: 'Only JPEG, PNG, WebP or HEIC photos can be sent.',
        not_an_image: 'This file is not a photo. Please choose another.',
        invalid_image: 'This photo is damaged and cannot be read. Please choose another.',
        image_too_many_pixels: 'This photo is too large. Please make it smaller and try again.',
        too_many_photos: 'Too many photos at once. Please wait a moment before sending another.',
      },
      errors: {
        invalid_message: 'This message could not be sent. Please change it and try again.',
        invalid_frame: 'This message could not be sent. Please change it and try again.',
        message_id_conflict: 'The message could not be sent. Please send it again.',
      },
    },
  };
  const T = TEXTS[LANG];
  const SENDERS = new Set(['buyer', 'bot', 'agent', 'system']);

  // -- storage (localStorage may be unavailable: private mode, blocked cookies) -----------------
  const KEY_TOKEN = 'reception.webchat.token';
  const KEY_OUTBOX = 'reception.webchat.outbox';
  const keySeq = (t) => `reception.webchat.seq.${t}`;
  const keyHistory = (t) => `reception.webchat.history.${t}`;
  const keyRated = (t) => `reception.webchat.rated.${t}`; // rating requests answered from their buttons
  const storage = {
    get(key) { try { return window.localStorage.getItem(key); } catch (_) { return null; } },
    set(key, value) { try { window.localStorage.setItem(key, value); } catch (_) { /* full or blocked */ } },
    del(key) { try { window.localStorage.removeItem(key); } catch (_) { /* blocked */ } },
    json(key, fallback) {
      try { const v = JSON.parse(this.get(key) || 'null'); return v == null ? fallback : v; } catch (_) { return fallback; }
    },
  };

  function uuid() {
    try {
      if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    } catch (_) { /* insecure context */ }
    const b = new Uint8Array(16);
    if (window.crypto && typeof window.crypto.getRandomValues === 'function') window.crypto.getRandomValues(b);
    else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  // -- DOM helpers (text only ever through textContent / text nodes) --------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c == null || c === false) continue;
      el.append(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(size, shapes, attrs) {
    const el = document.createElementNS(SVG_NS, 'svg');
    el.setAttribute('viewBox', '0 0 24 24');
    el.setAttribute('width', String(size));
    el.setAttribute('height', String(size));
    el.setAttribute('aria-hidden', 'true');
    el.setAttribute('focusable', 'false');
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const [tag, a] of shapes) {
      const s = document.createElementNS(SVG_NS, tag);
      for (const [k, v] of Object.entries(a)) s.setAttribute(k, v);
      el.append(s);
    }
    return el;
  }
  const iconChat = () => svg(30, [
    ['path', { d: 'M12 3.2c-5 0-9 3.4-9 7.7 0 2.4 1.3 4.6 3.3 6l-.6 3.2c-.1.5.4.9.9.7l3.6-1.7c.6.1 1.2.2 1.8.2 5 0 9-3.4 9-7.7S17 3.2 12 3.2z', fill: 'currentColor' }],
    ['circle', { cx: '8', cy: '11', r: '1.3', fill: '#ff5000' }],
    ['circle', { cx: '12', cy: '11', r: '1.3', fill: '#ff5000' }],
    ['circle', { cx: '16', cy: '11', r: '1.3', fill: '#ff5000' }],
  ]);
  const iconClose = (size) => svg(size, [
    ['path', { d: 'M6 6l12 12M18 6L6 18', stroke: 'currentColor', 'stroke-width': '2.2', 'stroke-linecap': 'round', fill: 'none' }],
  ]);
  const iconDown = () => svg(28, [
    ['path', { d: 'M6 9.5l6 6 6-6', stroke: 'currentColor', 'stroke-width': '2.4', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', fill: 'none' }],
  ]);
  const iconHeadset = () => svg(24, [
    ['path', { d: 'M4.5 13.5v-2a7.5 7.5 0 0 1 15 0v2', stroke: 'currentColor', 'stroke-width': '2', fill: 'none', 'stroke-linecap': 'round' }],
    ['rect', { x: '3.5', y: '12.5', width: '4', height: '6.5', rx: '1.6', fill: 'currentColor' }],
    ['rect', { x: '16.5', y: '12.5', width: '4', height: '6.5', rx: '1.6', fill: 'currentColor' }],
    ['path', { d: 'M18.5 19c0 1.4-1.6 2.3-4.5 2.3', stroke: 'currentColor', 'stroke-width': '1.6', fill: 'none', 'stroke-linecap': 'round' }],
  ]);

  const stroke = { stroke: 'currentColor', 'stroke-width': '1.8', fill: 'none', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' };
  const iconFace = (i) => svg(16, [
    ['circle', { cx: '12', cy: '12', r: '9', ...stroke }],
    ['circle', { cx: '9', cy: '10', r: '1.1', fill: 'currentColor' }],
    ['circle', { cx: '15', cy: '10', r: '1.1', fill: 'currentColor' }],
    ['path', { d: ['M8 14.5c1 1.4 2.4 2 4 2s3-.6 4-2', 'M8.5 15.5h7', 'M8 16.5c1-1.4 2.4-2 4-2s3 .6 4 2'][i], ...stroke }],
  ]);
  const iconClock = () => svg(18, [
    ['circle', { cx: '12', cy: '12', r: '9', ...stroke }],
    ['path', { d: 'M12 7v5l3 2', ...stroke }],
  ]);
  const iconNote = () => svg(18, [
    ['path', { d: 'M6 3.5h9l3.5 3.5v13.5H6z', ...stroke }],
    ['path', { d: 'M9 11h6M9 14.5h6M9 18h3.5', ...stroke }],
  ]);
  const iconBag = () => svg(22, [
    ['path', { d: 'M5 8h14l-1 12.5H6z', ...stroke }],
    ['path', { d: 'M9 10V7a3 3 0 0 1 6 0v3', ...stroke }],
  ]);
  const iconBox = () => svg(22, [
    ['path', { d: 'M12 3l8 4v10l-8 4-8-4V7z', ...stroke }],
    ['path', { d: 'M4 7l8 4 8-4M12 11v10', ...stroke }],
  ]);
  const iconPhoto = () => svg(22, [
    ['rect', { x: '3.5', y: '5', width: '17', height: '14', rx: '2.5', ...stroke }],
    ['circle', { cx: '9', cy: '10', r: '1.6', ...stroke }],
    ['path', { d: 'M4 17l5-4.5 3.5 3 3-2.5 4.5 4', ...stroke }],
  ]);
  const iconWave = () => svg(34, [
    ['path', { d: 'M12 3.2c-5 0-9 3.4-9 7.7 0 2.4 1.3 4.6 3.3 6l-.6 3.2c-.1.5.4.9.9.7l3.6-1.7c.6.1 1.2.2 1.8.2 5 0 9-3.4 9-7.7S17 3.2 12 3.2z', fill: 'currentColor' }],
    ['circle', { cx: '8', cy: '11', r: '1.3', fill: '#fff' }],
    ['circle', { cx: '12', cy: '11', r: '1.3', fill: '#fff' }],
    ['circle', { cx: '16', cy: '11', r: '1.3', fill: '#fff' }],
  ]);

  function clock(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }

  // -- styles -------------------------------------------------------------------------------
  const CSS = `
:host { all: initial; }
.rw {
  --rw-accent: #ff5000;
  --rw-accent-2: #ff7a1a;
  --rw-accent-soft: #fff3eb;
  --rw-text: #1f2329;
  --rw-muted: #8a8f99;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    Roboto, "Helvetica Neue", Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji";
  font-size: 14px; line-height: 1.5; color: var(--rw-text); text-align: left; direction: ltr;
  -webkit-font-smoothing: antialiased; -webkit-text-size-adjust: 100%; letter-spacing: normal;
}
.rw *, .rw *::before, .rw *::after { box-sizing: border-box; }
.rw button, .rw textarea { font: inherit; margin: 0; }
.rw textarea { color: var(--rw-text); }
.rw [hidden] { display: none !important; }

.rw-button {
  position: fixed; right: 24px; bottom: 24px; width: 60px; height: 60px; padding: 0;
  border: 0; border-radius: 50%; cursor: pointer; color: #fff;
  background: linear-gradient(135deg, var(--rw-accent-2), var(--rw-accent));
  box-shadow: 0 8px 24px rgba(255, 80, 0, .35), 0 2px 6px rgba(0, 0, 0, .12);
  display: flex; align-items: center; justify-content: center;
  transition: transform .18s ease, box-shadow .18s ease;
}
.rw-button:hover { transform: translateY(-2px); box-shadow: 0 12px 28px rgba(255, 80, 0, .42), 0 2px 6px rgba(0, 0, 0, .12); }
.rw-button:active { transform: scale(.96); }
.rw-button:focus-visible { outline: 3px solid #ffc2a3; outline-offset: 3px; }
.rw-button .rw-icon-close { display: none; }
.rw-open .rw-button .rw-icon-chat { display: none; }
.rw-open .rw-button .rw-icon-close { display: block; }
.rw-badge {
  position: absolute; top: -3px; right: -3px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; border: 2px solid #fff; background: #e4002b; color: #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center;
}

.rw-panel {
  position: fixed; right: 24px; bottom: 96px; width: 340px;
  height: 560px; max-height: calc(100vh - 120px);
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 16px;
  box-shadow: 0 16px 48px rgba(0, 0, 0, .18), 0 2px 10px rgba(0, 0, 0, .08);
  transform-origin: bottom right; animation: rw-pop .2s ease-out;
}
/* transform only: a page in the background may never finish an animation, and the panel must stay opaque */
@keyframes rw-pop { from { transform: translateY(10px) scale(.985); } to { transform: none; } }

.rw-header {
  flex: none; display: flex; align-items: center; gap: 12px; padding: 14px 12px 14px 16px; color: #fff;
  background: linear-gradient(120deg, var(--rw-accent-2) 0%, var(--rw-accent) 70%);
}
.rw-avatar {
  flex: none; width: 40px; height: 40px; border-radius: 50%;
  display: flex; align-items: center; justify-content: center;
  background: rgba(255, 255, 255, .22); color: #fff;
}
.rw-heading { flex: 1; min-width: 0; }
.rw-title { margin: 0; font-size: 16px; font-weight: 600; line-height: 1.3; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.rw-status { display: flex; align-items: center; gap: 6px; margin-top: 2px; font-size: 12px; opacity: .95; }
.rw-dot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: #52e07a; box-shadow: 0 0 0 2px rgba(255, 255, 255, .35); }
.rw-dot[data-state="queued"] { background: #ffe066; }
.rw-dot[data-state="offline"], .rw-dot[data-state="closed"] { background: #d9d9d9; }
.rw-dot[data-state="connecting"], .rw-dot[data-state="reconnecting"] { background: #d9d9d9; animation: rw-blink 1s ease-in-out infinite; }
@keyframes rw-blink { 50% { opacity: .3; } }
.rw-close {
  flex: none; width: 36px; height: 36px; padding: 0; border: 0; border-radius: 50%; cursor: pointer;
  display: flex; align-items: center; justify-content: center; background: transparent; color: #fff;
}
.rw-close:hover { background: rgba(255, 255, 255, .18); }
.rw-close:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }

.rw-body { flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain; background: #f5f6f7; padding: 16px 14px 8px; }
.rw-list { display: flex; flex-direction: column; gap: 14px; }
.rw-empty { margin: 28px 12px 8px; text-align: center; color: var(--rw-muted); }
.rw-empty-icon {
  width: 64px; height: 64px; margin: 0 auto 12px; border-radius: 50%;
  display: flex; align-items: center; justify-content: center; color: var(--rw-accent); background: var(--rw-accent-soft);
}
.rw-empty-title { margin: 0 0 4px; font-size: 16px; font-weight: 600; color: var(--rw-text); }
.rw-empty-text { margin: 0; font-size: 13px; }

.rw-msg { display: flex; flex-direction: column; align-items: flex-start; max-width: 100%; }
.rw-msg[data-sender="buyer"] { align-items: flex-end; }
.rw-meta { display: flex; gap: 6px; margin: 0 4px 4px; font-size: 12px; line-height: 1.3; color: var(--rw-muted); }
.rw-label { font-weight: 500; color: #5c626b; }
.rw-msg[data-sender="agent"] .rw-label { color: #d94400; }
.rw-bubble {
  max-width: 80%; padding: 9px 13px; border-radius: 16px; border-top-left-radius: 4px;
  background: #fff; box-shadow: 0 1px 2px rgba(0, 0, 0, .06);
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.rw-msg[data-sender="system"] .rw-bubble { background: #eef0f3; box-shadow: none; color: #464b53; }
.rw-msg[data-sender="buyer"] .rw-bubble {
  background: linear-gradient(135deg, var(--rw-accent-2), var(--rw-accent)); color: #fff;
  border-top-left-radius: 16px; border-top-right-radius: 4px; box-shadow: 0 1px 3px rgba(255, 80, 0, .25);
}
.rw-msg[data-state="sending"] .rw-bubble { opacity: .65; }
.rw-msg[data-state="failed"] .rw-bubble { opacity: .65; background: #b8bcc4; }
.rw-msg .rw-text + .rw-card { margin-top: 8px; }
.rw-foot { margin: 3px 4px 0; font-size: 11px; line-height: 1.3; color: var(--rw-muted); }
.rw-msg[data-state="failed"] .rw-foot { color: #d4380d; }

.rw-notice-row { align-items: center; }
.rw-notice {
  display: flex; gap: 8px; align-items: flex-start; max-width: 94%; padding: 9px 12px;
  background: var(--rw-accent-soft); border: 1px solid #ffd4bd; border-radius: 10px;
  color: #a23a00; font-size: 13px; line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere;
}
.rw-notice-icon { flex: none; display: flex; padding-top: 1px; }

.rw-card {
  display: flex; align-items: center; gap: 10px; min-width: 190px; padding: 8px 10px;
  background: #fff; color: var(--rw-text); border: 1px solid #ececec; border-radius: 10px; white-space: normal;
}
.rw-card-icon {
  flex: none; width: 40px; height: 40px; border-radius: 8px; background: var(--rw-accent-soft);
  display: flex; align-items: center; justify-content: center; color: var(--rw-accent);
}
.rw-card-body { display: flex; flex-direction: column; min-width: 0; }
.rw-card-title { font-size: 13px; font-weight: 600; }
.rw-card-id { font-size: 12px; color: var(--rw-muted); overflow-wrap: anywhere; }

.rw-rating { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.rw-rate {
  display: inline-flex; align-items: center; gap: 5px; padding: 6px 14px 6px 11px; cursor: pointer;
  border: 1px solid var(--rw-accent); border-radius: 999px; background: #fff; color: var(--rw-accent);
  font-size: 13px; line-height: 1.3; transition: background .15s ease, color .15s ease;
}
.rw-rate:hover { background: var(--rw-accent); color: #fff; }
.rw-rate:focus-visible { outline: 2px solid #ffc2a3; outline-offset: 2px; }

.rw-handover { display: flex; justify-content: center; margin: 14px 0 4px; }
.rw-handover > span {
  display: inline-flex; align-items: center; gap: 6px; padding: 5px 12px; border-radius: 999px;
  background: #fff; color: #a23a00; font-size: 12px; box-shadow: 0 1px 2px rgba(0, 0, 0, .06);
}
.rw-dots { display: inline-flex; gap: 3px; }
.rw-dots i { width: 4px; height: 4px; border-radius: 50%; background: currentColor; animation: rw-bounce 1.2s infinite ease-in-out; }
.rw-dots i:nth-child(2) { animation-delay: .15s; }
.rw-dots i:nth-child(3) { animation-delay: .3s; }
@keyframes rw-bounce { 0%, 80%, 100% { opacity: .3; transform: none; } 40% { opacity: 1; transform: translateY(-2px); } }

.rw-footer { flex: none; padding: 10px 12px 12px; background: #fff; border-top: 1px solid #eceef1; }
.rw-compose { display: flex; align-items: flex-end; gap: 8px; }
.rw-input {
  flex: 1; min-width: 0; height: 40px; max-height: 120px; resize: none; display: block;
  padding: 9px 14px; border: 1px solid #e3e5e8; border-radius: 20px; background: #f5f6f7;
  font-size: 14px; line-height: 20px; outline: none; transition: border-color .15s ease, background .15s ease;
}
.rw-input::placeholder { color: #a0a5ad; }
.rw-input:focus { border-color: var(--rw-accent); background: #fff; }
.rw-send {
  flex: none; height: 40px; padding: 0 18px; border: 0; border-radius: 20px; cursor: pointer;
  background: var(--rw-accent); color: #fff; font-weight: 600; white-space: nowrap;
  transition: background .15s ease, opacity .15s ease;
}
.rw-send:hover { background: #e84800; }
.rw-send:focus-visible { outline: 3px solid #ffc2a3; outline-offset: 2px; }
.rw-send[data-empty] { opacity: .55; }
.rw-error { margin: 6px 6px 0; font-size: 12px; line-height: 1.4; color: #d4380d; }

.rw-attach {
  flex: none; width: 40px; height: 40px; padding: 0; border: 0; border-radius: 50%; cursor: pointer;
  display: flex; align-items: center; justify-content: center; background: #f5f6f7; color: #5c626b;
}
.rw-attach:hover { background: var(--rw-accent-soft); color: var(--rw-accent); }
.rw-attach:focus-visible { outline: 3px solid #ffc2a3; outline-offset: 2px; }
.rw-photo {
  display: block; padding: 0; border: 0; margin: 0; border-radius: 12px; overflow: hidden; cursor: zoom-in;
  background: #e9ebee; max-width: 100%;
}
.rw-text + .rw-photo, .rw-photo + .rw-text { margin-top: 8px; }
.rw-bubble-photo { padding: 4px; }
.rw-photo img { display: block; width: 200px; max-width: 100%; height: auto; min-height: 48px; object-fit: cover; }
.rw-progress { position: relative; height: 4px; margin-top: 6px; border-radius: 2px; background: rgba(255, 255, 255, .45); overflow: hidden; }
.rw-progress > i { position: absolute; inset: 0 auto 0 0; width: 0; background: #fff; transition: width .15s linear; }
.rw-panel[data-drop] .rw-body { outline: 3px dashed var(--rw-accent); outline-offset: -8px; }
.rw-drop { position: absolute; inset: auto 0 88px 0; text-align: center; color: var(--rw-accent); font-weight: 600; pointer-events: none; }
.rw-viewer {
  position: absolute; inset: 0; z-index: 5; display: flex; align-items: center; justify-content: center;
  padding: 52px 12px 12px; background: rgba(15, 18, 22, .9);
}
.rw-viewer img { max-width: 100%; max-height: 100%; object-fit: contain; border-radius: 6px; background: #fff; }
.rw-viewer .rw-close { position: absolute; top: 8px; right: 8px; }

.rw-panel[data-size="compact"] { width: 320px; height: 400px; }
.rw-size { margin-right: -4px; }
.rw-typing { display: flex; margin: 6px 0 2px; }
.rw-typing > span {
  display: inline-flex; align-items: center; gap: 6px; padding: 6px 12px; border-radius: 16px;
  border-top-left-radius: 4px; background: #fff; color: var(--rw-muted); font-size: 12px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, .06);
}

@media (max-width: 479.98px) {
  .rw-size { display: none; }
  .rw-panel[data-size="compact"] { width: 100%; height: 100%; }
  .rw-panel { inset: 0; width: 100%; height: 100%; max-height: none; border-radius: 0; animation: none; }
  .rw-open .rw-button { display: none; }
  .rw-button { right: 16px; bottom: 16px; width: 56px; height: 56px; }
  .rw-header { padding-top: max(14px, env(safe-area-inset-top)); }
  .rw-footer { padding-bottom: max(12px, env(safe-area-inset-bottom)); }
  .rw-input { font-size: 16px; } /* no zoom-on-focus on iOS */
  .rw-photo img { width: 180px; }
}
@media (max-height: 520px) and (min-width: 480px) {
  .rw-panel { bottom: 92px; max-height: calc(100vh - 104px); }
}
@media (prefers-reduced-motion: reduce) {
  .rw-panel, .rw-dots i, .rw-dot { animation: none !important; }
  .rw-button { transition: none; }
}
`;

  // -- the DOM ------------------------------------------------------------------------------
  // Styles go through the CSSOM (style.setProperty, adoptedStyleSheets), which a shop's
  // Content-Security-Policy without 'unsafe-inline' styles still allows; <style> is the fallback.
  const host = document.createElement('reception-widget');
  for (const [prop, value] of [
    ['all', 'initial'], ['display', 'block'], ['position', 'fixed'], ['right', '0'], ['bottom', '0'],
    ['width', '0'], ['height', '0'], ['margin', '0'], ['padding', '0'], ['border', '0'], ['overflow', 'visible'],
    ['z-index', '2147483000'], ['visibility', 'visible'], ['opacity', '1'], ['transform', 'none'],
    ['filter', 'none'], ['pointer-events', 'auto'],
  ]) host.style.setProperty(prop, value, 'important');
  const shadow = host.attachShadow({ mode: 'open' });
  let adopted = false;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
    adopted = true;
  } catch (_) { /* older browser */ }
  if (!adopted) shadow.append(h('style', { text: CSS }));

  const badge = h('span', { class: 'rw-badge', hidden: true, 'aria-hidden': 'true', 'data-testid': 'rw-badge' });
  const button = h('button', {
    type: 'button', class: 'rw-button', 'data-testid': 'rw-button', 'aria-label': T.openChat, title: T.openChat,
    'aria-expanded': 'false', 'aria-controls': 'rw-panel', 'aria-haspopup': 'dialog',
  });
  const chatIcon = iconChat();
  chatIcon.classList.add('rw-icon-chat');
  const downIcon = iconDown();
  downIcon.classList.add('rw-icon-close');
  button.append(chatIcon, downIcon, badge);

  const title = h('h2', { class: 'rw-title', id: 'rw-title', 'data-testid': 'rw-title', text: T.title });
  const statusDot = h('span', { class: 'rw-dot', 'aria-hidden': 'true', 'data-state': 'bot' });
  const statusText = h('span', { 'data-testid': 'rw-status', class: 'rw-status-text', text: T.status.bot });
  const statusLine = h('div', { class: 'rw-status', role: 'status', 'aria-live': 'polite' }, statusDot, statusText);
  const closeBtn = h('button', {
    type: 'button', class: 'rw-close', 'data-testid': 'rw-close', 'aria-label': T.closeChat, title: T.closeChat,
  }, iconClose(22));
  const sizeBtn = h('button', {
    type: 'button', class: 'rw-close rw-size', 'data-testid': 'rw-size', 'aria-label': T.smaller, title: T.smaller,
    'aria-pressed': 'false',
  }, svg(20, [['path', { d: 'M5 12h14', stroke: 'currentColor', 'stroke-width': '2.2', 'stroke-linecap': 'round', fill: 'none' }]]));
  const header = h('div', { class: 'rw-header' },
    h('span', { class: 'rw-avatar' }, iconHeadset()),
    h('div', { class: 'rw-heading' }, title, statusLine),
    sizeBtn, closeBtn);

  const empty = h('div', { class: 'rw-empty', 'data-testid': 'rw-empty' },
    h('div', { class: 'rw-empty-icon' }, iconWave()),
    h('p', { class: 'rw-empty-title', text: T.emptyTitle }),
    h('p', { class: 'rw-empty-text', text: T.emptyText }));
  const list = h('div', {
    class: 'rw-list', 'data-testid': 'rw-messages', role: 'log', 'aria-live': 'polite', 'aria-label': T.messages,
  });
  const handover = h('div', { class: 'rw-handover', 'data-testid': 'rw-handover', hidden: true },
    h('span', null, T.handover, h('span', { class: 'rw-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'))));
  const typingRow = h('div', { class: 'rw-typing', 'data-testid': 'rw-typing', hidden: true, 'aria-live': 'polite' },
    h('span', null, T.agentTyping, h('span', { class: 'rw-dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'))));
  const body = h('div', { class: 'rw-body' }, empty, list, typingRow, handover);

  const input = h('textarea', {
    class: 'rw-input', 'data-testid': 'rw-input', rows: '1', placeholder: T.placeholder, 'aria-label': T.inputLabel,
    enterkeyhint: 'send', autocomplete: 'off',
  });
  const sendBtn = h('button', { type: 'button', class: 'rw-send', 'data-testid': 'rw-send', 'data-empty': true, text: T.send });
  const errorLine = h('div', { class: 'rw-error', 'data-testid': 'rw-error', role: 'alert', hidden: true });
  const PHOTO_TYPES = 'image/jpeg,image/png,image/webp,image/heic,image/heif';
  const photoInput = h('input', { type: 'file', accept: PHOTO_TYPES, hidden: true, 'data-testid': 'rw-photo-input' });
  const attachBtn = h('button', {
    type: 'button', class: 'rw-attach', 'data-testid': 'rw-attach', 'aria-label': T.attach, title: T.attach,
  }, iconPhoto());
  const footer = h('div', { class: 'rw-footer' }, h('div', { class: 'rw-compose' }, attachBtn, input, sendBtn, photoInput),
    errorLine);

  const panel = h('div', {
    class: 'rw-panel', id: 'rw-panel', 'data-testid': 'rw-panel', role: 'dialog', 'aria-labelledby': 'rw-title',
    hidden: true,
  }, header, body, footer);

  const root = h('div', { class: 'rw', lang: LANG === 'zh' ? 'zh-CN' : 'en' }, panel, button);
  shadow.append(root);

  // -- state --------------------------------------------------------------------------------
  let token = storage.get(KEY_TOKEN) || null;
  let viewToken = null; // whose messages are on screen
  let lastSeq = 0;
  let history = []; // slim copies of the server's message frames, for localStorage
  const seen = new Map(); // seq -> element
  const pendingEls = new Map(); // client_id -> element (shown as sending/failed)
  let outbox = []; // [{client_id, text?, card?}] not yet echoed by the server, oldest first
  let lastBuyerSeq = 0;

  let convStatus = 'bot';
  let agentName = null;
  let isOpen = false;
  let unread = 0;
  // typing and read receipts (ephemeral, docs/web-api.md): at most one "typing" per TYPING_EVERY ms
  const TYPING_EVERY = 2000;
  let typingSentAt = 0; // when this page last told "typing" (0: not typing)
  let typingTimer = null; // hides the agent's "typing…"
  let readSent = 0; // the highest seq told as read

  let started = false;
  let sessionChecked = false; // POSTed /session once in this page
  let ws = null;
  let wsGen = 0;
  let connecting = false;
  let synced = false;
  let connState = 'idle'; // idle | connecting | open | reconnecting
  let retryTimer = null;
  let backoff = BACKOFF_MIN;
  let syncAfter = null; // the `after` of the sync under way, null when none is
  let syncCount = 0;
  let inflight = []; // client_ids sent on this socket, awaiting their status/error answer

  // -- rendering ----------------------------------------------------------------------------
  function labelFor(m, sender) {
    if (sender === 'bot') return T.bot;
    if (sender === 'agent') return m.agent_name ? `${T.agent} ${m.agent_name}` : T.agent;
    if (sender === 'system' && m.kind === 'welcome' && m.agent_name) return `${T.agent} ${m.agent_name}`;
    return T.system;
  }

  function buildCard(card) {
    const isOrder = card.type === 'order';
    return h('div', { class: 'rw-card', 'data-testid': 'rw-card', 'data-card-type': isOrder ? 'order' : 'product' },
      h('span', { class: 'rw-card-icon' }, isOrder ? iconBox() : iconBag()),
      h('span', { class: 'rw-card-body' },
        h('span', { class: 'rw-card-title', text: isOrder ? T.order : T.product }),
        h('span', { class: 'rw-card-id', text: (isOrder ? T.orderNo : T.productNo) + String(card.id == null ? '' : card.id) })));
  }

  // -- photos: fetched with the buyer's token, shown as blob: URLs (a photo's URL alone shows nothing) --------
  const photoBlobs = new Map(); // url -> Promise<blob: URL>
  function photoSrc(url) {
    if (!photoBlobs.has(url)) {
      const loading = fetch(SERVER + url, {
        headers: { Authorization: `Bearer ${token}` }, credentials: 'omit', mode: 'cors', cache: 'default',
      }).then((res) => {
        if (!res.ok) throw new Error(`photo: HTTP ${res.status}`);
        return res.blob();
      }).then((blob) => URL.createObjectURL(blob));
      loading.catch(() => photoBlobs.delete(url));
      photoBlobs.set(url, loading);
    }
    return photoBlobs.get(url);
  }

  function buildPhoto(image, localUrl) {
    const ok = image && typeof image.thumb_url === 'string' && /^\/api\/v1\/media\/[A-Za-z0-9_-]+\/thumb$/.test(image.thumb_url);
    const width = image && Number(image.width) > 0 ? Number(image.width) : 4;
    const height = image && Number(image.height) > 0 ? Number(image.height) : 3;
    const img = h('img', { alt: T.photo, 'data-testid': 'rw-photo-img' });
    img.style.setProperty('aspect-ratio', `${width} / ${height}`);
    const btn = h('button', { type: 'button', class: 'rw-photo', 'data-testid': 'rw-photo', 'aria-label': T.openPhoto, title: T.openPhoto }, img);
    if (localUrl) {
      img.src = localUrl;
      btn.disabled = true;
    } else if (ok) {
      photoSrc(image.thumb_url).then((src) => { img.src = src; img.setAttribute('data-loaded', 'true'); }).catch(() => {});
      btn.addEventListener('click', () => openViewer(image.url));
    }
    return btn;
  }

  let viewer = null;
  function openViewer(url) {
    if (typeof url !== 'string' || !/^\/api\/v1\/media\/[A-Za-z0-9_-]+$/.test(url)) return;
    if (!viewer) {
      const closeView = h('button', { type: 'button', class: 'rw-close', 'data-testid': 'rw-viewer-close', 'aria-label': T.closePhoto, title: T.closePhoto }, iconClose(22));
      viewer = h('div', { class: 'rw-viewer', 'data-testid': 'rw-viewer', role: 'dialog', 'aria-label': T.photo, hidden: true, tabindex: '-1' },
        closeView, h('img', { alt: T.photo, 'data-testid': 'rw-viewer-img' }));
      const hide = () => { viewer.hidden = true; viewer.querySelector('img').removeAttribute('src'); };
      closeView.addEventListener('click', hide);
      viewer.addEventListener('click', (ev) => { if (ev.target === viewer) hide(); });
      viewer.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.stopPropagation(); hide(); } });
      panel.append(viewer);
    }
    const img = viewer.querySelector('img');
    img.removeAttribute('src');
    viewer.hidden = false;
    viewer.focus({ preventScroll: true });
    photoSrc(url).then((src) => { img.src = src; }).catch(() => showError(T.photoFailed));
  }

  const PHOTO_MAX = 10 * 1024 * 1024; // the server's default ([media] max_bytes); it checks again
  async function sendPhoto(file) {
    if (!file || typeof file.size !== 'number') return null;
    if (file.type && !PHOTO_TYPES.split(',').includes(file.type)) { showError(T.photoErrors.unsupported_image_type); return null; }
    if (file.size > PHOTO_MAX) { showError(T.photoErrors.image_too_large); return null; }
    showError('');
    open();
    const clientId = uuid();
    const local = URL.createObjectURL(file);
    renderPending({ client_id: clientId, localPhoto: local }, 'sending');
    const el = pendingEls.get(clientId);
    const bar = el && el.querySelector('.rw-progress > i');
    const foot = el && el.querySelector('.rw-foot');
    try {
      if (!token || !sessionChecked) await openSession();
      await new Promise((resolve, reject) => {
        // XMLHttpRequest: fetch cannot report an upload's progress
        const xhr = new XMLHttpRequest();
        xhr.open('POST', `${SERVER}/api/v1/webchat/images?client_id=${encodeURIComponent(clientId)}&lang=${LANG}`);
        xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
        xhr.upload.onprogress = (ev) => {
          if (!ev.lengthComputable) return;
          const p = Math.round((ev.loaded / ev.total) * 100);
          if (bar) bar.style.setProperty('width', `${p}%`);
          if (foot) foot.textContent = T.uploading(p);
        };
        xhr.onerror = () => reject(new Error(T.photoFailed));
        xhr.onload = () => {
          let data = null;
          try { data = JSON.parse(xhr.responseText); } catch (_) { data = null; }
          if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
          const code = data && data.error && data.error.code;
          reject(new Error((code && T.photoErrors[code]) || T.photoFailed));
        };
        xhr.send(file);
      });
      if (foot && pendingEls.has(clientId)) foot.textContent = T.sending; // its copy comes over the socket
      start();
    } catch (err) {
      markFailed(clientId);
      showError((err && err.message) || T.photoFailed);
    }
    return clientId;
  }

  function photoFrom(list) {
    return Array.from(list || []).find((f) => f && typeof f.type === 'string' && f.type.startsWith('image/')) || null;
  }

  function buildRating(seq) {
    const group = h('div', { class: 'rw-rating', role: 'group', 'aria-label': T.rateLabel, 'data-rating-seq': seq });
    T.ratings.forEach((label, i) => {
      group.append(h('button', {
        type: 'button', class: 'rw-rate', 'data-testid': `rw-rating-${label}`,
        onclick: () => {
          removeRatings(Infinity);
          rememberRated(seq);
          queueMessage(label);
        },
      }, iconFace(i), label));
    });
    return group;
  }

  function ratedSeqs() {
    const v = token ? storage.json(keyRated(token), []) : [];
    return Array.isArray(v) ? v : [];
  }
  function rememberRated(seq) {
    if (token) storage.set(keyRated(token), JSON.stringify(ratedSeqs().concat([seq]).slice(-20)));
  }

  function removeRatings(beforeSeq) {
    for (const g of list.querySelectorAll('.rw-rating')) {
      if (Number(g.getAttribute('data-rating-seq')) < beforeSeq) g.remove();
    }
  }

  function buildMessage(m, state) {
    const sender = SENDERS.has(m.sender) ? m.sender : 'system';
    const kind = typeof m.kind === 'string' ? m.kind : '';
    const text = typeof m.text === 'string' ? m.text : '';
    const row = h('div', {
      class: 'rw-msg', 'data-testid': 'rw-message', 'data-sender': sender, 'data-kind': kind || null,
      'data-seq': m.seq != null ? m.seq : null, 'data-client-id': m.client_id || null, 'data-state': state || null,
    });
    if (sender === 'system' && (kind === 'queue' || kind === 'pool')) {
      row.classList.add('rw-notice-row');
      row.append(h('div', { class: 'rw-notice' },
        h('span', { class: 'rw-notice-icon' }, kind === 'queue' ? iconClock() : iconNote()),
        h('span', { class: 'rw-notice-text', text })));
      return row;
    }
    const time = clock(m.created_at);
    if (sender !== 'buyer') {
      row.append(h('div', { class: 'rw-meta' },
        h('span', { class: 'rw-label', 'data-testid': 'rw-label', text: labelFor(m, sender) }),
        time ? h('span', { class: 'rw-time', text: time }) : null));
    }
    const bubble = h('div', { class: 'rw-bubble' });
    if (text) bubble.append(h('div', { class: 'rw-text', text }));
    if (m.card && typeof m.card === 'object') bubble.append(buildCard(m.card));
    if (m.image && typeof m.image === 'object') {
      bubble.classList.add('rw-bubble-photo');
      bubble.append(buildPhoto(m.image));
    }
    if (m.localPhoto) {
      bubble.classList.add('rw-bubble-photo');
      bubble.append(buildPhoto(null, m.localPhoto), h('div', { class: 'rw-progress', 'data-testid': 'rw-progress' }, h('i')));
    }
    row.append(bubble);
    if (sender === 'buyer') {
      const foot = state === 'sending' ? T.sending : state === 'failed' ? T.failed : time;
      if (foot) row.append(h('div', { class: 'rw-foot', text: foot }));
    }
    if (kind === 'rating_request' && !(lastBuyerSeq > Number(m.seq)) && !ratedSeqs().includes(Number(m.seq))) {
      row.append(buildRating(Number(m.seq)));
    }
    return row;
  }

  function insertBySeq(el, seq) {
    // confirmed messages in seq order, then the pending ones
    let ref = null;
    for (let c = list.lastElementChild; c; c = c.previousElementSibling) {
      const s = c.getAttribute('data-seq') ?? c.getAttribute('data-anchor');
      if (s == null || Number(s) > seq) { ref = c; continue; }
      break;
    }
    list.insertBefore(el, ref);
  }

  function scrollToEnd() {
    if (!isOpen) return;
    body.scrollTop = body.scrollHeight;
    requestAnimationFrame(() => { body.scrollTop = body.scrollHeight; });
  }

  function refreshEmpty() {
    empty.hidden = list.childElementCount > 0;
  }

  function refreshHeader() {
    title.textContent = agentName && convStatus === 'assigned' ? T.servedBy(agentName) : T.title;
    let key = convStatus;
    let text = T.status[convStatus] || T.status.bot;
    if (connState === 'reconnecting') { key = connState; text = T.reconnecting; }
    else if (connState === 'connecting') { key = connState; text = T.connecting; }
    statusText.textContent = text;
    statusDot.setAttribute('data-state', key);
    root.setAttribute('data-status', convStatus);
    root.setAttribute('data-connection', connState);
    handover.hidden = convStatus !== 'queued';
  }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread > 99 ? '99+' : String(unread);
    button.setAttribute('aria-label', unread ? `${T.openChat} (${T.unread(unread)})` : T.openChat);
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  // -- messages from the server ----------------------------------------------------------------
  function applyKind(m) {
    if (m.sender === 'agent' && m.agent_name) {
      agentName = m.agent_name;
      convStatus = 'assigned';
    }
    switch (m.kind) {
      case 'welcome':
        if (m.agent_name) agentName = m.agent_name;
        convStatus = 'assigned';
        break;
      case 'queue':
        convStatus = 'queued';
        break;
      case 'pool':
        convStatus = 'offline';
        break;
      case 'transfer':
        agentName = null;
        break;
      case 'rating_request':
        agentName = null;
        convStatus = 'closed';
        break;
      default:
    }
  }

  function slim(m) {
    const out = {};
    for (const k of ['seq', 'conversation_id', 'sender', 'text', 'created_at', 'client_id', 'kind', 'card', 'agent_name', 'image']) {
      if (m[k] != null) out[k] = m[k];
    }
    return out;
  }

  function renderServerMessage(m, restoring) {
    const seq = Number(m.seq);
    const hasSeq = m.seq != null && Number.isFinite(seq);
    if (hasSeq && seen.has(seq)) return false;
    if (m.client_id) {
      const p = pendingEls.get(m.client_id);
      if (p) { p.remove(); pendingEls.delete(m.client_id); }
      dropFromOutbox(m.client_id);
    }
    if (m.sender === 'buyer' && hasSeq) {
      lastBuyerSeq = Math.max(lastBuyerSeq, seq);
      removeRatings(seq);
    }
    const el = buildMessage(m, null);
    if (hasSeq) {
      insertBySeq(el, seq);
      seen.set(seq, el);
      if (seq > lastSeq) lastSeq = seq;
      if (!restoring) {
        history.push(slim(m));
        if (history.length > HISTORY_KEEP) history = history.slice(-HISTORY_KEEP);
        scheduleSave();
      }
    } else {
      insertBySeq(el, Number.MAX_SAFE_INTEGER);
    }
    applyKind(m);
    return true;
  }

  function renderPending(item, state) {
    const el = buildMessage({ sender: 'buyer', text: item.text, card: item.card, client_id: item.client_id, localPhoto: item.localPhoto }, state || 'sending');
    list.append(el);
    pendingEls.set(item.client_id, el);
    refreshEmpty();
    scrollToEnd();
  }

  function markDelivered(clientId) {
    // The server answered this message but sent no copy of it (a rating reply is not kept as a message):
    // show it as sent where it is, and stop resending it.
    const el = pendingEls.get(clientId);
    dropFromOutbox(clientId);
    if (!el) return;
    el.removeAttribute('data-state');
    el.setAttribute('data-anchor', String(lastSeq));
    const foot = el.querySelector('.rw-foot');
    if (foot) foot.textContent = clock(new Date().toISOString());
    pendingEls.delete(clientId);
  }

  function markFailed(clientId) {
    const el = pendingEls.get(clientId);
    if (!el) return;
    el.setAttribute('data-state', 'failed');
    el.setAttribute('data-anchor', String(lastSeq)); // stays where it was; later messages go below it
    const foot = el.querySelector('.rw-foot');
    if (foot) foot.textContent = T.failed;
    pendingEls.delete(clientId);
  }

  let saveTimer = null;
  function scheduleSave() {
    if (saveTimer) return;
    saveTimer = setTimeout(saveNow, 80);
  }
  function saveNow() {
    clearTimeout(saveTimer);
    saveTimer = null;
    if (!token) return;
    storage.set(keySeq(token), String(lastSeq));
    storage.set(keyHistory(token), JSON.stringify(history));
  }
  function saveOutbox() {
    if (outbox.length) storage.set(KEY_OUTBOX, JSON.stringify(outbox.map((i) => ({ client_id: i.client_id, text: i.text, card: i.card }))));
    else storage.del(KEY_OUTBOX);
  }
  function dropFromOutbox(clientId) {
    const n = outbox.length;
    outbox = outbox.filter((i) => i.client_id !== clientId);
    if (outbox.length !== n) saveOutbox();
  }

  function resetView() {
    for (const el of Array.from(list.children)) {
      if (el.getAttribute('data-seq') != null || el.getAttribute('data-anchor') != null) el.remove();
    }
    seen.clear();
    history = [];
    lastSeq = 0;
    lastBuyerSeq = 0;
    agentName = null;
    convStatus = 'bot';
    refreshEmpty();
    refreshHeader();
  }

  function restore() {
    // a reload: show what this buyer already saw, and resume the sync after it
    if (token) {
      let saved = storage.json(keyHistory(token), []);
      if (!Array.isArray(saved)) saved = [];
      const storedSeq = Number(storage.get(keySeq(token))) || 0;
      for (const m of saved) {
        if (m && typeof m === 'object' && Number.isFinite(Number(m.seq))) renderServerMessage(m, true);
      }
      history = saved.filter((m) => m && typeof m === 'object' && Number.isFinite(Number(m.seq)));
      // The last seq seen is stored next to the history and written with it, so normally the two
      // agree. If the history could not be stored (quota) or was trimmed away, resume from what is
      // on screen instead: a fuller sync, kept single by the dedupe on seq.
      if (storedSeq > 0 && storedSeq <= lastSeq) lastSeq = storedSeq;
      viewToken = token;
    }
    const saved = storage.json(KEY_OUTBOX, []);
    if (Array.isArray(saved)) {
      for (const i of saved) {
        if (!i || typeof i.client_id !== 'string' || pendingEls.has(i.client_id)) continue;
        const item = { client_id: i.client_id, text: typeof i.text === 'string' ? i.text : undefined, card: i.card || undefined };
        outbox.push(item);
        renderPending(item);
      }
    }
    refreshEmpty();
    refreshHeader();
  }

  // -- the connection -----------------------------------------------------------------------
  function setConn(state) {
    connState = state;
    refreshHeader();
  }

  function adoptToken(t, renewed) {
    if (renewed && token && token !== t) {
      // the same buyer with a fresh token (the old one was past half its life): keep what is stored
      for (const key of [keySeq, keyHistory, keyRated]) {
        const v = storage.get(key(token));
        if (v != null) storage.set(key(t), v);
        storage.del(key(token));
      }
      if (viewToken === token) viewToken = t;
      token = t;
      storage.set(KEY_TOKEN, t);
      return;
    }
    if (viewToken && viewToken !== t) resetView(); // another buyer: what is on screen is not theirs
    if (token && token !== t) { storage.del(keySeq(token)); storage.del(keyHistory(token)); storage.del(keyRated(token)); }
    token = t;
    viewToken = t;
    storage.set(KEY_TOKEN, t);
  }

  function forgetToken() {
    if (token) { storage.del(keySeq(token)); storage.del(keyHistory(token)); storage.del(keyRated(token)); }
    storage.del(KEY_TOKEN);
    token = null;
    sessionChecked = false;
  }

  // One session request at a time: the socket and a photo upload may both need one at once, and two
  // requests without a token would make two buyers (the photo sent as one, the socket listening as the other).
  let sessionPending = null;
  function openSession() {
    if (!sessionPending) sessionPending = requestSession().finally(() => { sessionPending = null; });
    return sessionPending;
  }

  async function requestSession() {
    // From a shop on another origin, send the JSON as text/plain: a "simple" request needs no CORS
    // preflight, only Access-Control-Allow-Origin on the answer.
    const type = SERVER === location.origin ? 'application/json' : 'text/plain;charset=UTF-8';
    const post = (payload) => fetch(`${SERVER}/api/v1/webchat/session`, {
      method: 'POST', headers: { 'Content-Type': type }, body: JSON.stringify(payload),
      credentials: 'omit', cache: 'no-store', mode: 'cors',
    });
    let res = await post(token ? { token } : {});
    if (!res.ok && token && res.status >= 400 && res.status < 500) {
      forgetToken(); // the server refused the old token's shape: start as a new buyer
      res = await post({});
    }
    if (!res.ok) throw new Error(`session: HTTP ${res.status}`);
    const data = await res.json();
    if (!data || typeof data.token !== 'string' || !data.token) throw new Error('session: no token');
    adoptToken(data.token, data.renewed === true);
    sessionChecked = true;
  }

  function start() {
    if (started) return;
    started = true;
    setConn('connecting');
    connect();
  }

  async function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws || connecting) return;
    connecting = true;
    try {
      if (!token || !sessionChecked) await openSession();
    } catch (_) {
      connecting = false;
      scheduleRetry();
      return;
    }
    connecting = false;
    openSocket();
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    const delay = backoff;
    backoff = Math.min(backoff * 2, BACKOFF_MAX);
    setConn('reconnecting');
    retryTimer = setTimeout(connect, delay);
  }

  function sendFrame(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try { ws.send(JSON.stringify(frame)); return true; } catch (_) { return false; }
  }

  // -- typing and read receipts ----------------------------------------------------------------
  function tellTyping() {
    if (!synced || convStatus !== 'assigned') return;
    const now = Date.now();
    const typing = input.value.trim() !== '';
    if (typing && now - typingSentAt >= TYPING_EVERY) {
      if (sendFrame({ type: 'typing', typing: true })) typingSentAt = now;
    } else if (!typing && typingSentAt) {
      typingSentAt = 0;
      sendFrame({ type: 'typing', typing: false });
    }
  }

  function showAgentTyping(on, seconds) {
    clearTimeout(typingTimer);
    typingRow.hidden = !on;
    if (on) {
      typingTimer = setTimeout(() => { typingRow.hidden = true; }, Math.max(1, Math.min(Number(seconds) || 6, 30)) * 1000);
      scrollToEnd();
    }
  }

  function tellRead() {
    if (!isOpen || !synced || lastSeq <= readSent || document.visibilityState === 'hidden') return;
    if (sendFrame({ type: 'read', seq: lastSeq })) readSent = lastSeq;
  }

  function sendSync() {
    syncAfter = lastSeq;
    syncCount = 0;
    sendFrame({ type: 'sync', after: lastSeq });
  }

  function openSocket() {
    const gen = ++wsGen;
    let sock;
    try {
      sock = new WebSocket(`${WS_BASE}/api/v1/webchat/ws?token=${encodeURIComponent(token)}`);
    } catch (_) {
      scheduleRetry();
      return;
    }
    ws = sock;
    synced = false;
    inflight = [];
    sock.onopen = () => { if (gen === wsGen) sendSync(); };
    sock.onmessage = (ev) => {
      if (gen !== wsGen) return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch (_) { return; }
      if (frame && typeof frame === 'object') onFrame(frame);
    };
    sock.onerror = () => { /* a close event follows */ };
    sock.onclose = (ev) => {
      if (gen !== wsGen) return;
      ws = null;
      synced = false;
      inflight = [];
      for (const item of outbox) item.sentOn = 0; // resend after the reconnect, same client_id
      if (ev.code === 4401) forgetToken(); // bad token: become a (new) buyer again
      saveNow();
      scheduleRetry();
    };
  }

  function transmit(item) {
    if (!synced || item.sentOn === wsGen) return;
    const frame = { type: 'message', client_id: item.client_id };
    // the page the buyer writes from, for the agent (kept when a conversation starts); no #fragment
    frame.page = { url: String(location.href).split('#')[0].slice(0, 2048), title: String(document.title || '').slice(0, 200) };
    if (item.text) frame.text = item.text;
    if (item.card) frame.card = { type: item.card.type, id: String(item.card.id) };
    if (sendFrame(frame)) {
      item.sentOn = wsGen;
      inflight.push(item.client_id);
    }
  }

  function flushOutbox() {
    for (const item of outbox.slice()) transmit(item);
  }

  function onFrame(f) {
    switch (f.type) {
      case 'ready':
        break;
      case 'message': {
        if (syncAfter !== null) syncCount += 1;
        const added = renderServerMessage(f, false);
        if (!added) break;
        if (!isOpen && f.sender !== 'buyer' && (syncAfter === null || syncAfter > 0)) {
          unread += 1;
          updateBadge();
        }
        if (f.sender === 'buyer' && f.client_id) showError('');
        if (f.sender === 'agent') showAgentTyping(false);
        if (synced) tellRead();
        refreshEmpty();
        refreshHeader();
        scrollToEnd();
        break;
      }
      case 'synced': {
        if (typeof f.status === 'string') convStatus = f.status;
        if (convStatus !== 'assigned') agentName = null;
        const more = syncCount >= SYNC_PAGE; // the server pages its answer: ask for the rest
        syncAfter = null;
        if (more) { sendSync(); break; }
        synced = true;
        backoff = BACKOFF_MIN;
        setConn('open');
        saveNow();
        flushOutbox();
        tellRead();
        break;
      }
      case 'typing':
        if (f.sender === 'agent') showAgentTyping(f.typing !== false, f.expires_in);
        break;
      case 'status': {
        // answers the oldest message sent on this socket; its own copy, if any, came just before
        const answered = inflight.shift();
        if (answered && pendingEls.has(answered)) markDelivered(answered);
        if (typeof f.status === 'string') convStatus = f.status;
        if (convStatus !== 'assigned') agentName = null;
        refreshHeader();
        scrollToEnd();
        break;
      }
      case 'error': {
        // the refused message: named by client_id, or else the oldest one still awaiting its answer
        // (the server answers each message frame, in order, with either `status` or `error`)
        let id = typeof f.client_id === 'string' ? f.client_id : null;
        if (id) inflight = inflight.filter((x) => x !== id);
        else id = inflight.shift() || null;
        if (id && outbox.some((i) => i.client_id === id)) {
          dropFromOutbox(id);
          markFailed(id);
        }
        showError(T.errors[f.code] || (typeof f.message === 'string' && f.message) || T.errorGeneric);
        break;
      }
      default:
        break;
    }
  }

  // -- sending ------------------------------------------------------------------------------
  function queueMessage(text, card) {
    const clean = typeof text === 'string' ? text.trim() : (text == null ? '' : String(text).trim());
    const c = card && typeof card === 'object' && (card.type === 'product' || card.type === 'order') && card.id != null
      ? { type: card.type, id: String(card.id) } : undefined;
    if (!clean && !c) return null;
    if (Array.from(clean).length > MAX_TEXT) {
      showError(T.tooLong);
      return null;
    }
    showError('');
    typingSentAt = 0; // the message itself ends "typing" on the server's side
    const item = { client_id: uuid(), text: clean || undefined, card: c, sentOn: 0 };
    outbox.push(item);
    saveOutbox();
    renderPending(item, 'sending');
    start();
    if (synced) transmit(item);
    return item.client_id;
  }

  function sendFromInput() {
    if (!input.value.trim()) return;
    const id = queueMessage(input.value);
    if (id) {
      input.value = '';
      autosize();
    }
    input.focus();
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 120)}px`;
    if (input.value.trim()) sendBtn.removeAttribute('data-empty');
    else sendBtn.setAttribute('data-empty', '');
  }

  // -- open / close -------------------------------------------------------------------------
  const finePointer = () => { try { return window.matchMedia('(pointer: fine)').matches; } catch (_) { return true; } };

  function open() {
    start();
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      root.classList.add('rw-open');
      button.setAttribute('aria-expanded', 'true');
      if (finePointer()) input.focus({ preventScroll: true });
    }
    unread = 0;
    updateBadge();
    scrollToEnd();
    tellRead();
  }

  function close() {
    if (!isOpen) return;
    const hadFocus = shadow.activeElement != null;
    isOpen = false;
    panel.hidden = true;
    root.classList.remove('rw-open');
    button.setAttribute('aria-expanded', 'false');
    if (hadFocus) button.focus({ preventScroll: true });
  }

  button.addEventListener('click', () => (isOpen ? close() : open()));
  closeBtn.addEventListener('click', close);
  attachBtn.addEventListener('click', () => photoInput.click());
  photoInput.addEventListener('change', () => {
    const file = photoFrom(photoInput.files);
    photoInput.value = '';
    if (file) sendPhoto(file);
  });
  input.addEventListener('paste', (ev) => {
    const items = Array.from((ev.clipboardData && ev.clipboardData.items) || []);
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (!item) return;
    ev.preventDefault();
    sendPhoto(item.getAsFile());
  });
  const hasFiles = (ev) => ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
  panel.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    panel.setAttribute('data-drop', '');
  });
  panel.addEventListener('dragleave', (ev) => { if (ev.target === panel || !panel.contains(ev.relatedTarget)) panel.removeAttribute('data-drop'); });
  panel.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    panel.removeAttribute('data-drop');
    const file = photoFrom(ev.dataTransfer.files);
    if (file) sendPhoto(file);
  });
  sendBtn.addEventListener('click', sendFromInput);
  input.addEventListener('input', () => { autosize(); tellTyping(); });
  // the buyer may make the panel smaller, to keep the product's price and buttons in view (kept for the site)
  const KEY_SIZE = 'reception.webchat.size';
  function setSize(compact) {
    if (compact) panel.setAttribute('data-size', 'compact'); else panel.removeAttribute('data-size');
    sizeBtn.setAttribute('aria-pressed', String(compact));
    sizeBtn.setAttribute('aria-label', compact ? T.larger : T.smaller);
    sizeBtn.title = compact ? T.larger : T.smaller;
  }
  setSize(storage.get(KEY_SIZE) === 'compact');
  sizeBtn.addEventListener('click', () => {
    const compact = panel.getAttribute('data-size') !== 'compact';
    setSize(compact);
    if (compact) storage.set(KEY_SIZE, 'compact'); else storage.del(KEY_SIZE);
    scrollToEnd();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      sendFromInput();
    }
  });
  panel.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { ev.stopPropagation(); close(); }
  });

  // Shops can put "ask us" links anywhere on the page, no script needed:
  //   <button data-reception-ask="可以七天无理由退货吗">…</button>   opens the chat and sends the text
  //   <a href="#" data-reception-open>…</a>                          only opens the chat
  document.addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest('[data-reception-ask],[data-reception-open]') : null;
    if (!target) return;
    ev.preventDefault();
    const text = target.getAttribute('data-reception-ask');
    if (text && text.trim()) window.receptionWidget.send(text);
    else open();
  });

  const reconnectNow = () => {
    if (started && !ws && !connecting && retryTimer) {
      backoff = BACKOFF_MIN;
      connect();
    }
  };
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') { reconnectNow(); tellRead(); } });
  window.addEventListener('pagehide', () => { if (saveTimer) saveNow(); });

  // -- public API ---------------------------------------------------------------------------
  window.receptionWidget = {
    version: VERSION,
    open,
    close,
    toggle: () => (isOpen ? close() : open()),
    /** Send a message as the buyer: send('text'), or send({text, card: {type: 'product'|'order', id}}). */
    send(text) {
      open();
      if (text && typeof text === 'object') return queueMessage(text.text, text.card);
      return queueMessage(text);
    },
    /** Send a photo (a File or Blob of JPEG, PNG, WebP or HEIC) as the buyer; resolves to its client id. */
    sendPhoto,
    get isOpen() { return isOpen; },
  };

  // -- go -----------------------------------------------------------------------------------
  function mount() {
    (document.body || document.documentElement).append(host);
    restore();
    updateBadge();
    // a returning buyer reconnects at once (agent replies, unread badge); a new one on first open
    if (token || outbox.length) start();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
