// The workbench's quick replies: FAQ answers (in the conversation's language), the best ones for the buyer's last
// message first, or those containing a keyword the agent types (GET /api/v1/faq/entries?q=…&keyword=…). A chip
// shows the answer and puts it into the reply box (at the cursor), to be edited before sending: never sent at once.
import { $, el, fill, makeT } from "./common.js";

const STRINGS = {
  zh: {
    "quick.label": "快捷回复",
    "quick.search": "搜索答案关键词",
    "quick.none": "没有匹配的快捷回复",
    "quick.insert": "插入输入框，可修改后再发送",
  },
  en: {
    "quick.label": "Quick replies",
    "quick.search": "Search answers",
    "quick.none": "No matching quick replies",
    "quick.insert": "Put into the reply box to edit before sending",
  },
};

const t = makeT(STRINGS);
const SHOWN = 6;

function pickAnswer(answer, lang) {
  if (!answer) return "";
  if (typeof answer === "string") return answer;
  return answer[lang] || answer.zh || answer.en || Object.values(answer)[0] || "";
}

/** The text of `input` with `answer` at the cursor (replacing a selection; on its own line when there is text). */
function inserted(input, answer) {
  const value = input.value;
  if (!value.trim()) return { value: answer, cursor: answer.length };
  const start = input.selectionStart ?? value.length;
  const end = input.selectionEnd ?? value.length;
  const before = value.slice(0, start);
  const gap = before && !/\s$/.test(before) ? " " : "";
  const text = gap + answer;
  return { value: before + text + value.slice(end), cursor: start + text.length };
}

/**
 * call: the workbench's authenticated fetch; selected(): the open conversation id; lang(): its language;
 * use(value, cursor): put the new reply text in the box (the workbench's own, which also resets its warnings).
 */
export function createQuickReplies({ call, selected, lang, use }) {
  const box = $("#quick-replies");
  const search = el("input", {
    class: "input quick-search", type: "search", testid: "ag-quick-search", maxlength: "100",
    placeholder: t("quick.search"), "aria-label": t("quick.search"), spellcheck: "false",
  });
  const chips = el("span", { class: "quick-chips" });
  let buyerText = "";
  let seq = 0;
  let timer = null;

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      const first = chips.querySelector("button");
      if (first) first.click();
    }
  });

  async function load() {
    const id = selected();
    const mine = ++seq;
    const keyword = search.value.trim();
    const params = new URLSearchParams();
    if (buyerText) params.set("q", buyerText.slice(0, 200));
    if (keyword) params.set("keyword", keyword);
    let entries = [];
    try {
      const query = params.toString();
      entries = (await call(`/api/v1/faq/entries${query ? `?${query}` : ""}`)).entries || [];
    } catch {
      entries = [];
    }
    if (mine !== seq || selected() !== id) return;
    const language = lang();
    fill(chips, ...(entries.length ? entries.slice(0, SHOWN).map((entry) => {
      const answer = pickAnswer(entry.answer, language);
      return el("button", {
        type: "button", class: "chip quick-answer", testid: "ag-quick-reply", text: answer,
        title: `${answer}\n\n${t("quick.insert")}`, dataset: { entryId: entry.id },
        on: {
          click: () => {
            const input = $("#reply-input");
            const next = inserted(input, answer);
            use(next.value, next.cursor);
          },
        },
      });
    }) : [el("span", { class: "faint small", text: t("quick.none") })]));
  }

  return {
    /** The buyer's latest text changed (or another conversation was opened): suggest for it. */
    suggest(text, fresh) {
      buyerText = text || "";
      if (fresh) search.value = "";
      if (!box.contains(search)) fill(box, el("span", { class: "label", text: t("quick.label") }), search, chips);
      load();
    },
  };
}
