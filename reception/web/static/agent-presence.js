// The workbench's typing indicator and read state (docs/agent.md, "Typing and read state"):
// - the buyer is typing: a line above the reply box while the live socket says so (it hides by itself after
//   the notice's expires_in seconds, or when the buyer's message arrives);
// - the agent is typing: {"type": "typing", "conversation_id", "typing"} on the live socket, at most once
//   every 2 s, and a stop when the box is emptied or the reply sent;
// - unread: a red count on each conversation in the list (the buyer's messages after the agent's read mark,
//   kept on the server, so it survives a reload); opening the conversation with the page in view reads it
//   (POST /api/v1/conversations/{id}/read);
// - the buyer's read receipts: 已读 / 未读 under the agent's own messages, from the list's buyer_read_seq and
//   the live socket's {"type": "read"} notices.
import { $, el, makeT, setText, show } from "./common.js";

const STRINGS = {
  zh: {
    "typing.buyer": "买家正在输入…",
    "unread.title": "{n} 条未读消息",
    "receipt.read": "已读",
    "receipt.unread": "未读",
  },
  en: {
    "typing.buyer": "The buyer is typing…",
    "unread.title": "{n} unread",
    "receipt.read": "Read",
    "receipt.unread": "Unread",
  },
};

const t = makeT(STRINGS);
const TYPING_EVERY = 2000;

/**
 * call: the workbench's authenticated fetch; socket(): the live WebSocket (or null); selected(): the open
 * conversation's id; conv(id): its list entry (unread, agent_read_seq, buyer_read_seq); repaint(id): refill
 * its list item.
 */
export function createPresence({ call, socket, selected, conv, repaint }) {
  const state = { typingFor: null, typingAt: 0, timer: null, buyerRead: new Map(), reading: new Map() };
  const line = $("#buyer-typing");
  setText(line, t("typing.buyer"));

  function send(frame) {
    const ws = socket();
    if (!ws || ws.readyState !== 1) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** The reply box changed: tell the buyer, at most once every 2 s; an emptied box stops it. */
  function typed(text) {
    const id = selected();
    if (!id) return;
    const now = Date.now();
    if (text.trim()) {
      if (state.typingFor !== id || now - state.typingAt >= TYPING_EVERY) {
        if (send({ type: "typing", conversation_id: id, typing: true })) {
          state.typingFor = id;
          state.typingAt = now;
        }
      }
    } else stopTyping();
  }

  function stopTyping() {
    if (state.typingFor) send({ type: "typing", conversation_id: state.typingFor, typing: false });
    state.typingFor = null;
    state.typingAt = 0;
  }

  function buyerTyping(id, on, seconds) {
    if (id !== selected()) return;
    clearTimeout(state.timer);
    show(line, on);
    if (on) state.timer = setTimeout(() => show(line, false), Math.max(1, Math.min(Number(seconds) || 6, 30)) * 1000);
  }

  /** A live notice: true when it was about typing or reading (nothing to re-read). */
  function onLive(data) {
    if (data.type === "typing") {
      buyerTyping(data.conversation_id, data.typing !== false, data.expires_in);
      return true;
    }
    if (data.type === "read") {
      const seq = Number(data.seq) || 0;
      if (seq > (state.buyerRead.get(data.conversation_id) || 0)) state.buyerRead.set(data.conversation_id, seq);
      if (data.conversation_id === selected()) paintReceipts();
      return true;
    }
    if (data.type === "changed" && data.event === "message.received") buyerTyping(data.conversation_id, false);
    return false;
  }

  function opened() {
    clearTimeout(state.timer);
    show(line, false);
    stopTyping();
  }

  const visible = () => document.visibilityState !== "hidden";

  /** The unread count for a list item (none for the conversation open in view: it is being read). */
  function badge(c) {
    const n = Number(c.unread) || 0;
    if (!n || (c.conversation_id === selected() && visible())) return null;
    return el("span", { class: "badge red unread", testid: "ag-unread", text: n > 99 ? "99+" : String(n),
      title: t("unread.title", { n }) });
  }

  /** Under an agent's own message: whether the buyer has read it (painted by paintReceipts). */
  function receipt(m) {
    if (m.sender !== "agent" || typeof m.seq !== "number") return null;
    return el("span", { class: "receipt", testid: "ag-receipt", dataset: { seq: String(m.seq) } });
  }

  function paintReceipts() {
    const id = selected();
    const c = id && conv(id);
    const upTo = Math.max(state.buyerRead.get(id) || 0, (c && Number(c.buyer_read_seq)) || 0);
    for (const node of document.querySelectorAll("#messages .receipt")) {
      const read = Number(node.dataset.seq) <= upTo;
      node.dataset.read = String(read);
      setText(node, t(read ? "receipt.read" : "receipt.unread"));
    }
  }

  /** The open conversation's messages are on screen: paint the receipts and, in view, mark them read. */
  async function shown(messages) {
    paintReceipts();
    const id = selected();
    const c = id && conv(id);
    const last = messages.reduce((top, m) => (typeof m.seq === "number" && m.seq > top ? m.seq : top), 0);
    if (!id || !c || !visible() || !last || last <= Math.max(c.agent_read_seq || 0, state.reading.get(id) || 0)) return;
    state.reading.set(id, last);
    try {
      const read = await call(`/api/v1/conversations/${encodeURIComponent(id)}/read`, { method: "POST", body: { seq: last } });
      const now = conv(id);
      if (now) Object.assign(now, { unread: read.unread, agent_read_seq: read.agent_read_seq });
      repaint(id);
    } catch {
      state.reading.delete(id); // tried again with the next look
    }
  }

  return { typed, stopTyping, onLive, opened, badge, receipt, paintReceipts, shown };
}
