// Live suggestions for the institution field of the credential form: the registry's matcher
// (GET data-suggest?q=&country=) fills a listbox under the field, as an ARIA combobox. Picking
// one fills the name and its country. Without this script the field takes any name, which the
// assessment resolves on its own.
"use strict";

(function () {
  const input = document.querySelector("input[data-suggest]");
  const country = document.getElementById("f-institution-country");
  if (!input) return;
  const endpoint = input.dataset.suggest;
  const list = document.createElement("ul");
  list.id = "institution-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.labels[0] ? input.labels[0].textContent.trim() : "");
  list.hidden = true;
  input.insertAdjacentElement("afterend", list);
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  list.insertAdjacentElement("afterend", status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  let candidates = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    Array.from(list.children).forEach(function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function pick(index) {
    const chosen = candidates[index];
    if (!chosen) return;
    input.value = chosen.name;
    if (country && chosen.country) country.value = chosen.country;
    close();
    status.textContent = input.dataset.picked
      ? input.dataset.picked.replace("{name}", chosen.name)
      : chosen.name;
    input.focus();
  }

  function show(found) {
    candidates = found;
    list.replaceChildren();
    found.forEach(function (candidate, i) {
      const item = document.createElement("li");
      item.id = "institution-suggestion-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.append(candidate.name + " ");
      const where = document.createElement("small");
      where.textContent = "(" + (candidate.country || "?") + ")";
      item.append(where);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the field
        pick(i);
      });
      list.append(item);
    });
    list.hidden = found.length === 0;
    input.setAttribute("aria-expanded", found.length ? "true" : "false");
    active = -1;
    const template = input.dataset.count || "{n}";
    status.textContent = template.replace("{n}", String(found.length));
  }

  function ask() {
    const query = input.value.trim();
    if (query.length < 2) {
      show([]);
      return;
    }
    const number = ++asked;
    const url = new URL(endpoint, window.location.href);
    url.searchParams.set("q", query);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { candidates: [] }; })
      .then(function (answer) { if (number === asked) show(answer.candidates || []); })
      .catch(function () { if (number === asked) show([]); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) {
      if (event.key === "ArrowDown" && candidates.length) {
        show(candidates);
        highlight(0);
        event.preventDefault();
      }
      return;
    }
    if (event.key === "ArrowDown") {
      highlight((active + 1) % candidates.length);
    } else if (event.key === "ArrowUp") {
      highlight(active <= 0 ? candidates.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      pick(active);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
  });
  input.addEventListener("blur", close);
})();
