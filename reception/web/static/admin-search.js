// The dashboard's conversation search (all conversations, with their transcript and internal notes): a module of
// its own, included from admin.html; it uses the admin token the dashboard keeps for this tab (sessionStorage).
import { $, api, session } from "./common.js";
import { createSearch, st } from "./search.js";

const AUTH_KEY = "reception.admin"; // admin.js's key

function call(path, options = {}) {
  const saved = session.get(AUTH_KEY);
  return api(path, { ...options, token: saved && saved.token });
}

const root = $("#search-panel");
if (root) {
  $("#search-title").textContent = st("search.title");
  createSearch({ root: $("#search-box"), call, prefix: "ad", full: true });
}
