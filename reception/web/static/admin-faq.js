// The dashboard's FAQ section: the FAQ's status banner and the unanswered questions, each attached to an
// entry or made a new entry in two clicks. Buyers' texts go in as text only (el / textContent).
import { $, ApiError, el, fill, formatTime, setText, show, toast, reportError } from "./common.js";

export const FAQ_STRINGS = {
  zh: {
    "unanswered.title": "未解决的问题",
    "unanswered.hint": "近 7 天买家问过、机器人没把握回答的问题，按相似归组。加到一个问答里，机器人下次就会回答。",
    "unanswered.none": "没有未解决的问题",
    "unanswered.times": "{n} 次",
    "unanswered.closest": "最接近：",
    "unanswered.noClosest": "没有接近的问答",
    "unanswered.conf": "置信度 {c}",
    "unanswered.last": "最近 {t}",
    "unanswered.also": "其他问法：",
    "unanswered.pick": "加到哪个问答",
    "unanswered.add": "加到这个问答",
    "unanswered.new": "新建问答",
    "unanswered.added": "已加到问答 {id}，机器人现在会回答这个问题",
    "unanswered.created": "已新建问答 {id}，机器人现在会回答这个问题",
    "new.id": "问答 id（字母、数字、_ - .）",
    "new.idPlaceholder": "例如 microwave_safe",
    "new.question": "买家的问法",
    "new.zh": "中文回答",
    "new.en": "英文回答",
    "new.save": "保存问答",
    "new.cancel": "取消",
    "new.missing": "请填写 id 和至少一种语言的回答",
    "doctor.calibration": "本 FAQ（{lang}）：置信度 ≥ {t} 才回答；逐条留出自己的问法时回答了 {a}（买家的问法通常更接近）；预计答错约 {w}",
    "doctor.confusions": "容易和它混淆：",
    "doctor.confusion": "{a} → {b}（{n} 次）：{ex}",
    "doctor.few": "{lang} 问法只有 {n} 条，建议至少 5 条",
    "doctor.shared": "问法“{p}”同时写在：{ids}",
    "doctor.missing": "缺少{lang}回答（买家会看到另一种语言）",
    "doctor.healthy": "这个问答没有需要改进的地方",
    "lang.zh": "中文",
    "lang.en": "英文",
    "faq.error": "FAQ 文件有错误，机器人仍在用上一次加载的问答：{e}",
    "faq.err.duplicate_phrasing": "这个问法已经在另一个问答里了：{m}",
    "faq.err.duplicate_id": "已经有这个 id 的问答了，请换一个 id",
    "faq.err.unknown_entry": "这个问答已不存在，请刷新",
    "faq.err.faq_refused": "没有保存，FAQ 文件无法加载：{m}",
    "faq.err.invalid_field": "填写有误：{m}",
  },
  en: {
    "unanswered.title": "Unanswered questions",
    "unanswered.hint": "What buyers asked in the last 7 days that the bot was not sure enough to answer, grouped by similarity. Add one to an entry and the bot answers it next time.",
    "unanswered.none": "No unanswered questions",
    "unanswered.times": "{n}×",
    "unanswered.closest": "Closest: ",
    "unanswered.noClosest": "No entry is close",
    "unanswered.conf": "confidence {c}",
    "unanswered.last": "last {t}",
    "unanswered.also": "Also asked as: ",
    "unanswered.pick": "Entry to add it to",
    "unanswered.add": "Add to this entry",
    "unanswered.new": "New entry",
    "unanswered.added": "Added to {id}: the bot answers this question now",
    "unanswered.created": "Created {id}: the bot answers this question now",
    "new.id": "Entry id (letters, digits, _ - .)",
    "new.idPlaceholder": "e.g. microwave_safe",
    "new.question": "The buyer's question",
    "new.zh": "Answer in Chinese",
    "new.en": "Answer in English",
    "new.save": "Save entry",
    "new.cancel": "Cancel",
    "new.missing": "Fill in the id and an answer in at least one language",
    "doctor.calibration": "This FAQ ({lang}): answers at confidence ≥ {t}; it answered {a} of its own phrasings held out one by one (buyers\u2019 questions are usually closer); about {w} of answers expected wrong",
    "doctor.confusions": "Easily confused with it:",
    "doctor.confusion": "{a} → {b} ({n}×): {ex}",
    "doctor.few": "Only {n} phrasings in {lang}; 5 or more is better",
    "doctor.shared": "The phrasing “{p}” is written in: {ids}",
    "doctor.missing": "No answer in {lang} (buyers get the other language)",
    "doctor.healthy": "Nothing to improve in this entry",
    "lang.zh": "Chinese",
    "lang.en": "English",
    "faq.error": "An FAQ file has an error; the bot keeps answering with the FAQ loaded before: {e}",
    "faq.err.duplicate_phrasing": "That question is already in another entry: {m}",
    "faq.err.duplicate_id": "There already is an entry with this id; choose another",
    "faq.err.unknown_entry": "That entry no longer exists; refresh the page",
    "faq.err.faq_refused": "Not saved, the FAQ files would not load: {m}",
    "faq.err.invalid_field": "Please check the form: {m}",
  },
};

const state = { call: null, t: null, editing: false, chosen: new Map(), entries: [] };

/** Wire the section: `call` is the dashboard's authenticated fetch, `t` its translator. */
export function initFaqSection(call, t) {
  state.call = call;
  state.t = t;
}

/** Fetch and show the status banner and the unanswered questions (kept as they are while a form is open). */
export async function refreshFaq() {
  const [status, unanswered] = await Promise.allSettled([
    state.call("/api/v1/faq/status"),
    state.call("/api/v1/faq/unanswered"),
  ]);
  if (status.status === "fulfilled") renderBanner(status.value);
  if (state.editing) return;
  if (unanswered.status === "fulfilled") renderGroups(unanswered.value);
  else fill($("#unanswered"), el("li", { class: "section-error", text: unanswered.reason.message }));
}

function renderBanner(status) {
  const banner = $("#faq-banner");
  setText(banner, status.error ? state.t("faq.error", { e: status.error }) : "");
  show(banner, Boolean(status.error));
}

const fmt = (v) => (typeof v === "number" ? v.toFixed(2) : "—");

function renderGroups(data) {
  const t = state.t;
  const groups = data.groups || [];
  state.entries = data.entries || [];
  setText($("#unanswered-count"), String(groups.length));
  if (!groups.length) {
    fill($("#unanswered"), el("li", { class: "empty", testid: "ad-unanswered-empty", text: t("unanswered.none") }));
    return;
  }
  fill($("#unanswered"), ...groups.map(renderGroup));
}

function renderGroup(g) {
  const t = state.t;
  const closest = g.closest;
  const select = el("select", { class: "select", testid: "ad-unanswered-entry", "aria-label": t("unanswered.pick") },
    ...state.entries.map((e) => el("option", { value: e.id, text: `${e.id} · ${e.question}` })));
  const chosen = state.chosen.get(g.text) || (closest && closest.id);
  if (chosen && state.entries.some((e) => e.id === chosen)) select.value = chosen;
  select.addEventListener("change", () => state.chosen.set(g.text, select.value));
  const item = el("li", { class: "unanswered-item", testid: "ad-unanswered-item", dataset: { count: String(g.count), text: g.text } });
  const add = el("button", { class: "btn primary small", type: "button", testid: "ad-unanswered-add", text: t("unanswered.add") });
  const create = el("button", { class: "btn small", type: "button", testid: "ad-unanswered-new", text: t("unanswered.new") });
  add.addEventListener("click", () => attach(item, g, select.value, add));
  create.addEventListener("click", () => openForm(item, g));
  const others = (g.examples || []).filter((x) => x !== g.text);
  fill(item,
    el("div", { class: "unanswered-head" },
      el("span", { class: "badge amber", testid: "ad-unanswered-count", text: t("unanswered.times", { n: g.count }) }),
      el("span", { class: "unanswered-text", testid: "ad-unanswered-text", text: g.text })),
    others.length ? el("div", { class: "small muted" }, t("unanswered.also"), others.join(" · ")) : null,
    el("div", { class: "small muted", testid: "ad-unanswered-closest" },
      closest ? [t("unanswered.closest"), el("span", { class: "badge accent mono", text: closest.id }), " ",
        t("unanswered.conf", { c: fmt(closest.confidence) })] : t("unanswered.noClosest"),
      ` · ${t("unanswered.last", { t: formatTime(g.last_seen) })}`),
    el("div", { class: "unanswered-tools" }, select, add, create));
  return item;
}

function problem(err) {
  const t = state.t;
  if (err instanceof ApiError && err.status !== 401) {
    const key = `faq.err.${err.code}`;
    const text = t(key, { m: err.message });
    if (text !== key) return text;
  }
  return null;
}

async function attach(item, g, entryId, button) {
  if (!entryId) return;
  button.disabled = true;
  try {
    await state.call(`/api/v1/faq/entries/${encodeURIComponent(entryId)}/phrasings`, { method: "POST", body: { text: g.text } });
    done(item, state.t("unanswered.added", { id: entryId }));
  } catch (err) {
    const text = problem(err);
    text ? toast(text, "error") : reportError(err);
    button.disabled = false;
    refreshFaq();
  }
}

function done(item, message) {
  state.editing = false;
  state.chosen.delete(item.dataset.text);
  item.remove();
  const left = document.querySelectorAll("#unanswered [data-testid=ad-unanswered-item]").length;
  setText($("#unanswered-count"), String(left));
  toast(message);
  refreshFaq();
}

function field(label, input) {
  return el("label", { class: "field" }, el("span", { text: label }), input);
}

function openForm(item, g) {
  const t = state.t;
  if (item.querySelector("form")) return;
  state.editing = true;
  const id = el("input", { class: "input", testid: "ad-new-id", maxlength: 64, placeholder: t("new.idPlaceholder"), required: true });
  const question = el("input", { class: "input", testid: "ad-new-question", maxlength: 500 });
  question.value = g.text;
  const zh = el("textarea", { class: "textarea", testid: "ad-new-zh", maxlength: 4000 });
  const en = el("textarea", { class: "textarea", testid: "ad-new-en", maxlength: 4000 });
  const save = el("button", { class: "btn primary small", type: "submit", testid: "ad-new-save", text: t("new.save") });
  const cancel = el("button", { class: "btn ghost small", type: "button", testid: "ad-new-cancel", text: t("new.cancel") });
  const form = el("form", { class: "unanswered-form", testid: "ad-new-form", novalidate: true },
    field(t("new.id"), id), field(t("new.question"), question), field(t("new.zh"), zh), field(t("new.en"), en),
    el("div", { class: "unanswered-tools" }, save, cancel));
  cancel.addEventListener("click", () => {
    form.remove();
    state.editing = Boolean(document.querySelector("#unanswered form"));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = {};
    if (zh.value.trim()) answer.zh = zh.value.trim();
    if (en.value.trim()) answer.en = en.value.trim();
    if (!id.value.trim() || !question.value.trim() || !Object.keys(answer).length) return toast(t("new.missing"), "error");
    save.disabled = true;
    try {
      const body = { id: id.value.trim(), questions: [question.value.trim()], answer };
      if (question.value.trim() !== g.text) body.questions.push(g.text);
      await state.call("/api/v1/faq/entries", { method: "POST", body });
      done(item, t("unanswered.created", { id: body.id }));
    } catch (err) {
      const text = problem(err);
      text ? toast(text, "error") : reportError(err);
      save.disabled = false;
    }
  });
  item.appendChild(form);
  id.focus();
}


const pct = (x) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

// The FAQ doctor's word on the entry the try-out matched: this FAQ's calibration for the text's language,
// then the advice that concerns the entry (`advice` and `calibration` of POST /api/v1/faq/try).
export function doctorNode(r, t) {
  const items = [];
  const c = r.calibration;
  if (c) {
    const lang = t(`lang.${r.lang || "zh"}`);
    items.push(el("div", { class: "small", testid: "ad-try-calibration",
      text: t("doctor.calibration", { lang, t: c.threshold.toFixed(2), a: pct(c.answer_rate), w: pct(c.wrong_share) }) }));
  }
  const a = r.advice;
  if (!a) return items.length ? el("div", { class: "doctor" }, ...items) : null;
  const advice = [];
  for (const x of a.confusions) {
    advice.push(t("doctor.confusion", { a: x.entry, b: x.other, n: x.count, ex: x.examples.join(" | ") }));
  }
  for (const x of a.few_phrasings) advice.push(t("doctor.few", { n: x.count, lang: t(`lang.${x.lang}`) }));
  for (const x of a.shared_phrasings) advice.push(t("doctor.shared", { p: x.phrasing, ids: x.entries.join(", ") }));
  for (const lang of a.missing_answers) advice.push(t("doctor.missing", { lang: t(`lang.${lang}`) }));
  items.push(advice.length
    ? el("ul", { class: "small", testid: "ad-try-advice" }, ...advice.map((text) => el("li", { text })))
    : el("div", { class: "small muted", testid: "ad-try-advice", text: t("doctor.healthy") }));
  return el("div", { class: "doctor" }, ...items);
}
