// The workbench's "waiting" view: buyers in the queue of the agent's groups and in the offline pool, with
// who they are, why they wait and their last message, and "accept" (POST /conversations/{id}/accept: the
// server applies the rules: only queued or pooled buyers, within the agent's maximum, recent contact kept).
// The header's count follows the live socket's notices (agent.js calls schedule()).
import { $, ApiError, el, fill, makeT, reasonLabel, setText, show, toast, errText } from "./common.js";
import { buyerName, bt, deviceText, previewText, waitedText } from "./buyer.js";

const STRINGS = {
  zh: {
    "waiting.tab": "等待接入",
    "waiting.mine": "我的会话",
    "waiting.chip": "等待",
    "waiting.chipTitle": "排队和离线留言中等您的分组接待的买家",
    "waiting.queue": "排队中",
    "waiting.pool": "离线留言",
    "waiting.none": "没有排队的买家",
    "waiting.poolNone": "没有离线留言",
    "waiting.position": "第 {n} 位",
    "waiting.waited": "已等 {d}",
    "waiting.accept": "接入",
    "waiting.accepted": "已接入 {who}",
    "waiting.full": "已达接待上限，结束一个会话后再接入",
    "waiting.offline": "切换为在线或挂起后才能接入",
    "waiting.more": "另有 {n} 位未显示",
    "waiting.nextRun": "下次自动分配 {t}",
  },
  en: {
    "waiting.tab": "Waiting",
    "waiting.mine": "My conversations",
    "waiting.chip": "Waiting",
    "waiting.chipTitle": "Buyers in the queue and offline messages for your groups",
    "waiting.queue": "Queue",
    "waiting.pool": "Offline messages",
    "waiting.none": "Nobody in the queue",
    "waiting.poolNone": "No offline messages",
    "waiting.position": "#{n}",
    "waiting.waited": "waiting {d}",
    "waiting.accept": "Accept",
    "waiting.accepted": "Accepted {who}",
    "waiting.full": "You are at your maximum; close a conversation first",
    "waiting.offline": "Go online or suspended to accept buyers",
    "waiting.more": "{n} more not shown",
    "waiting.nextRun": "next auto-assignment {t}",
  },
};

const t = makeT(STRINGS);
const LIMIT = 50;

/**
 * call: the workbench's authenticated fetch; agent(): the agent's view (status, load, max_concurrent);
 * onAccepted(id): open the buyer just taken.
 */
export function createWaiting({ call, agent, onAccepted }) {
  const state = { queue: [], pool: [], total: 0, nextRun: null, readAt: 0, timer: null, busy: new Set(), open: false };

  function translate() {
    for (const node of document.querySelectorAll("[data-i18n-waiting]")) setText(node, t(node.dataset.i18nWaiting));
    $("#waiting-chip").title = t("waiting.chipTitle");
  }

  function setOpen(open) {
    state.open = open;
    $("#tab-mine").setAttribute("aria-selected", String(!open));
    $("#tab-waiting").setAttribute("aria-selected", String(open));
    show($("#waiting-view"), open);
    show($("#conv-list"), !open);
    $("#list-empty").classList.toggle("tab-hidden", open);
    $("#offline-note").classList.toggle("tab-hidden", open);
    if (open) refresh();
  }

  async function refresh() {
    try {
      const [queue, pool] = await Promise.all([
        call(`/api/v1/queue?limit=${LIMIT}`), call(`/api/v1/offline-pool?limit=${LIMIT}`)]);
      state.queue = queue.queue || [];
      state.pool = pool.pool || [];
      state.nextRun = pool.next_run || null;
      state.total = (queue.total ?? state.queue.length) + (pool.total ?? state.pool.length);
      state.queueMore = Math.max(0, (queue.total ?? 0) - state.queue.length);
      state.poolMore = Math.max(0, (pool.total ?? 0) - state.pool.length);
      state.readAt = performance.now();
      render();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setText($("#waiting-total"), "?");
    }
  }

  /** Re-read soon: a burst of notices (a pool run, a busy queue) makes one request. */
  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(refresh, 400);
  }

  function render() {
    setText($("#waiting-total"), String(state.total));
    setText($("#waiting-count"), String(state.total));
    $("#waiting-chip").classList.toggle("has-waiting", state.total > 0);
    setText($("#waiting-next"), state.nextRun ? t("waiting.nextRun", { t: state.nextRun }) : "");
    fill($("#waiting-queue"), ...(state.queue.length ? state.queue.map((v) => item(v, "queue")) : [
      el("li", { class: "empty small", text: t("waiting.none") })]),
    state.queueMore ? el("li", { class: "faint small", text: t("waiting.more", { n: state.queueMore }) }) : null);
    fill($("#waiting-pool"), ...(state.pool.length ? state.pool.map((v) => item(v, "pool")) : [
      el("li", { class: "empty small", text: t("waiting.poolNone") })]),
    state.poolMore ? el("li", { class: "faint small", text: t("waiting.more", { n: state.poolMore }) }) : null);
    tick();
  }

  function item(view, where) {
    const id = view.conversation_id;
    const meta = [];
    if (where === "queue" && view.position) meta.push(el("span", { class: "badge", text: t("waiting.position", { n: view.position }) }));
    meta.push(el("span", { class: "badge accent", testid: "ag-waiting-reason", dataset: { reason: view.handover_reason || "" },
      text: view.handover_reason ? reasonLabel(view.handover_reason) : bt("reason.none") }));
    if (view.group) meta.push(el("span", { class: "badge", text: view.group }));
    const device = deviceText(view.buyer && view.buyer.device);
    const page = view.buyer && (view.buyer.page_title || view.buyer.page_url);
    const button = el("button", {
      type: "button", class: "btn small primary", testid: "ag-accept", text: t("waiting.accept"),
      dataset: { conversationId: id }, on: { click: () => accept(view, button) },
    });
    return el("li", { class: "conv-item waiting-item", testid: "ag-waiting-item", dataset: { conversationId: id, where } },
      el("div", { class: "row" },
        el("span", { class: "buyer", testid: "ag-waiting-name", text: buyerName(view), title: view.customer_id }),
        button),
      el("div", { class: "meta" }, ...meta),
      previewText(view) ? el("div", { class: "preview", testid: "ag-waiting-preview", text: previewText(view) }) : null,
      el("div", { class: "meta" },
        el("span", { class: "waited", dataset: { conversationId: id } }),
        page ? el("span", { class: "faint ellipsis", text: page, title: view.buyer.page_url || "" }) : null,
        device ? el("span", { class: "faint", text: device }) : null));
  }

  function tick() {
    const passed = (performance.now() - state.readAt) / 1000;
    for (const view of [...state.queue, ...state.pool]) {
      const node = document.querySelector(`#waiting-view .waited[data-conversation-id="${CSS.escape(view.conversation_id)}"]`);
      if (node) setText(node, waitedText(view, passed) ? t("waiting.waited", { d: waitedText(view, passed) }) : "");
    }
  }

  async function accept(view, button) {
    const me = agent();
    if (me && me.status === "offline") {
      toast(t("waiting.offline"), "error");
      return;
    }
    if (me && me.load >= me.max_concurrent) {
      toast(t("waiting.full"), "error");
      return;
    }
    const id = view.conversation_id;
    if (state.busy.has(id)) return;
    state.busy.add(id);
    button.disabled = true;
    try {
      await call(`/api/v1/conversations/${encodeURIComponent(id)}/accept`, { method: "POST", body: {} });
      toast(t("waiting.accepted", { who: buyerName(view) }));
      await refresh();
      onAccepted(id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) toast(errText(err), "error");
      refresh();
    } finally {
      state.busy.delete(id);
      button.disabled = false;
    }
  }

  function wire() {
    translate();
    $("#tab-mine").addEventListener("click", () => setOpen(false));
    $("#tab-waiting").addEventListener("click", () => setOpen(true));
    $("#waiting-chip").addEventListener("click", () => setOpen(true));
    setInterval(() => {
      if (state.open) tick();
    }, 1000);
  }

  wire();
  return { refresh, schedule, setOpen, isOpen: () => state.open };
}
