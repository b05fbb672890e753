// Search page (search.html): queries a Pagefind index through the low-level pagefind.js
// API. No inline script, no innerHTML with index content.
// A portal's page searches the portal's own index (/<portal>/pagefind/). The umbrella
// searches the region's catalogue (/pagefind/), and the chosen city's index once a
// city is chosen.
(function () {
  "use strict";
  // Hits per screen: each needs its own fragment file (~1.5 KB), and the first
  // query must stay under 100 KB in all (docs/search.md).
  var PAGE = 6;
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
  var ownIndex = root.getAttribute("data-index") || "/pagefind/";

  var engines = {};
  var results = [];
  var shown = 0;
  var generation = 0;

  // One pagefind.js module per index folder; loaded on first use.
  function engine(indexUrl) {
    if (!engines[indexUrl]) {
      engines[indexUrl] = import(indexUrl + "pagefind.js").then(function (pf) {
        // noWorker: the query runs in this page; Pagefind's worker script would add
        // ~13 KB gzip to the first search for no gain on an index this size.
        return pf.options({ basePath: indexUrl, noWorker: true }).then(function () {
          return pf;
        });
      });
    }
    return engines[indexUrl];
  }

  function portalNames() {
    var names = {};
    if (select) {
      for (var i = 0; i < select.options.length; i++) {
        names[select.options[i].value] = select.options[i].textContent;
      }
    }
    return names;
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
    var indexUrl = ownPortal || !portal ? ownIndex : "/" + portal + "/pagefind/";
    engine(indexUrl)
      .then(function (pf) {
        return pf.search(q);
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

  // Loads the next PAGE results' data and appends them.
  function showMore(q, first) {
    var mine = generation;
    var batch = results.slice(shown, shown + PAGE);
    shown += batch.length;
    return Promise.all(
      batch.map(function (r) {
        return r.data();
      })
    ).then(function (items) {
      if (mine !== generation) return;
      var names = portalNames();
      var firstNew = null;
      items.forEach(function (d) {
        var li = render(d.meta || {}, names);
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
      if (!first && firstNew) {
        var target = firstNew.querySelector("a");
        if (target) target.focus();
      }
    });
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function paragraph(text, className) {
    var p = document.createElement("p");
    if (className) p.className = className;
    p.textContent = text;
    return p;
  }

  // One hit. A catalogue entry offered by several portals (no "ziel") lists a link to
  // each portal's page instead of one title link.
  function render(meta, names) {
    var li = document.createElement("li");
    li.className = "suchseite__eintrag";
    var h = document.createElement("h2");
    h.className = "suchseite__titel";
    var portals = (meta.portale || "").split(" ").filter(Boolean);
    if (meta.ziel) h.appendChild(link(meta.ziel, meta.title || meta.ziel));
    else h.textContent = meta.title || "";
    li.appendChild(h);
    if (meta.summary) li.appendChild(paragraph(meta.summary));
    var note = [];
    if (meta.anbieter === "land") note.push("Leistung des Landes");
    else if (meta.anbieter === "bund") note.push("Leistung des Bundes");
    else if (meta.anbieter === "kontakt") note.push("Zuständige Stelle");
    if (meta.ziel && portals.length === 1 && names[portals[0]]) note.push(names[portals[0]]);
    if (note.length) li.appendChild(paragraph(note.join(" · "), "suchseite__herkunft"));
    if (!meta.ziel && meta.leistung && portals.length) {
      li.appendChild(paragraph("Angeboten von:", "suchseite__herkunft"));
      var ul = document.createElement("ul");
      ul.className = "suchseite__orte";
      portals.forEach(function (p) {
        var item = document.createElement("li");
        item.appendChild(link("/" + p + "/" + meta.leistung + "/", names[p] || p));
        ul.appendChild(item);
      });
      li.appendChild(ul);
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
  else engine(ownIndex); // warm up: pagefind.js and the wasm load while the user types
})();
