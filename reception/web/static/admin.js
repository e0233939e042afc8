// The shop dashboard (/admin): today's figures, agents, queue, offline pool, modes, FAQ try-out,
// and (admin-faq.js) the FAQ's status and the unanswered questions.
import { FAQ_STRINGS, doctorNode, initFaqSection, refreshFaq } from "./admin-faq.js";
import {
  $, ApiError, LANG, api, el, every, fill, formatDuration, formatPercent, formatTime, makeT, reasonLabel, session,
  setText, show, statusLabel, svg, translatePage, toast, errText, reportError,
} from "./common.js";
import { bt, buyerName, formatInZone, previewText } from "./buyer.js";

const STRINGS = {
  zh: {
    "app.title": "店铺看板",
    "login.hint": "输入 reception.toml 中 [admin] 的管理令牌。",
    "login.token": "管理令牌",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.missing": "请输入管理令牌",
    "login.bad": "管理令牌不正确",
    "login.expired": "登录已失效，请重新登录",
    "refresh": "刷新",
    "updated": "更新于 {t}",
    "cards.title": "今日数据",
    "card.sessions": "今日会话",
    "card.sessions.sub": "人工 {a} · 排队 {q} · 离线池 {p}",
    "card.botOnly": "机器人独立解决",
    "card.botOnly.sub": "{n} / {total} 个会话",
    "card.handovers": "转人工",
    "card.handovers.none": "今天还没有转人工",
    "card.firstReply": "2 分钟内首次回复",
    "card.firstReply.sub": "平台考核：买家转人工后 2 分钟内回复",
    "card.avgFirst": "平均首次回复",
    "card.avgFirst.sub": "从买家要求人工到客服首次回复",
    "card.ratings": "满意度",
    "card.ratings.sub": "满意 {s} · 一般 {n} · 不满意 {d}",
    "card.ratings.none": "今天还没有评价",
    "chart.title": "按小时：会话与转人工",
    "chart.sessions": "会话",
    "chart.handovers": "转人工",
    "chart.hour": "{h} 时",
    "chart.tip": "{h}:00–{h}:59　会话 {s}　转人工 {o}",
    "agents.title": "客服与接待量",
    "agents.none": "reception.toml 里还没有配置客服（[[agents]]）",
    "login.demoHint": "演示店铺（没有 reception.toml）：管理令牌在启动 reception serve 的终端里，形如「demo shop: admin token for this run is …」，每次启动都会换新。",
    "agents.demoNone": "演示店铺没有配置客服。用 reception init 生成配置文件，在 [[agents]] 中添加客服后用 --config 启动。",
    "card.handovers.sub": "会话数，按首次转人工的原因",
    "card.firstReply.few": "{ok}/{n} 个及时；少于 {min} 个，平台暂不考核",
    "card.firstReply.window": "考核时段 {w}：买家转人工后 2 分钟内回复",
    "card.firstReply.none": "考核时段 {w} 内今天还没有转人工",
    "card.avgResponse": "平均响应时长",
    "card.avgResponse.sub": "考核时段 {w}：买家每次等待人工回复的平均时长",
    "card.avgResponse.none": "考核时段内还没有人工回复",
    "tz.label": "时间为店铺时区 {tz}",
    "agents.load": "接待 {l}/{m}",
    "queue.title": "排队中",
    "queue.none": "没有买家在排队",
    "col.pos": "#",
    "col.buyer": "买家",
    "col.group": "分组",
    "col.reason": "原因",
    "col.waiting": "等待",
    "col.pooled": "留言时间",
    "pool.title": "离线消息池",
    "pool.none": "离线消息池是空的",
    "pool.next": "下次自动分配 {t}",
    "pool.noNext": "自动分配未开启",
    "pool.assign": "分配",
    "pool.run": "立即分配一次",
    "pool.pickAgent": "选择客服…",
    "pool.selectAll": "全选",
    "pool.needSelection": "请先勾选买家",
    "pool.needAgent": "请选择要分配给的客服",
    "pool.assigned": "已分配",
    "pool.failed": "未分配：{r}",
    "pool.ran": "已运行：分配 {a} / {c}",
    "pool.ranReason": "未运行：{r}",
    "runs.title": "最近的自动分配",
    "runs.none": "还没有分配记录",
    "runs.counts": "考虑 {c} · 分配 {a} · 上限 {cap}",
    "runs.failures": "{n} 位买家留在池中",
    "runs.more": "… 另有 {n} 位",
    "trigger.schedule": "定时",
    "trigger.manual": "手动",
    "modes.title": "运营模式",
    "modes.big_sale": "大促模式",
    "modes.big_sale.desc": "大促期间的接待方式",
    "modes.penalty": "处罚期模式",
    "modes.penalty.desc": "店铺受处罚期间更严格的回复要求",
    "modes.note": "大促模式在 reception.toml 的 [big_sale] 中设置（可设起止时间，无需重启）；处罚期模式可在此直接开关。",
    "modes.penalty.switched_on": "已开启处罚期模式：机器人优先接待",
    "modes.penalty.switched_off": "已关闭处罚期模式",
    "modes.on": "已开启",
    "modes.off": "未开启",
    "try.title": "试一试机器人",
    "try.placeholder": "输入一句买家可能说的话，例如：什么时候发货",
    "try.submit": "试一下",
    "try.busy": "…",
    "try.answer": "机器人会直接回答",
    "try.handover": "会转人工：{r}",
    "try.noAnswer": "机器人不会回答",
    "try.matched": "匹配的问答",
    "try.noMatch": "没有匹配的问答",
    "try.confidence": "置信度 {c}",
    "try.threshold": "阈值 {t}",
    "try.runnerUp": "第二候选：",
    "try.runnerUpConf": "（置信度 {c}）",
    "try.reply": "机器人的回答",
    "try.replyUnused": "该问答的回答（这次不会发出）",
    "unavailable": "暂不可用：{e}",
  },
  en: {
    "app.title": "Shop dashboard",
    "login.hint": "Enter the admin token from [admin] in reception.toml.",
    "login.token": "Admin token",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.missing": "Enter the admin token",
    "login.bad": "The admin token is not correct",
    "login.expired": "Your session has expired; please sign in again",
    "refresh": "Refresh",
    "updated": "Updated {t}",
    "cards.title": "Today",
    "card.sessions": "Sessions today",
    "card.sessions.sub": "with agents {a} · queued {q} · pool {p}",
    "card.botOnly": "Solved by the bot",
    "card.botOnly.sub": "{n} of {total} sessions",
    "card.handovers": "Handovers",
    "card.handovers.none": "No handovers yet today",
    "card.firstReply": "First reply within 2 min",
    "card.firstReply.sub": "The platform's rule after a buyer asks for a human",
    "card.avgFirst": "Average first reply",
    "card.avgFirst.sub": "From asking for a human to the first reply",
    "card.ratings": "Satisfaction",
    "card.ratings.sub": "satisfied {s} · neutral {n} · dissatisfied {d}",
    "card.ratings.none": "No ratings yet today",
    "chart.title": "By hour: sessions and handovers",
    "chart.sessions": "Sessions",
    "chart.handovers": "Handovers",
    "chart.hour": "{h}h",
    "chart.tip": "{h}:00–{h}:59  sessions {s}  handovers {o}",
    "agents.title": "Agents and load",
    "agents.none": "No agents configured in reception.toml yet ([[agents]])",
    "login.demoHint": "Demo shop (no reception.toml): the admin token is in the terminal that runs reception serve, as \"demo shop: admin token for this run is …\"; it changes at every start.",
    "agents.demoNone": "The demo shop has no agents. Run reception init for a config file, add agents under [[agents]] and start with --config.",
    "card.handovers.sub": "sessions, by their first handover reason",
    "card.firstReply.few": "{ok} of {n} in time; below {min}, the platform does not rate yet",
    "card.firstReply.window": "Window {w}: reply within 2 min of the request",
    "card.firstReply.none": "No handovers in the window {w} yet today",
    "card.avgResponse": "Average response time",
    "card.avgResponse.sub": "Window {w}: the mean wait for an agent's reply",
    "card.avgResponse.none": "No agent replies in the window yet",
    "tz.label": "times in the shop's timezone {tz}",
    "agents.load": "load {l}/{m}",
    "queue.title": "Queue",
    "queue.none": "Nobody is queueing",
    "col.pos": "#",
    "col.buyer": "Buyer",
    "col.group": "Group",
    "col.reason": "Reason",
    "col.waiting": "Waiting",
    "col.pooled": "Left at",
    "pool.title": "Offline message pool",
    "pool.none": "The offline pool is empty",
    "pool.next": "next auto-assignment {t}",
    "pool.noNext": "auto-assignment is off",
    "pool.assign": "Assign",
    "pool.run": "Run now",
    "pool.pickAgent": "Choose an agent…",
    "pool.selectAll": "Select all",
    "pool.needSelection": "Tick some buyers first",
    "pool.needAgent": "Choose the agent to assign to",
    "pool.assigned": "assigned",
    "pool.failed": "not assigned: {r}",
    "pool.ran": "Ran: assigned {a} of {c}",
    "pool.ranReason": "Did not run: {r}",
    "runs.title": "Latest assignment runs",
    "runs.none": "No runs yet",
    "runs.counts": "considered {c} · assigned {a} · cap {cap}",
    "runs.failures": "{n} buyers left in the pool",
    "runs.more": "… and {n} more",
    "trigger.schedule": "scheduled",
    "trigger.manual": "manual",
    "modes.title": "Modes",
    "modes.big_sale": "Big-sale mode",
    "modes.big_sale.desc": "Service settings for big sales",
    "modes.penalty": "Penalty mode",
    "modes.penalty.desc": "Stricter replies while the shop is penalised",
    "modes.note": "Big-sale mode is set in reception.toml under [big_sale] (with an optional window, no restart needed); penalty mode is switched here.",
    "modes.penalty.switched_on": "Penalty mode on: the bot takes buyers first",
    "modes.penalty.switched_off": "Penalty mode off",
    "modes.on": "on",
    "modes.off": "off",
    "try.title": "Try the bot",
    "try.placeholder": "Type something a buyer might say, e.g. when will it ship",
    "try.submit": "Try",
    "try.busy": "…",
    "try.answer": "The bot would answer",
    "try.handover": "It would hand over: {r}",
    "try.noAnswer": "The bot would not answer",
    "try.matched": "Matched entry",
    "try.noMatch": "No entry matches",
    "try.confidence": "confidence {c}",
    "try.threshold": "threshold {t}",
    "try.runnerUp": "Runner-up: ",
    "try.runnerUpConf": " (confidence {c})",
    "try.reply": "The bot's answer",
    "try.replyUnused": "That entry's answer (not sent this time)",
    "unavailable": "Not available: {e}",
  },
};

const t = makeT({ zh: { ...STRINGS.zh, ...FAQ_STRINGS.zh }, en: { ...STRINGS.en, ...FAQ_STRINGS.en } });
const AUTH_KEY = "reception.admin";
const REFRESH_MS = 10000;
const COLORS = { sessions: "#1f7a6d", handovers: "#e0a040" };

const state = {
  token: null,
  agents: [],
  poolSelected: new Set(),
  poolIds: [],
  openRuns: new Set(),
  stopTimer: null,
  refreshing: false,
  demo: false,
  timezone: null, // the shop's ([hours] timezone), from /api/v1/web/setup and the figures
};

function call(path, options = {}) {
  return api(path, { ...options, token: state.token }).catch((err) => {
    if (err instanceof ApiError && err.status === 401 && state.token) signOut(t("login.expired"));
    throw err;
  });
}

const sectionError = (err) => el("div", { class: "section-error", text: t("unavailable", { e: errText(err) }) });
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

// ---------- sign-in ----------

async function signIn(event) {
  event.preventDefault();
  const token = $("#login-token").value.trim();
  const error = $("#login-error");
  setText(error, "");
  if (!token) {
    setText(error, t("login.missing"));
    return;
  }
  const button = $("#login-submit");
  button.disabled = true;
  setText(button, t("login.busy"));
  try {
    await api("/api/v1/agents", { token });
    state.token = token;
    session.set(AUTH_KEY, { token });
    $("#login-token").value = "";
    start();
  } catch (err) {
    setText(error, err instanceof ApiError && (err.status === 401 || err.status === 403) ? t("login.bad") : errText(err));
  } finally {
    button.disabled = false;
    setText(button, t("login.submit"));
  }
}

function signOut(message) {
  session.remove(AUTH_KEY);
  state.token = null;
  if (state.stopTimer) state.stopTimer();
  state.stopTimer = null;
  show($("#app"), false);
  show($("#login"));
  setText($("#login-error"), message || "");
  $("#login-token").focus();
}

function start() {
  show($("#login"), false);
  show($("#app"));
  refresh();
  if (state.stopTimer) state.stopTimer();
  state.stopTimer = every(REFRESH_MS, refresh);
}

async function resume() {
  const saved = session.get(AUTH_KEY);
  if (!saved || !saved.token) {
    show($("#login"));
    $("#login-token").focus();
    return;
  }
  state.token = saved.token;
  start();
}

// ---------- refresh ----------

async function refresh() {
  if (!state.token || state.refreshing) return;
  state.refreshing = true;
  try {
    const [stats, agents, queue, pool, runs, modes] = await Promise.allSettled([
      call("/api/v1/stats/today"),
      call("/api/v1/agents"),
      call("/api/v1/queue"),
      call("/api/v1/offline-pool"),
      call("/api/v1/offline-pool/runs"),
      call("/api/v1/modes"),
    ]);
    if (!state.token) return;
    if (stats.status === "fulfilled") {
      renderCards(stats.value);
      renderChart(stats.value.by_hour || []);
    } else {
      fill($("#cards"), sectionError(stats.reason));
      fill($("#chart"), sectionError(stats.reason));
    }
    if (agents.status === "fulfilled") renderAgents(agents.value.agents || []);
    else fill($("#agents"), sectionError(agents.reason));
    if (queue.status === "fulfilled") renderQueue(queue.value.queue || []);
    else fill($("#queue"), sectionError(queue.reason));
    if (pool.status === "fulfilled") renderPool(pool.value);
    else fill($("#pool"), sectionError(pool.reason));
    if (runs.status === "fulfilled") renderRuns(runs.value.runs || []);
    else fill($("#runs"), el("li", {}, sectionError(runs.reason)));
    if (modes.status === "fulfilled") renderModes(modes.value);
    else fill($("#modes"), sectionError(modes.reason));
    await refreshFaq();
    setText($("#updated"), t("updated", { t: new Date().toLocaleTimeString(LANG === "zh" ? "zh-CN" : "en-GB") }));
  } finally {
    state.refreshing = false;
  }
}

// ---------- today's cards ----------

function card(label, value, sub, extra, key) {
  return el("div", { class: "panel card", testid: "ad-card", dataset: { card: key } },
    el("div", { class: "label", text: label }),
    el("div", { class: "value" }, value),
    sub ? el("div", { class: "sub" }, sub) : null,
    extra || null);
}

function rate(v) {
  if (v === null || v === undefined) return null;
  return v > 1 ? v / 100 : v;
}

function renderCards(s) {
  const sessions = num(s.sessions);
  const botOnly = num(s.bot_only);
  const handovers = s.handovers || {};
  const handoverTotal = typeof s.human_requests === "number" ? s.human_requests
    : Object.values(handovers).reduce((a, b) => a + num(b), 0);
  const a = s.assessment || {};
  const w = a.window || "";
  if (s.timezone) state.timezone = s.timezone;
  const ratings = s.ratings || {};
  const rs = num(ratings.satisfied), rn = num(ratings.neutral), rd = num(ratings.dissatisfied);
  const rTotal = rs + rn + rd;
  const first = rate(a.first_reply_2min_rate ?? s.first_reply_2min_rate);
  const requests = num(a.human_requests);
  const few = requests > 0 && requests < num(a.min_volume);
  const firstSub = !requests ? t("card.firstReply.none", { w })
    : few ? t("card.firstReply.few", { ok: num(a.first_replies_in_time), n: requests, min: num(a.min_volume) })
      : t("card.firstReply.window", { w });
  const avg = a.avg_response_seconds;
  if (s.date) setText($("#today"), s.timezone ? `${s.date} (${s.timezone})` : s.date);

  const reasonChips = Object.entries(handovers)
    .filter(([, n]) => num(n) > 0)
    .sort((a, b) => num(b[1]) - num(a[1]))
    .map(([reason, n]) => el("span", { class: "badge", dataset: { reason } }, `${reasonLabel(reason)} ${n}`));

  const ratingBar = rTotal
    ? el("div", { class: "rating-bar", title: t("card.ratings.sub", { s: rs, n: rn, d: rd }) },
      el("span", { style: { width: `${(rs / rTotal) * 100}%`, background: "var(--green)" } }),
      el("span", { style: { width: `${(rn / rTotal) * 100}%`, background: "#c9d1d9" } }),
      el("span", { style: { width: `${(rd / rTotal) * 100}%`, background: "var(--red)" } }))
    : null;

  fill($("#cards"),
    card(t("card.sessions"), String(sessions),
      t("card.sessions.sub", { a: num(s.assigned), q: num(s.queued_now), p: num(s.pool_now) }), null, "sessions"),
    card(t("card.botOnly"), sessions ? formatPercent(botOnly / sessions) : "—",
      t("card.botOnly.sub", { n: botOnly, total: sessions }), null, "bot_only"),
    card(t("card.handovers"), String(handoverTotal),
      reasonChips.length ? [t("card.handovers.sub"), " ", ...reasonChips] : t("card.handovers.none"), null, "handovers"),
    card(t("card.firstReply"),
      el("span", { class: first === null || few ? "" : first >= 0.9 ? "good" : first < 0.7 ? "bad" : "", text: formatPercent(first) }),
      firstSub, null, "first_reply"),
    card(t("card.avgResponse"),
      avg === null || avg === undefined ? "—" : formatDuration(avg),
      avg === null || avg === undefined ? t("card.avgResponse.none") : t("card.avgResponse.sub", { w }), null, "avg_first_reply"),
    card(t("card.ratings"), rTotal ? formatPercent(rs / rTotal) : "—",
      rTotal ? t("card.ratings.sub", { s: rs, n: rn, d: rd }) : t("card.ratings.none"), ratingBar, "ratings"));
}

// ---------- the chart (inline SVG) ----------

/** A y-axis top with four whole-number steps: 7 → 8, 23 → 40, 130 → 200. */
function niceMax(v) {
  const raw = Math.max(1, v / 4);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((m) => m * mag >= raw) * mag;
  return Math.max(1, Math.ceil(step)) * 4;
}

let lastHours = null;

function renderChart(byHour) {
  lastHours = byHour;
  const hours = Array.from({ length: 24 }, (_, h) => ({ hour: h, sessions: 0, handovers: 0 }));
  for (const row of byHour) {
    const h = Number(row.hour);
    if (Number.isInteger(h) && h >= 0 && h < 24) {
      hours[h].sessions = num(row.sessions);
      hours[h].handovers = num(row.handovers);
    }
  }
  // drawn at the container's own width, so the labels keep their size on a phone
  const box = $("#chart");
  const W = Math.max(300, Math.round(box.clientWidth - 32) || 720);
  const narrow = W < 520;
  const H = narrow ? 200 : 230, left = 34, right = 8, top = 12, bottom = 26;
  const plotW = W - left - right, plotH = H - top - bottom;
  const max = niceMax(Math.max(1, ...hours.map((h) => Math.max(h.sessions, h.handovers))));
  const slot = plotW / 24;
  const barW = Math.max(3, slot * 0.34);
  const y = (v) => top + plotH - (v / max) * plotH;

  const nodes = [];
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    const yy = y(v);
    nodes.push(svg("line", { x1: left, x2: W - right, y1: yy, y2: yy, stroke: i === 0 ? "#cfd6de" : "#edf0f3", "stroke-width": 1 }));
    nodes.push(svg("text", { x: left - 6, y: yy + 4, "text-anchor": "end", "font-size": 11, fill: "#9aa4b0", text: Math.round(v) }));
  }
  for (const h of hours) {
    const x0 = left + h.hour * slot + (slot - barW * 2 - 2) / 2;
    const group = svg("g", { class: "bar-group", dataset: { hour: h.hour } },
      svg("title", { text: t("chart.tip", { h: String(h.hour).padStart(2, "0"), s: h.sessions, o: h.handovers }) }),
      svg("rect", { x: left + h.hour * slot, y: top, width: slot, height: plotH, class: "hit" }),
      svg("rect", { x: x0, y: y(h.sessions), width: barW, height: Math.max(0, y(0) - y(h.sessions)), rx: 2, fill: COLORS.sessions, class: "bar-sessions" }),
      svg("rect", { x: x0 + barW + 2, y: y(h.handovers), width: barW, height: Math.max(0, y(0) - y(h.handovers)), rx: 2, fill: COLORS.handovers, class: "bar-handovers" }));
    nodes.push(group);
    if (h.hour % (narrow ? 6 : 3) === 0) {
      nodes.push(svg("text", { x: left + h.hour * slot + slot / 2, y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#6b7785", text: t("chart.hour", { h: h.hour }) }));
    }
  }
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": t("chart.title"), preserveAspectRatio: "xMidYMid meet" }, ...nodes);
  fill($("#chart"), chart);
}

// ---------- agents ----------

function renderAgents(agents) {
  state.agents = agents;
  setText($("#agents-count"), String(agents.length));
  if (!agents.length) {
    fill($("#agents"), el("div", { class: "empty", testid: "ad-agents-none", text: t(state.demo ? "agents.demoNone" : "agents.none") }));
  } else {
    const order = { online: 0, suspended: 1, offline: 2 };
    const sorted = [...agents].sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || a.id.localeCompare(b.id));
    fill($("#agents"), el("ul", { class: "agent-rows" }, ...sorted.map((a) => {
      const pct = a.max_concurrent ? Math.min(100, (a.load / a.max_concurrent) * 100) : 0;
      return el("li", { class: "agent-row", testid: "ad-agent", dataset: { agentId: a.id, status: a.status } },
        el("div", { class: "who" },
          el("span", { class: `dot ${a.status}`, title: statusLabel(a.status) }),
          el("div", {},
            el("div", { class: "name", text: a.name || a.id }),
            el("div", { class: "groups" },
              el("span", { class: "faint mono", text: a.id }),
              el("span", { class: "badge", text: statusLabel(a.status) }),
              ...(a.groups || []).map((g) => el("span", { class: "badge accent", text: g }))))),
        el("div", { class: `loadbar${a.load >= a.max_concurrent ? " full" : ""}` },
          el("span", { text: t("agents.load", { l: a.load, m: a.max_concurrent }) }),
          el("div", { class: "track" }, el("span", { style: { width: `${pct}%` } }))));
    })));
  }
  // the pool's agent picker keeps its choice across refreshes
  const select = $("#pool-agent");
  const chosen = select.value;
  fill(select, el("option", { value: "", text: t("pool.pickAgent") }),
    ...agents.map((a) => el("option", { value: a.id, text: `${a.name || a.id} (${statusLabel(a.status)} ${a.load}/${a.max_concurrent})` })));
  if (agents.some((a) => a.id === chosen)) select.value = chosen;
}

// ---------- queue ----------

function renderQueue(queue) {
  setText($("#queue-count"), String(queue.length));
  if (!queue.length) {
    fill($("#queue"), el("div", { class: "empty", text: t("queue.none") }));
    return;
  }
  fill($("#queue"), el("div", { class: "table-scroll" }, el("table", { class: "table" },
    el("thead", {}, el("tr", {},
      el("th", { class: "num", text: t("col.pos") }), el("th", { text: t("col.buyer") }),
      el("th", { text: t("col.group") }), el("th", { text: t("col.reason") }), el("th", { class: "num", text: t("col.waiting") }))),
    el("tbody", {}, ...queue.map((c) => el("tr", { testid: "ad-queue-item", dataset: { conversationId: c.conversation_id } },
      el("td", { class: "num", text: c.position ?? "" }),
      buyerCell(c),
      el("td", { text: c.group || "—" }),
      el("td", { text: reasonLabel(c.handover_reason) || "—" }),
      el("td", { class: "num", text: waited(c) })))))));
}

/** The buyer: display name (the id on hover) and the last message's preview. */
function buyerCell(c) {
  return el("td", { class: "cell-buyer" },
    el("div", { class: "cell-name", testid: "ad-buyer-name", text: buyerName(c), title: c.customer_id }),
    previewText(c) ? el("div", { class: "cell-preview", testid: "ad-buyer-preview", text: previewText(c) }) : null);
}

function waited(c) {
  if (typeof c.wait_seconds === "number") return formatDuration(c.wait_seconds);
  if (typeof c.waiting_seconds === "number") return formatDuration(c.waiting_seconds);
  const since = c.queued_at || c.pooled_at || c.asked_human_at;
  return since ? formatDuration((Date.now() - new Date(since).getTime()) / 1000) : "—";
}

// ---------- offline pool ----------

function renderPool(data) {
  const pool = data.pool || [];
  setText($("#pool-count"), String(pool.length));
  if (data.timezone) state.timezone = data.timezone;
  const zone = state.timezone ? ` · ${t("tz.label", { tz: state.timezone })}` : "";
  setText($("#pool-next"), (data.next_run ? t("pool.next", { t: data.next_run }) : t("pool.noNext")) + zone);
  const ids = pool.map((c) => c.conversation_id);
  state.poolIds = ids;
  for (const id of [...state.poolSelected]) if (!ids.includes(id)) state.poolSelected.delete(id);
  if (!pool.length) {
    fill($("#pool"), el("div", { class: "empty", text: t("pool.none") }));
    updatePoolButtons();
    return;
  }
  const all = el("input", {
    type: "checkbox", "aria-label": t("pool.selectAll"), title: t("pool.selectAll"), testid: "ad-pool-select-all",
    on: {
      change: (e) => {
        for (const id of ids) e.target.checked ? state.poolSelected.add(id) : state.poolSelected.delete(id);
        for (const box of document.querySelectorAll("#pool tbody input[type=checkbox]")) box.checked = e.target.checked;
        updatePoolButtons();
      },
    },
  });
  all.checked = ids.every((id) => state.poolSelected.has(id));
  fill($("#pool"), el("div", { class: "table-scroll" }, el("table", { class: "table" },
    el("thead", {}, el("tr", {},
      el("th", { class: "check" }, all), el("th", { text: t("col.buyer") }), el("th", { text: t("col.group") }),
      el("th", { text: t("col.reason") }), el("th", { class: "num", text: t("col.pooled") }))),
    el("tbody", {}, ...pool.map((c) => {
      const box = el("input", {
        type: "checkbox", testid: "ad-pool-check", "aria-label": c.customer_id, dataset: { conversationId: c.conversation_id },
        on: {
          change: (e) => {
            e.target.checked ? state.poolSelected.add(c.conversation_id) : state.poolSelected.delete(c.conversation_id);
            all.checked = ids.every((id) => state.poolSelected.has(id));
            updatePoolButtons();
          },
        },
      });
      box.checked = state.poolSelected.has(c.conversation_id);
      return el("tr", { testid: "ad-pool-item", dataset: { conversationId: c.conversation_id } },
        el("td", { class: "check" }, box),
        buyerCell(c),
        el("td", { text: c.group || "—" }),
        el("td", { testid: "ad-pool-reason", text: c.handover_reason ? reasonLabel(c.handover_reason) : bt("reason.none") }),
        el("td", { class: "num", testid: "ad-pool-time", text: state.timezone ? formatInZone(c.pooled_at || c.created_at, state.timezone) : formatTime(c.pooled_at || c.created_at) }));
    })))));
  updatePoolButtons();
}

function updatePoolButtons() {
  const n = state.poolSelected.size;
  setText($("#pool-assign"), n ? `${t("pool.assign")} (${n})` : t("pool.assign"));
}

async function assignPool() {
  const ids = [...state.poolSelected];
  const agentId = $("#pool-agent").value;
  if (!ids.length) return toast(t("pool.needSelection"), "error");
  if (!agentId) {
    $("#pool-agent").focus();
    return toast(t("pool.needAgent"), "error");
  }
  const button = $("#pool-assign");
  button.disabled = true;
  try {
    const data = await call("/api/v1/offline-pool/assign", { method: "POST", body: { conversation_ids: ids, agent_id: agentId } });
    const byId = new Map();
    for (const c of $("#pool").querySelectorAll("tr[data-conversation-id]")) {
      byId.set(c.dataset.conversationId, c.children[1] ? c.children[1].textContent : c.dataset.conversationId);
    }
    fill($("#pool-results"), ...(data.results || []).map((r) => el("li", { testid: "ad-pool-result", dataset: { conversationId: r.conversation_id, assigned: String(r.assigned) } },
      el("span", { class: r.assigned ? "ok" : "fail", text: r.assigned ? "✓" : "✕" }),
      el("span", { class: "cell-id", text: byId.get(r.conversation_id) || r.conversation_id }),
      el("span", { class: r.assigned ? "muted" : "fail", text: r.assigned ? t("pool.assigned") : t("pool.failed", { r: poolReason(r.reason) }) }))));
    for (const r of data.results || []) if (r.assigned) state.poolSelected.delete(r.conversation_id);
    await refresh();
  } catch (err) {
    reportError(err);
  } finally {
    button.disabled = false;
  }
}

async function runPool() {
  const button = $("#pool-run");
  button.disabled = true;
  try {
    const data = await call("/api/v1/offline-pool/run", { method: "POST" });
    const run = data.run || {};
    if (run.reason) toast(t("pool.ranReason", { r: poolReason(run.reason) }), "error");
    else toast(t("pool.ran", { a: num(run.assigned), c: num(run.considered) }));
    await refresh();
  } catch (err) {
    reportError(err);
  } finally {
    button.disabled = false;
  }
}

/** The pool's reasons come from the server in English; the common ones in Chinese. */
const POOL_REASONS = [
  [/^(.+) is at their maximum$/, "{1} 已达接待上限"],
  [/^(.+) is offline$/, "{1} 不在线"],
  [/^not in the offline pool$/, "已不在离线池中"],
  [/^no agent with free capacity$/, "没有空闲的客服"],
  [/^buyer already reached a human$/, "买家已联系上客服"],
  [/^over this run's cap of (\d+)$/, "超出本次分配上限 {1}"],
  [/^not enough agents online: (.+)$/, "在线客服不足：{1}"],
  [/^pending replies per agent too high: (.+)$/, "人均待回复过多：{1}"],
];

function poolReason(text) {
  if (LANG !== "zh" || !text) return text || "";
  for (const [pattern, zh] of POOL_REASONS) {
    const m = pattern.exec(text);
    if (m) return zh.replace(/\{(\d)\}/g, (_, i) => m[Number(i)]);
  }
  return text;
}

// ---------- runs ----------

function renderRuns(runs) {
  const list = $("#runs");
  if (!runs.length) {
    fill(list, el("li", { class: "empty", text: t("runs.none") }));
    return;
  }
  fill(list, ...runs.slice(0, 10).map((run, i) => {
    const key = String(run.id ?? `${run.at}-${i}`);
    const failures = run.failures || [];
    let details = null;
    if (failures.length) {
      details = el("details", { on: { toggle: (e) => (e.target.open ? state.openRuns.add(key) : state.openRuns.delete(key)) } },
        el("summary", { text: t("runs.failures", { n: failures.length }) }),
        el("ul", {}, ...failures.slice(0, 50).map((f) => el("li", {},
          el("span", { class: "mono", text: f.conversation_id }), ` — ${poolReason(f.reason)}`)),
        failures.length > 50 ? el("li", { text: t("runs.more", { n: failures.length - 50 }) }) : null));
      details.open = state.openRuns.has(key);
    }
    const trigger = t(`trigger.${run.trigger}`);
    return el("li", { class: "run", testid: "ad-run", dataset: { runId: key } },
      el("div", { class: "row" },
        el("strong", { text: state.timezone ? formatInZone(run.at, state.timezone) : formatTime(run.at) }),
        el("span", { class: "badge", text: trigger.startsWith("trigger.") ? run.trigger : trigger }),
        el("span", { class: "muted", text: run.operator }),
        el("span", { class: "muted", text: t("runs.counts", { c: num(run.considered), a: num(run.assigned), cap: num(run.cap) }) })),
      run.reason ? el("div", { class: "fail small", text: poolReason(run.reason) }) : null,
      details);
  }));
}

// ---------- modes ----------

function renderModes(modes) {
  const row = (key) => {
    const on = Boolean(modes[key]);
    // penalty mode is switched here (robot reception imposed by the platform); big-sale mode lives in the config
    const input = el("input", { type: "checkbox", disabled: key !== "penalty", testid: `ad-mode-${key}`,
      "aria-label": t(`modes.${key}`) });
    input.checked = on;
    if (key === "penalty") input.addEventListener("change", () => switchPenalty(input.checked));
    return el("div", { class: "switch-row", dataset: { mode: key, on: String(on) } },
      el("div", { class: "desc" },
        el("span", {}, `${t(`modes.${key}`)} `, el("span", { class: on ? "badge amber" : "badge", text: on ? t("modes.on") : t("modes.off") })),
        el("small", { text: t(`modes.${key}.desc`) })),
      el("label", { class: "switch" }, input, el("span", { class: "track" })));
  };
  fill($("#modes"), row("big_sale"), row("penalty"), el("div", { class: "note", text: t("modes.note") }));
}

async function switchPenalty(enabled) {
  try {
    renderModes(await call("/api/v1/modes/penalty", { method: "POST", body: { enabled } }));
    toast(t(enabled ? "modes.penalty.switched_on" : "modes.penalty.switched_off"));
  } catch (err) {
    toast(errText(err), "error");
    refresh();
  }
}

// ---------- FAQ try-out ----------

async function tryFaq(event) {
  event.preventDefault();
  const text = $("#try-input").value.trim();
  if (!text) return;
  const button = $("#try-submit");
  button.disabled = true;
  const box = $("#try-result");
  try {
    const r = await call("/api/v1/faq/try", { method: "POST", body: { text } });
    renderTry(r);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) fill(box, sectionError(err));
  } finally {
    button.disabled = false;
  }
}

function fmtConf(v) {
  return typeof v === "number" ? v.toFixed(2) : "—";
}

function renderTry(r) {
  const box = $("#try-result");
  const conf = typeof r.confidence === "number" ? r.confidence : 0;
  const threshold = typeof r.threshold === "number" ? r.threshold : null;
  const verdict = r.would_answer
    ? el("div", { class: "verdict answer", testid: "ad-try-verdict", dataset: { wouldAnswer: "true" }, text: t("try.answer") })
    : el("div", { class: "verdict handover", testid: "ad-try-verdict", dataset: { wouldAnswer: "false", handover: r.handover || "" },
      text: r.handover ? t("try.handover", { r: reasonLabel(r.handover) }) : t("try.noAnswer") });
  const answer = typeof r.answer === "string" ? r.answer : r.answer ? r.answer[LANG] || r.answer.zh || r.answer.en : "";
  const fillNode = el("div", { class: `fill${threshold !== null && conf < threshold ? " low" : ""}` });
  fillNode.style.width = `${Math.max(0, Math.min(1, conf)) * 100}%`;
  const bar = el("div", { class: "track" }, fillNode);
  if (threshold !== null) {
    const mark = el("div", { class: "mark", title: t("try.threshold", { t: fmtConf(threshold) }) });
    mark.style.left = `calc(${Math.max(0, Math.min(1, threshold)) * 100}% - 1px)`;
    bar.appendChild(mark);
  }
  fill(box,
    verdict,
    r.entry_id
      ? el("div", {},
        el("div", { class: "small muted", text: t("try.matched") }),
        el("div", {}, el("span", { class: "badge accent mono", testid: "ad-try-entry", text: r.entry_id }), " ", el("span", { text: r.question || "" })))
      : el("div", { class: "muted", text: t("try.noMatch") }),
    el("div", { class: "conf" }, bar,
      el("div", { class: "legend-line" },
        el("span", { text: t("try.confidence", { c: fmtConf(r.confidence) }) }),
        threshold !== null ? el("span", { text: t("try.threshold", { t: fmtConf(threshold) }) }) : null)),
    r.runner_up
      ? el("div", { class: "small" },
        el("span", { class: "muted", text: t("try.runnerUp") }),
        el("span", { class: "mono", testid: "ad-try-runner-up", text: r.runner_up }),
        el("span", { class: "muted", text: t("try.runnerUpConf", { c: fmtConf(r.runner_up_confidence) }) }))
      : null,
    answer ? el("div", {}, el("div", { class: "small muted", text: t(r.would_answer ? "try.reply" : "try.replyUnused") }), el("div", { class: "answer-box", text: answer })) : null,
    doctorNode(r, t));
}

// ---------- wiring ----------

function wire() {
  translatePage(t);
  document.title = `${t("app.title")} · reception`;
  $("#login-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", () => signOut(""));
  $("#refresh").addEventListener("click", refresh);
  $("#pool-assign").addEventListener("click", assignPool);
  $("#pool-run").addEventListener("click", runPool);
  $("#try-form").addEventListener("submit", tryFaq);
  initFaqSection(call, t);
  api("/api/v1/web/setup").then((setup) => {
    state.demo = Boolean(setup.demo);
    state.timezone = state.timezone || setup.timezone || null;
    if (state.demo) setText($("#login-hint"), t("login.demoHint"));
  }).catch(() => {});
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => lastHours && renderChart(lastHours), 150);
  });
}

wire();
resume();
