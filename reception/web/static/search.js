// Conversation search, on the workbench (an agent's own conversations) and the dashboard (all):
// GET /api/v1/search/conversations?buyer=|text=|order=&from=&to=. The form and the results are built here into
// `root`; every value from the server is shown with textContent.
import { ApiError, el, fill, makeT, setText, errText } from "./common.js";
import { buyerName, formatInZone } from "./buyer.js";

const STRINGS = {
  zh: {
    "search.title": "会话搜索",
    "search.placeholder": "搜索会话…",
    "search.by.text": "内容",
    "search.by.buyer": "买家",
    "search.by.order": "订单号",
    "search.from": "从",
    "search.to": "到",
    "search.submit": "搜索",
    "search.clear": "清除",
    "search.none": "没有找到会话",
    "search.count": "找到 {n} 个会话",
    "search.more": "结果较多，只显示前 {n} 个，请缩小范围",
    "search.open": "打开",
    "search.view": "查看记录",
    "search.hide": "收起",
    "search.mine": "仅搜索您接待过的会话",
    "search.notes": "内部备注",
    "search.zone": "日期按店铺时区 {z}",
    "search.who.buyer": "买家",
    "search.who.bot": "机器人",
    "search.who.agent": "客服",
    "search.who.system": "系统",
    "search.status.bot": "机器人",
    "search.status.queued": "排队中",
    "search.status.offline": "离线留言",
    "search.status.assigned": "接待中",
    "search.status.closed": "已结束",
  },
  en: {
    "search.title": "Search conversations",
    "search.placeholder": "Search conversations…",
    "search.by.text": "Text",
    "search.by.buyer": "Buyer",
    "search.by.order": "Order no.",
    "search.from": "From",
    "search.to": "To",
    "search.submit": "Search",
    "search.clear": "Clear",
    "search.none": "No conversations found",
    "search.count": "Found: {n}",
    "search.more": "Many results: the first {n} are shown; narrow the search",
    "search.open": "Open",
    "search.view": "View",
    "search.hide": "Hide",
    "search.mine": "Only the conversations you served",
    "search.notes": "Internal notes",
    "search.zone": "Dates in the shop's time zone, {z}",
    "search.who.buyer": "Buyer",
    "search.who.bot": "Bot",
    "search.who.agent": "Agent",
    "search.who.system": "System",
    "search.status.bot": "bot",
    "search.status.queued": "queued",
    "search.status.offline": "offline message",
    "search.status.assigned": "with an agent",
    "search.status.closed": "closed",
  },
};

export const st = makeT(STRINGS);
const seg = (value) => encodeURIComponent(value).replace(/%3A/gi, ":");

function line(m, zone) {
  return el("div", { class: "search-line" },
    el("span", { class: "who", text: st(`search.who.${m.sender}`) }),
    el("span", { class: "faint small", text: formatInZone(m.created_at, zone) }),
    el("span", { class: "txt", text: m.text || "" }));
}

/**
 * root: where the form and results go; call: authenticated fetch; prefix: test id prefix ("ag" / "ad");
 * onOpen(id): open a conversation the caller holds (workbench); full: the caller may read any conversation (admin).
 */
export function createSearch({ root, call, prefix, onOpen = null, full = false }) {
  const by = el("select", { class: "select", testid: `${prefix}-search-by`, "aria-label": st("search.title") },
    ...["text", "buyer", "order"].map((k) => el("option", { value: k, text: st(`search.by.${k}`) })));
  const input = el("input", { class: "input", type: "search", testid: `${prefix}-search-input`, maxlength: "200",
    placeholder: st("search.placeholder"), "aria-label": st("search.placeholder"), spellcheck: "false" });
  const from = el("input", { class: "input", type: "date", testid: `${prefix}-search-from`, "aria-label": st("search.from"),
    title: st("search.from") });
  const to = el("input", { class: "input", type: "date", testid: `${prefix}-search-to`, "aria-label": st("search.to"),
    title: st("search.to") });
  const clear = el("button", { type: "button", class: "btn small ghost", testid: `${prefix}-search-clear`,
    text: st("search.clear"), hidden: true });
  const status = el("div", { class: "small faint search-status", testid: `${prefix}-search-status`, role: "status" });
  const results = el("ul", { class: "search-results", testid: `${prefix}-search-results` });
  const form = el("form", { class: "search-form", role: "search" }, by, input, from, to,
    el("button", { type: "submit", class: "btn small primary", testid: `${prefix}-search-submit`, text: st("search.submit") }),
    clear);
  fill(root, form, status, results);
  if (!full) form.title = st("search.mine");

  clear.addEventListener("click", () => {
    input.value = from.value = to.value = "";
    fill(results);
    setText(status, "");
    clear.hidden = true;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (input.value.trim()) params.set(by.value, input.value.trim());
    if (from.value) params.set("from", from.value);
    if (to.value) params.set("to", to.value);
    clear.hidden = false;
    setText(status, "…");
    try {
      const data = await call(`/api/v1/search/conversations?${params}`);
      render(data);
    } catch (err) {
      fill(results);
      setText(status, err instanceof ApiError && err.status === 422 ? err.message : errText(err));
    }
  });

  function render(data) {
    const convs = data.conversations || [];
    const zone = data.timezone;
    const notes = [convs.length ? st("search.count", { n: convs.length }) : st("search.none")];
    if (data.truncated) notes.push(st("search.more", { n: data.limit }));
    if (zone) notes.push(st("search.zone", { z: zone }));
    setText(status, notes.join(" · "));
    fill(results, ...convs.map((c) => item(c, zone)));
  }

  function item(c, zone) {
    const lines = (c.matches && c.matches.length ? c.matches : c.last_message ? [{ sender: "buyer", ...c.last_message }] : [])
      .map((m) => line(m, zone));
    const detail = el("div", { class: "search-detail", hidden: true });
    const actions = [];
    if (onOpen && c.mine) {
      actions.push(el("button", { type: "button", class: "btn small primary", testid: `${prefix}-search-open`,
        text: st("search.open"), on: { click: () => onOpen(c.conversation_id) } }));
    }
    if (full) {
      const toggle = el("button", { type: "button", class: "btn small", testid: `${prefix}-search-view`,
        text: st("search.view") });
      toggle.addEventListener("click", async () => {
        const opening = detail.hidden;
        detail.hidden = !opening;
        setText(toggle, st(opening ? "search.hide" : "search.view"));
        if (opening) await transcript(c.conversation_id, detail, zone);
      });
      actions.push(toggle);
    }
    return el("li", { class: "search-item", testid: `${prefix}-search-result`, dataset: { id: c.conversation_id } },
      el("div", { class: "search-head" },
        el("strong", { text: buyerName(c) }),
        el("span", { class: "badge", testid: `${prefix}-search-state`, text: st(`search.status.${c.status}`) }),
        c.agent_id ? el("span", { class: "faint small", text: c.agent_id }) : null,
        el("span", { class: "faint small", text: formatInZone(c.created_at, zone) }),
        el("span", { class: "spacer" }), ...actions),
      el("div", { class: "search-lines" }, ...lines),
      detail);
  }

  async function transcript(id, box, zone) {
    fill(box, el("div", { class: "faint small", text: "…" }));
    try {
      const [msgs, notes] = await Promise.all([call(`/api/v1/conversations/${seg(id)}/messages`),
        call(`/api/v1/conversations/${seg(id)}/notes`)]);
      fill(box, ...(msgs.messages || []).map((m) => line(m, zone)),
        (notes.notes || []).length ? el("div", { class: "search-notes", testid: `${prefix}-search-notes` },
          el("strong", { class: "small", text: st("search.notes") }),
          ...notes.notes.map((n) => el("div", { class: "search-line" }, el("span", { class: "who", text: n.author }),
            el("span", { class: "txt", text: n.text })))) : null);
    } catch (err) {
      fill(box, el("div", { class: "error-text", text: errText(err) }));
    }
  }

  return { input, form };
}
