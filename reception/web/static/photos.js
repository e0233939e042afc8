// Photos on the workbench: thumbnails in the conversation, a viewer to enlarge them, sending a photo to the buyer.
//
// A photo is never a URL that works alone: each is fetched with the agent's bearer token and shown as a blob:
// URL of this page (the page's CSP allows img-src blob:). Thumbnails are kept per id while the page lives, so
// re-rendering the conversation does not fetch them again. Sending: the picker button, or paste an image into
// the reply box; the upload shows its progress, and the server checks the file (docs/web-api.md, "Photos").
import { LANG, el, show, svg, toast } from "./common.js";

const TEXTS = {
  zh: {
    photo: "图片",
    open: "查看大图",
    close: "关闭",
    send: "发送图片",
    sending: "正在上传图片… {p}%",
    failed: "图片发送失败：{e}",
    loadFailed: "图片加载失败",
    tooBig: "图片太大了，最大 {mb} MB",
    notImage: "只能发送 JPEG、PNG、WebP 或 HEIC 图片",
  },
  en: {
    photo: "Photo",
    open: "View full size",
    close: "Close",
    send: "Send a photo",
    sending: "Uploading the photo… {p}%",
    failed: "The photo was not sent: {e}",
    loadFailed: "The photo could not be loaded",
    tooBig: "The photo is too large (at most {mb} MB)",
    notImage: "Only JPEG, PNG, WebP or HEIC photos can be sent",
  },
};
const T = TEXTS[LANG] || TEXTS.zh;
const say = (key, vars = {}) => T[key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
const MAX_MB = 10;
const TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];

const blobs = new Map(); // url → Promise<blob: URL>

function blobUrl(url, token) {
  if (!blobs.has(url)) {
    const loading = fetch(url, { headers: { Authorization: `Bearer ${token}` }, cache: "default" })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        return response.blob();
      })
      .then((blob) => URL.createObjectURL(blob));
    loading.catch(() => blobs.delete(url)); // a failed load is tried again on the next render
    blobs.set(url, loading);
  }
  return blobs.get(url);
}

/** Label for a photo in one line (lists, history). */
export const photoLabel = () => `[${T.photo}]`;

/** A thumbnail that opens the viewer; `token()` gives the bearer token now. */
export function photoNode(image, token) {
  const ratio = image.width && image.height ? `${image.width} / ${image.height}` : "4 / 3";
  const img = el("img", { class: "photo-thumb", alt: T.photo, testid: "ag-photo-thumb", style: { aspectRatio: ratio } });
  const button = el("button", { type: "button", class: "photo", title: T.open, "aria-label": T.open, testid: "ag-photo",
    on: { click: () => openViewer(image, token()) } }, img);
  blobUrl(image.thumb_url, token()).then((src) => { img.src = src; img.dataset.loaded = "true"; })
    .catch(() => { button.classList.add("broken"); button.title = T.loadFailed; });
  return button;
}

let viewer = null;

function openViewer(image, token) {
  if (!viewer) {
    const full = el("img", { class: "photo-full", alt: T.photo, testid: "ag-photo-full" });
    const close = el("button", { type: "button", class: "btn photo-close", testid: "ag-photo-close", text: T.close });
    viewer = el("div", { class: "photo-viewer", role: "dialog", "aria-modal": "true", "aria-label": T.photo,
      testid: "ag-photo-viewer", hidden: true, tabindex: "-1" }, close, full);
    const hide = () => { show(viewer, false); full.removeAttribute("src"); };
    close.addEventListener("click", hide);
    viewer.addEventListener("click", (e) => { if (e.target === viewer) hide(); });
    viewer.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
    document.body.appendChild(viewer);
  }
  const full = viewer.querySelector(".photo-full");
  full.removeAttribute("src");
  delete full.dataset.loaded;
  show(viewer);
  viewer.focus();
  blobUrl(image.url, token).then((src) => { full.src = src; full.dataset.loaded = "true"; })
    .catch(() => toast(T.loadFailed, "error"));
}

function upload(url, file, token, onProgress) {
  // XMLHttpRequest: fetch cannot report an upload's progress
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100)); };
    xhr.onerror = () => reject(new Error(LANG === "zh" ? "网络错误" : "network error"));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new Error((data && data.error && data.error.message) || `HTTP ${xhr.status}`));
    };
    xhr.send(file);
  });
}

/**
 * Sending photos from the reply box: a button and a hidden file input next to `sendButton`, and paste into
 * `input`. `conversation()` is the open conversation's id (or null), `token()` the bearer token, `sent()` is
 * called after a photo went out.
 */
export function wirePhotoSending({ input, sendButton, conversation, token, sent }) {
  const picker = el("input", { type: "file", accept: TYPES.join(","), hidden: true, testid: "ag-photo-input" });
  const stroke = { fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round",
    "stroke-linejoin": "round" };
  const icon = svg("svg", { viewBox: "0 0 24 24", width: "20", height: "20", "aria-hidden": "true" },
    svg("rect", { x: "3.5", y: "5", width: "17", height: "14", rx: "2.5", ...stroke }),
    svg("circle", { cx: "9", cy: "10", r: "1.6", ...stroke }),
    svg("path", { d: "M4 17l5-4.5 3.5 3 3-2.5 4.5 4", ...stroke }));
  const button = el("button", { type: "button", class: "btn photo-send", testid: "ag-photo-send", title: T.send,
    "aria-label": T.send }, icon);
  const progress = el("div", { class: "photo-progress", testid: "ag-photo-progress", role: "status", hidden: true });
  sendButton.before(button);
  sendButton.after(picker);
  sendButton.closest(".composer").append(progress);

  async function sendFile(file) {
    const id = conversation();
    if (!id || !file) return;
    if (file.type && !TYPES.includes(file.type)) { toast(T.notImage, "error"); return; }
    if (file.size > MAX_MB * 1024 * 1024) { toast(say("tooBig", { mb: MAX_MB }), "error"); return; }
    button.disabled = true;
    progress.textContent = say("sending", { p: 0 });
    show(progress);
    try {
      await upload(`/api/v1/conversations/${encodeURIComponent(id).replace(/%3A/gi, ":")}/images`, file, token(),
        (p) => { progress.textContent = say("sending", { p }); });
      sent(id);
    } catch (err) {
      toast(say("failed", { e: err.message }), "error");
    } finally {
      button.disabled = false;
      show(progress, false);
    }
  }

  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    const [file] = picker.files || [];
    picker.value = "";
    sendFile(file);
  });
  input.addEventListener("paste", (e) => {
    const item = Array.from((e.clipboardData && e.clipboardData.items) || []).find((i) => i.kind === "file"
      && i.type.startsWith("image/"));
    if (!item) return;
    e.preventDefault();
    sendFile(item.getAsFile());
  });
}
