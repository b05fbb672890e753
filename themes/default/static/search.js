// Search page (search.html): queries the Pagefind index in /pagefind/ through the
// low-level pagefind.js API. No inline script, no innerHTML with index content.
// A portal's page always filters on its own portal; the umbrella offers the filter.
(function () {
  "use strict";
  var PAGE = 10;
  var root = document.getElementById("suchseite");
  if (!root || !window.fetch || !window.WebAssembly) return;
  root.hidden = false;

  var form = document.getElementById("suchseite-form");
  var input = document.getElementById("suchseite-q");
  var select = document.getElementById("suchseite-portal");
  var status = document.getElementById("suchseite-status");
  var list = document.getElementById("suchseite-treffer");
  var more = document.getElementById("suchseite-mehr");
  var ownPortal = root.getAttribute("data-portal") || "";
  var indexUrl = root.getAttribute("data-index") || "/pagefind/";

  var pagefind = null;
  var results = [];
  var shown = 0;
  var generation = 0;

  function engine() {
    if (!pagefind) {
      pagefind = import(indexUrl + "pagefind.js").then(function (pf) {
        // noWorker: the query runs in this page; Pagefind's worker script would add
        // ~13 KB gzip to the first search for no gain on an index this size.
        return pf.options({ basePath: indexUrl, noWorker: true }).then(function () {
          return pf;
        });
      });
    }
    return pagefind;
  }

  function params() {
    var p = new URLSearchParams(window.location.search);
    return { q: (p.get("q") || "").trim(), portal: p.get("portal") || "" };
  }

  function say(text) {
    status.textContent = text;
  }

  function run(q, portal) {
    var mine = ++generation;
    list.textContent = "";
    more.hidden = true;
    results = [];
    shown = 0;
    if (!q) {
      say("");
      return;
    }
    say("Suche läuft …");
    var filters = {};
    var filterPortal = ownPortal || portal;
    if (filterPortal) filters.portal = filterPortal;
    engine()
      .then(function (pf) {
        return pf.search(q, { filters: filters });
      })
      .then(function (search) {
        if (mine !== generation) return;
        results = (search && search.results) || [];
        return showMore(q, true);
      })
      .catch(function () {
        if (mine !== generation) return;
        say("Die Suche ist gerade nicht verfügbar. Bitte nutzen Sie das Verzeichnis von A bis Z oder die Themen.");
      });
  }

  // Loads the next PAGE results' data. On the umbrella without a portal filter a
  // state or federal service offered by every portal is shown once ("gruppe").
  var seen = {};
  function showMore(q, first) {
    if (first) seen = {};
    var mine = generation;
    var batch = results.slice(shown, shown + PAGE);
    shown += batch.length;
    return Promise.all(
      batch.map(function (r) {
        return r.data();
      })
    ).then(function (items) {
      if (mine !== generation) return;
      var dedupe = !ownPortal && !(select && select.value);
      var firstNew = null;
      items.forEach(function (d) {
        var meta = d.meta || {};
        var group = meta.gruppe || meta.ziel || d.url;
        if (dedupe && seen[group]) return;
        seen[group] = true;
        var li = render(d, meta);
        list.appendChild(li);
        if (!firstNew) firstNew = li;
      });
      more.hidden = shown >= results.length;
      var n = results.length;
      if (n === 0) {
        say("Keine Treffer für „" + q + "“. Versuchen Sie ein anderes Wort oder das Verzeichnis von A bis Z.");
      } else {
        say((n === 1 ? "1 Treffer" : n + " Treffer") + " für „" + q + "“");
      }
      if (!first && firstNew) firstNew.querySelector("a").focus();
    });
  }

  function render(d, meta) {
    var li = document.createElement("li");
    li.className = "suchseite__eintrag";
    var a = document.createElement("a");
    a.href = meta.ziel || d.url;
    a.textContent = meta.title || d.url;
    var h = document.createElement("h2");
    h.className = "suchseite__titel";
    h.appendChild(a);
    li.appendChild(h);
    if (meta.summary) {
      var p = document.createElement("p");
      p.textContent = meta.summary;
      li.appendChild(p);
    }
    var note = [];
    if (meta.anbieter === "land") note.push("Leistung des Landes");
    else if (meta.anbieter === "bund") note.push("Leistung des Bundes");
    else if (meta.anbieter === "kontakt") note.push("Zuständige Stelle");
    if (!ownPortal && meta.portal_name && meta.anbieter !== "land" && meta.anbieter !== "bund") {
      note.push(meta.portal_name);
    }
    if (note.length) {
      var small = document.createElement("p");
      small.className = "suchseite__herkunft";
      small.textContent = note.join(" · ");
      li.appendChild(small);
    }
    return li;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value.trim();
    var portal = select ? select.value : "";
    var p = new URLSearchParams();
    if (q) p.set("q", q);
    if (portal) p.set("portal", portal);
    var qs = p.toString();
    history.replaceState(null, "", window.location.pathname + (qs ? "?" + qs : ""));
    run(q, portal);
  });
  if (select) {
    select.addEventListener("change", function () {
      if (input.value.trim()) form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
    });
  }
  more.addEventListener("click", function () {
    showMore(input.value.trim(), false);
  });

  var start = params();
  input.value = start.q;
  if (select) select.value = start.portal;
  // The header's search box sent us here with ?q=…; mirror it into the header field too.
  var header = document.getElementById("suche-q");
  if (header) header.value = start.q;
  if (start.q) run(start.q, start.portal);
  else engine(); // warm up: pagefind.js and the wasm load while the user types
})();
