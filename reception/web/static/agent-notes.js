// The workbench's internal notes and tags for the open conversation (never shown to the buyer):
// GET/POST /api/v1/conversations/{id}/notes, GET/PUT …/tags (tags and the corrected intent, which the intent
// analytics count). Everything typed is shown with textContent.
import { $, el, fill, formatTime, makeT, setText, toast, errText } from "./common.js";

const STRINGS = {
  zh: {
    "notes.title": "内部备注与标签",
    "notes.private": "仅客服和管理员可见，买家看不到",
    "notes.placeholder": "写一条备注…",
    "notes.add": "添加备注",
    "notes.none": "暂无备注",
    "notes.saved": "备注已保存",
    "tags.label": "标签",
    "tags.placeholder": "添加标签，回车确认",
    "tags.remove": "删除标签 {t}",
    "intent.label": "咨询意图（纠正）",
    "intent.bot": "机器人识别：{i}",
    "intent.botNone": "机器人识别：无",
    "intent.saved": "意图已更正为 {i}",
    "intent.cleared": "已恢复机器人识别的意图",
  },
  en: {
    "notes.title": "Internal notes and tags",
    "notes.private": "Only agents and the admin see these; never the buyer",
    "notes.placeholder": "Write a note…",
    "notes.add": "Add note",
    "notes.none": "No notes yet",
    "notes.saved": "Note saved",
    "tags.label": "Tags",
    "tags.placeholder": "Add a tag, press Enter",
    "tags.remove": "Remove tag {t}",
    "intent.label": "Intent (corrected)",
    "intent.bot": "Bot recognised: {i}",
    "intent.botNone": "Bot recognised: none",
    "intent.saved": "Intent corrected to {i}",
    "intent.cleared": "Back to the bot's intent",
  },
};

const t = makeT(STRINGS);
const seg = (value) => encodeURIComponent(value).replace(/%3A/gi, ":");

/** call: the workbench's authenticated fetch; me(): the agent's id. */
export function createNotes({ call, me }) {
  const state = { id: null, tags: [], intent: null, bot: null };
  const section = $("#notes-section");

  for (const node of section.querySelectorAll("[data-i18n-notes]")) setText(node, t(node.dataset.i18nNotes));
  $("#note-input").placeholder = t("notes.placeholder");
  $("#tag-input").placeholder = t("tags.placeholder");

  $("#note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = state.id;
    const input = $("#note-input");
    const text = input.value.trim();
    if (!id || !text) return;
    try {
      await call(`/api/v1/conversations/${seg(id)}/notes`, { method: "POST", body: { text } });
      if (input.value.trim() === text) input.value = "";
      toast(t("notes.saved"));
      if (state.id === id) loadNotes(id);
    } catch (err) {
      toast(errText(err), "error");
    }
  });
  $("#note-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#note-form").requestSubmit();
    }
  });
  $("#tag-input").addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    const tag = event.target.value.trim();
    if (!tag || state.tags.includes(tag)) return;
    event.target.value = "";
    save([...state.tags, tag], state.intent);
  });
  $("#intent-select").addEventListener("change", (event) => save(state.tags, event.target.value || null));

  async function loadNotes(id) {
    try {
      const notes = (await call(`/api/v1/conversations/${seg(id)}/notes`)).notes || [];
      if (state.id !== id) return;
      fill($("#notes-list"), ...(notes.length ? notes.map((n) => el("li", { class: "note-item", testid: "ag-note" },
        el("div", { class: "small faint" },
          el("span", { text: n.author === me() ? `${n.author} ✓` : n.author }), " · ",
          el("span", { text: formatTime(n.created_at) })),
        el("div", { class: "note-text", text: n.text }))) : [el("li", { class: "faint small", text: t("notes.none") })]));
    } catch (err) {
      if (state.id === id) fill($("#notes-list"), el("li", { class: "error-text", text: errText(err) }));
    }
  }

  function paintTags() {
    fill($("#tags-list"), ...state.tags.map((tag) => el("span", { class: "badge tag-chip", testid: "ag-tag" },
      el("span", { text: tag }),
      el("button", {
        type: "button", class: "tag-remove", text: "×", "aria-label": t("tags.remove", { t: tag }),
        on: { click: () => save(state.tags.filter((x) => x !== tag), state.intent) },
      }))));
  }

  function paintIntent(intents) {
    const select = $("#intent-select");
    if (intents) {
      fill(select, el("option", { value: "", text: state.bot ? t("intent.bot", { i: state.bot }) : t("intent.botNone") }),
        ...intents.map((i) => el("option", { value: i.id, text: `${i.label} (${i.id})` })));
    }
    select.value = state.intent || "";
  }

  function apply(data) {
    state.tags = data.tags || [];
    state.intent = data.intent || null;
    state.bot = data.bot_intent || null;
    paintTags();
    paintIntent(data.intents);
  }

  async function loadTags(id) {
    try {
      const data = await call(`/api/v1/conversations/${seg(id)}/tags`);
      if (state.id === id) apply(data);
    } catch {
      /* the list refresh reports lost access */
    }
  }

  async function save(tags, intent) {
    const id = state.id;
    if (!id) return;
    const changed = intent !== state.intent;
    try {
      const data = await call(`/api/v1/conversations/${seg(id)}/tags`, { method: "PUT", body: { tags, intent } });
      if (state.id !== id) return;
      apply(data);
      if (changed) toast(intent ? t("intent.saved", { i: intent }) : t("intent.cleared"));
    } catch (err) {
      toast(errText(err), "error");
      paintIntent();
    }
  }

  return {
    open(id) {
      if (state.id === id) return;
      state.id = id;
      fill($("#notes-list"));
      fill($("#tags-list"));
      $("#note-input").value = "";
      section.hidden = false;
      loadNotes(id);
      loadTags(id);
    },
    close() {
      state.id = null;
      section.hidden = true;
    },
  };
}
