/* kamcore org chart: lazy trees over one JSON blob; DOM nodes are made only when expanded. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("kam-data").textContent);
  var TIERS = ["global", "national", "key", "regular"];
  var PAGE = 200;                       // children shown per "show more" step
  var A = DATA.accounts, P = DATA.people, M = DATA.metrics, C = DATA.contacts;
  var nA = A.id.length, nP = P.id.length, nC = C.id.length;
  var contactsOf = new Array(nA);         // each account's contacts, file order
  for (var ca = 0; ca < nA; ca++) contactsOf[ca] = [];
  for (var cc = 0; cc < nC; cc++) if (C.account[cc] >= 0) contactsOf[C.account[cc]].push(cc);

  function kids(parents, n) {
    var out = new Array(n), roots = [];
    for (var i = 0; i < n; i++) out[i] = [];
    for (var j = 0; j < n; j++) {
      if (parents[j] >= 0) out[parents[j]].push(j); else roots.push(j);
    }
    return { children: out, roots: roots };
  }
  var accTree = kids(A.parent, nA), pplTree = kids(P.reportsTo, nP);
  var book = new Array(nP);
  for (var b = 0; b < nP; b++) book[b] = [];
  for (var a = 0; a < nA; a++) if (A.manager[a] >= 0) book[A.manager[a]].push(a);
  var teamSize = new Array(nP);
  (function () {                          // accounts in each person's team book, bottom up
    var order = [], stack = pplTree.roots.slice();
    while (stack.length) { var p = stack.pop(); order.push(p);
      pplTree.children[p].forEach(function (c) { stack.push(c); }); }
    for (var i = order.length - 1; i >= 0; i--) {
      var q = order[i], total = book[q].length;
      pplTree.children[q].forEach(function (c) { total += teamSize[c]; });
      teamSize[q] = total;
    }
  })();

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  // Numbers are written as `kam rollup` and `kam tree` write them
  // (kamcore.rollup.render.format_number): money and counts in whole units with thousands
  // separators, ratios as a percentage with one decimal, other numbers with two decimals.
  // Rounding is Python's: the exact binary value, an exact tie to the even digit (Intl and
  // toFixed round 2.5 up and 12.345 down, where Python writes 2 and 12.35).
  function fixed(v, digits) {
    var negative = v < 0 || Object.is(v, -0), exact = Math.abs(v).toFixed(100);
    var point = exact.indexOf("."), whole = exact.slice(0, point), tail = exact.slice(point + 1);
    var kept = whole + tail.slice(0, digits), next = tail.charAt(digits);
    var rest = tail.slice(digits + 1).replace(/0+$/, "");
    var up = next > "5" || (next === "5" && (rest !== "" || +kept.charAt(kept.length - 1) % 2));
    if (up) {                             // add one in the last kept digit, carrying
      var chars = kept.split(""), k = chars.length - 1;
      while (k >= 0 && chars[k] === "9") { chars[k] = "0"; k--; }
      if (k >= 0) chars[k] = String(+chars[k] + 1); else chars.unshift("1");
      kept = chars.join("");
    }
    var intPart = kept.slice(0, kept.length - digits) || "0";
    return { sign: negative ? "-" : "", whole: intPart,
      fraction: digits ? kept.slice(kept.length - digits) : "" };
  }
  function grouped(parts, comma) {
    var whole = comma ? parts.whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") : parts.whole;
    return parts.sign + whole + (parts.fraction ? "." + parts.fraction : "");
  }
  function formatNumber(v, kind) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    if (kind === "ratio") return grouped(fixed(v * 100, 1), false) + "%";
    if (kind === "money" || kind === "int" || Number.isInteger(v)) return grouped(fixed(v, 0), true);
    return grouped(fixed(v, 2), true);
  }
  function money(v, metric) {
    var text = formatNumber(v, metric.kind || (metric.money ? "money" : "number"));
    return text + (metric.money && text !== "-" ? " " + DATA.currency : "");
  }
  function plural(n, word, many) {
    return n.toLocaleString("en-US") + " " + (n === 1 ? word : many || word + "s");
  }

  // -- account rows ----------------------------------------------------------------------
  var accLi = new Array(nA);              // the <li> of each account once created
  function accountRow(i) {
    var tier = TIERS[A.tier[i]];
    var row = el("div", "row " + tier);
    var kidsOf = accTree.children[i];
    var t = el("button", "toggle" + (kidsOf.length ? "" : " leaf"), "▸");
    t.title = plural(kidsOf.length, "account") + " below";
    row.appendChild(t);
    row.appendChild(el("span", "badge " + tier, tier));
    row.appendChild(el("span", "name", A.name[i]));
    row.appendChild(el("span", "id", A.id[i] + (A.country[i] ? " · " + A.country[i] : "")
      + (A.industry[i] ? " · " + A.industry[i] : "")));
    var m = A.manager[i];
    if (m >= 0) {
      row.appendChild(el("span", "who", "managed by " + P.name[m] + " (" + P.role[m].toUpperCase() + ")"));
    } else {
      row.appendChild(el("span", "who none", A.managerRaw[i] ? "managed by " + A.managerRaw[i] + " (unknown)"
        : "no manager"));
    }
    if (kidsOf.length) row.appendChild(el("span", "count", kidsOf.length + " below"));
    if (contactsOf[i].length) {
      var map = el("button", "relmap-toggle", plural(contactsOf[i].length, "contact"));
      map.title = "Relationship map: the customer's people by role, linked to our owners";
      map.addEventListener("click", function (e) { e.stopPropagation(); toggleMap(i, row); });
      row.appendChild(map);
    }
    var figs = el("div", "figures");
    M.forEach(function (metric, k) {
      var f = el("div", "figure");
      f.appendChild(el("b", null, money(A.totals[k][i], metric)));
      f.appendChild(el("span", null, metric.label));
      f.title = metric.label + ": own " + money(A.own[k][i], metric) + ", with everything below "
        + money(A.totals[k][i], metric);
      figs.appendChild(f);
    });
    row.appendChild(figs);
    return row;
  }

  function makeNode(i, kind) {
    var li = el("li", "node");
    li.dataset.i = i;
    var row = kind === "a" ? accountRow(i) : personRow(i);
    li.appendChild(row);
    if (kind === "a") accLi[i] = li; else pplLi[i] = li;
    var toggle = row.querySelector(".toggle");
    toggle.addEventListener("click", function () { setOpen(li, kind, !li.classList.contains("open")); });
    return li;
  }

  function childList(i, kind) {
    if (kind === "a") return accTree.children[i];
    return pplTree.children[i];
  }

  function fill(ul, items, kind, from) {
    var end = Math.min(items.length, from + PAGE);
    for (var k = from; k < end; k++) ul.appendChild(makeNode(items[k], kind));
    if (end < items.length) {
      var more = el("button", "more", "show " + Math.min(PAGE, items.length - end) + " more of "
        + (items.length - end));
      more.addEventListener("click", function () { more.remove(); fill(ul, items, kind, end); });
      ul.appendChild(more);
    }
  }

  function setOpen(li, kind, open) {
    var i = +li.dataset.i;
    var items = childList(i, kind);
    var books = kind === "p" ? book[i] : [];
    if (!items.length && !books.length) return;
    li.classList.toggle("open", open);
    var toggle = li.querySelector(".toggle");
    toggle.textContent = open ? "▾" : "▸";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    var ul = li.querySelector(":scope > ul");
    if (open && !ul) {
      ul = el("ul", "tree");
      if (kind === "p") fillBook(ul, books);
      fill(ul, items, kind, 0);
      li.appendChild(ul);
    }
    if (ul) ul.style.display = open ? "" : "none";
  }

  // -- relationship maps -----------------------------------------------------------------
  // One per account: our people (relationship owners) on the left, the customer's contacts
  // in columns by role on the right, a line from each owner to each contact they own.
  var ROLE_ORDER = ["decision-maker", "champion", "influencer", "procurement", "billing", "user"];
  function toggleMap(i, row) {
    var next = row.nextElementSibling;
    if (next && next.classList.contains("relmap")) { next.remove(); return null; }
    var map = relationshipMap(i);
    row.parentNode.insertBefore(map, row.nextSibling);
    drawLinks(map);
    return map;
  }
  function relationshipMap(i) {
    var box = el("div", "relmap");
    box.dataset.account = A.id[i];
    box.appendChild(el("div", "relmap-title", "Relationship map · " + A.name[i]));
    var grid = el("div", "relmap-grid");
    var ours = el("div", "relmap-col ours");
    ours.appendChild(el("div", "relmap-head", "Our side"));
    var owners = [];
    contactsOf[i].forEach(function (c) {
      if (C.owner[c] >= 0 && owners.indexOf(C.owner[c]) < 0) owners.push(C.owner[c]); });
    owners.forEach(function (p) {
      var card = el("div", "card person" + (P.active[p] ? "" : " inactive"));
      card.dataset.person = p;
      card.appendChild(el("b", null, P.name[p]));
      card.appendChild(el("span", null, P.role[p].toUpperCase() + (p === A.manager[i]
        ? " · accountable manager" : "") + (P.active[p] ? "" : " · inactive")));
      ours.appendChild(card);
    });
    grid.appendChild(ours);
    var roles = ROLE_ORDER.slice();
    contactsOf[i].forEach(function (c) {
      var r = C.role[c] || "no role";
      if (roles.indexOf(r) < 0) roles.push(r);
    });
    roles.forEach(function (r) {
      var members = contactsOf[i].filter(function (c) { return (C.role[c] || "no role") === r; });
      if (!members.length) return;
      var col = el("div", "relmap-col role");
      col.appendChild(el("div", "relmap-head", r));
      members.forEach(function (c) {
        var card = el("div", "card contact" + (C.primary[c] ? " primary" : ""));
        card.dataset.contact = c;
        card.dataset.owner = C.owner[c];
        card.appendChild(el("b", null, (C.primary[c] ? "★ " : "") + C.name[c]));
        card.appendChild(el("span", null, C.title[c] || ""));
        if (C.reportsTo[c] >= 0) card.appendChild(el("span", "up", "reports to " + C.name[C.reportsTo[c]]));
        if (C.email) card.appendChild(el("span", "personal", [C.email[c], C.phone[c]].filter(Boolean).join(" · ")));
        card.appendChild(C.owner[c] >= 0 ? el("span", "owner", "owner: " + P.name[C.owner[c]])
          : el("span", "orphan", "no owner of ours"));
        col.appendChild(card);
      });
      grid.appendChild(col);
    });
    box.appendChild(grid);
    return box;
  }
  function drawLinks(map) {
    var old = map.querySelector("svg");
    if (old) old.remove();
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    // a link to a contact beyond the first contact column would pass behind the cards between:
    // it runs below all cards instead, in a lane of its own, and rises in the gap before its card
    var firstLeft = Infinity, bottom = 0, routed = 0, pairs = [];
    map.querySelectorAll(".card").forEach(function (c) {
      var r = c.getBoundingClientRect();
      bottom = Math.max(bottom, r.bottom);
      if (c.classList.contains("contact")) firstLeft = Math.min(firstLeft, r.left);
    });
    map.querySelectorAll(".card.contact").forEach(function (card) {
      var owner = map.querySelector('.card.person[data-person="' + card.dataset.owner + '"]');
      if (!owner) return;
      var far = card.getBoundingClientRect().left > firstLeft + 1;
      pairs.push([owner, card, far ? routed++ : -1]);
    });
    map.style.paddingBottom = (12 + 8 * routed) + "px";
    var frame = map.getBoundingClientRect();
    svg.setAttribute("width", frame.width);
    svg.setAttribute("height", frame.height);
    pairs.forEach(function (pair) {
      var a = pair[0].getBoundingClientRect(), b = pair[1].getBoundingClientRect();
      var x1 = a.right - frame.left, y1 = a.top + a.height / 2 - frame.top;
      var x2 = b.left - frame.left, y2 = b.top + b.height / 2 - frame.top;
      var d, mid = (x1 + x2) / 2;
      if (pair[2] < 0) {
        d = "M" + x1 + "," + y1 + " C" + mid + "," + y1 + " " + mid + "," + y2 + " " + x2 + "," + y2;
      } else {
        var lane = bottom - frame.top + 8 + 8 * pair[2];
        d = "M" + x1 + "," + y1 + " C" + (x1 + 24) + "," + y1 + " " + (x1 + 24) + "," + lane
          + " " + (x1 + 40) + "," + lane + " L" + (x2 - 40) + "," + lane + " C" + (x2 - 24) + ","
          + lane + " " + (x2 - 24) + "," + y2 + " " + x2 + "," + y2;
      }
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      path.setAttribute("class", pair[1].classList.contains("primary") ? "link primary" : "link");
      svg.appendChild(path);
    });
    map.insertBefore(svg, map.firstChild);
    map.dataset.links = pairs.length;
    return pairs.length;
  }

  // -- people rows -----------------------------------------------------------------------
  var pplLi = new Array(nP);
  function personRow(i) {
    var row = el("div", "row person " + P.role[i] + (P.active[i] ? "" : " inactive"));
    var hasKids = pplTree.children[i].length || book[i].length;
    row.appendChild(el("button", "toggle" + (hasKids ? "" : " leaf"), "▸"));
    row.appendChild(el("span", "badge role " + P.role[i], P.role[i]));
    row.appendChild(el("span", "name", P.name[i]));
    row.appendChild(el("span", "id", P.id[i] + (P.specialty[i] ? " · " + P.specialty[i] : "")
      + (P.active[i] ? "" : " · inactive")));
    row.appendChild(el("span", "count", plural(book[i].length, "account") + " · team book "
      + teamSize[i].toLocaleString("en-US")));
    return row;
  }
  function fillBook(ul, accounts) {
    accounts.slice(0, PAGE).forEach(function (a) {
      var li = el("li", "node");
      var row = accountRow(a);
      row.querySelector(".toggle").classList.add("leaf");
      li.appendChild(row);
      ul.appendChild(li);
    });
    if (accounts.length > PAGE) ul.appendChild(el("li", "count", "… and " + (accounts.length - PAGE)
      + " more accounts"));
  }

  // -- views, levels ---------------------------------------------------------------------
  var accRoot = document.getElementById("accounts-tree");
  var pplRoot = document.getElementById("people-tree");
  fill(accRoot, accTree.roots, "a", 0);
  var pplFilled = false;
  function showView(name) {
    document.querySelectorAll(".tabs button").forEach(function (b) {
      b.classList.toggle("on", b.dataset.view === name); });
    document.querySelectorAll(".view").forEach(function (v) {
      v.classList.toggle("on", v.id === name + "-view"); });
    document.getElementById("levels").style.visibility = name === "accounts" ? "" : "hidden";
    if (name === "people" && !pplFilled) {
      fill(pplRoot, pplTree.roots, "p", 0);
      pplFilled = true;
      // open the top of the management tree, breadth first, while it stays under ~60 rows
      var queue = Array.prototype.slice.call(pplRoot.querySelectorAll(":scope > li.node"));
      var shown = queue.length;
      while (queue.length) {
        var li = queue.shift(), kidsOf = pplTree.children[+li.dataset.i];
        if (!kidsOf.length || shown + kidsOf.length > 60) continue;
        setOpen(li, "p", true);
        shown += kidsOf.length;
        li.querySelectorAll(":scope > ul > li.node").forEach(function (c) {
          if (c.querySelector(".badge.role")) queue.push(c); });
      }
    }
    search.placeholder = PLACEHOLDER[name];
    search.title = HINT[name];
    current = name;
  }
  var current = "accounts";
  // Short enough to show whole in the box; what a search matches is in its tooltip.
  var PLACEHOLDER = { accounts: "Search accounts", people: "Search people" };
  var HINT = { accounts: "Matches an account's name, id, country or manager",
    people: "Matches a person's name, id or role" };
  document.querySelectorAll(".tabs button").forEach(function (b) {
    b.addEventListener("click", function () { showView(b.dataset.view); runSearch(); });
  });

  // Expand every shown account above a tier: "collapsible by tier".
  function expandTo(level) {
    accRoot.querySelectorAll("li.node.open").forEach(function (li) { setOpen(li, "a", false); });
    if (level < 0) return;
    var queue = Array.prototype.slice.call(accRoot.children).filter(function (x) {
      return x.classList.contains("node"); });
    var opened = 0;
    while (queue.length && opened < 5000) {
      var li = queue.shift(), i = +li.dataset.i;
      if (A.tier[i] <= level && accTree.children[i].length) {
        setOpen(li, "a", true); opened++;
        var ul = li.querySelector(":scope > ul");
        Array.prototype.forEach.call(ul.children, function (c) {
          if (c.classList.contains("node")) queue.push(c); });
      }
    }
  }
  document.querySelectorAll(".levels button").forEach(function (b) {
    b.addEventListener("click", function () { expandTo(+b.dataset.level); });
  });
  expandTo(nA > 2000 ? -1 : 0);

  // -- search ----------------------------------------------------------------------------
  var search = document.getElementById("search"), results = document.getElementById("results");
  var hay = null, phay = null;
  function haystacks() {
    if (hay) return;
    hay = new Array(nA);
    for (var i = 0; i < nA; i++) {
      var m = A.manager[i];
      hay[i] = (A.name[i] + " " + A.id[i] + " " + (A.country[i] || "") + " "
        + (m >= 0 ? P.name[m] : "")).toLowerCase();
    }
    phay = new Array(nP);
    for (var j = 0; j < nP; j++) phay[j] = (P.name[j] + " " + P.id[j] + " " + P.role[j]).toLowerCase();
  }
  function find(query, people) {
    haystacks();
    var q = query.trim().toLowerCase(), out = [];
    if (!q) return out;
    var list = people ? phay : hay;
    for (var i = 0; i < list.length && out.length < 50; i++) if (list[i].indexOf(q) >= 0) out.push(i);
    return out;
  }
  function pathOf(i, people) {
    var parents = people ? P.reportsTo : A.parent, names = people ? P.name : A.name;
    var parts = [], seen = 0, up = parents[i];
    while (up >= 0 && seen++ < 50) { parts.unshift(names[up]); up = parents[up]; }
    return parts.join(" › ");
  }
  var active = -1, hits = [];
  function runSearch() {
    hits = find(search.value, current === "people");
    results.innerHTML = "";
    active = -1;
    if (!search.value.trim()) { results.classList.remove("open"); return; }
    if (!hits.length) results.appendChild(el("div", "result none", "no match"));
    hits.forEach(function (i, k) {
      var people = current === "people";
      var r = el("div", "result");
      r.appendChild(el("div", "name", people ? P.name[i] + " (" + P.role[i].toUpperCase() + ")"
        : A.name[i] + " · " + TIERS[A.tier[i]]));
      r.appendChild(el("div", "path", (people ? P.id[i] : A.id[i]) + "  " + pathOf(i, people)));
      r.addEventListener("click", function () { reveal(i, people, true); close(); });
      results.appendChild(r);
    });
    results.classList.add("open");
  }
  function close() { results.classList.remove("open"); }
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(runSearch, 120); });
  search.addEventListener("keydown", function (e) {
    var items = results.querySelectorAll(".result:not(.none)");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = Math.max(0, Math.min(items.length - 1, active + (e.key === "ArrowDown" ? 1 : -1)));
      items.forEach(function (x, k) { x.classList.toggle("active", k === active); });
    } else if (e.key === "Enter") {
      runSearch();
      if (hits.length) { reveal(hits[Math.max(active, 0)], current === "people", true); close(); }
    } else if (e.key === "Escape") { close(); }
  });
  document.addEventListener("click", function (e) {
    if (!e.target.closest(".search")) close(); });

  // Make sure account (or person) i has its <li>: open its ancestors top down and page
  // through "show more" lists until it exists.
  function ensure(i, people, depth) {
    var store = people ? pplLi : accLi;
    if (store[i] || depth > 10000) return store[i] || null;
    var up = (people ? P.reportsTo : A.parent)[i], ul;
    if (up < 0) {
      ul = people ? pplRoot : accRoot;
    } else {
      var parentLi = ensure(up, people, depth + 1);
      if (!parentLi) return null;
      setOpen(parentLi, people ? "p" : "a", true);
      ul = parentLi.querySelector(":scope > ul");
    }
    var more;
    while (!store[i] && ul && (more = ul.querySelector(":scope > .more"))) more.click();
    return store[i] || null;
  }

  // Open the branch down to an account (or person), then highlight it and scroll to it.
  // ``remember``: put it in the address (#account=ID), so the link opens it again.
  function reveal(i, people, remember) {
    if (people && current !== "people") showView("people");
    if (!people && current !== "accounts") showView("accounts");
    var target = ensure(i, people, 0);
    document.querySelectorAll(".row.hit").forEach(function (r) { r.classList.remove("hit"); });
    if (!target) return false;
    var row = target.querySelector(".row");
    row.classList.add("hit");
    row.scrollIntoView({ block: "center" });
    if (remember && window.history && history.replaceState) {
      try {
        history.replaceState(null, "", "#" + (people ? "person=" : "account=")
          + encodeURIComponent(people ? P.id[i] : A.id[i]));
      } catch (e) { /* a file: URL some browsers will not rewrite: the chart still works */ }
    }
    return true;
  }
  document.getElementById("totals-note").textContent = DATA.totalsFrom === "rollup"
    ? "totals rolled up with facts and FX" : DATA.totalsFrom === "none" ? "no metrics"
    : "totals are sums of accounts.csv (no FX)";
  document.getElementById("count-accounts").textContent = plural(nA, "account");
  document.getElementById("count-people").textContent = plural(nP, "person", "people");

  // -- links: #account=ID, #person=ID, #q=TEXT, #view=people ------------------------------
  // The part after "=" is percent-decoded once; anything (quotes, markup, a broken escape)
  // is only ever compared with ids or put in the search box as text, never into markup.
  function fragment() {
    var raw = (location.hash || "").slice(1), at = raw.indexOf("=");
    var key = at < 0 ? raw : raw.slice(0, at), value = at < 0 ? "" : raw.slice(at + 1);
    try { value = decodeURIComponent(value); } catch (e) { /* a broken escape: as typed */ }
    return { key: key, value: value };
  }
  function openFragment() {
    var f = fragment(), seen = { fragment: f.key, value: f.value };
    if (f.key === "account" || f.key === "person") {
      var people = f.key === "person", i = (people ? P.id : A.id).indexOf(f.value);
      seen.found = i >= 0;
      if (i >= 0) {
        seen.revealed = reveal(i, people, false);
      } else {             // no such id: search for it instead, which says "no match" or lists
        if (people) showView("people");
        search.value = f.value;
        runSearch();
      }
    } else if (f.key === "q") {
      search.value = f.value;
      runSearch();
      search.focus();
    } else if (f.key === "view" && (f.value === "people" || f.value === "accounts")) {
      showView(f.value);
    } else if (f.key === "formats") {    // self-test: these numbers as each kind writes them
      seen.formats = {};
      ["money", "int", "ratio", "number"].forEach(function (kind) {
        seen.formats[kind] = f.value.split(";").map(function (v) {
          return formatNumber(v === "null" ? null : Number(v), kind); });
      });
    } else {
      return;
    }
    seen.view = current;
    seen.results = results.classList.contains("open") ? hits.length : null;
    seen.highlighted = Array.prototype.map.call(document.querySelectorAll(".row.hit .name"),
      function (n) { return n.textContent; });
    seen.search = search.value;
    seen.placeholderFits = placeholderFits();
    var firstRow = document.querySelector(".row.hit")
      || document.querySelector(".view.on li.node .row");
    seen.figures = firstRow ? Array.prototype.map.call(firstRow.querySelectorAll(".figure"),
      function (fig) { return [fig.querySelector("span").textContent,
        fig.querySelector("b").textContent]; }) : [];
    document.getElementById("selftest").textContent = JSON.stringify(seen);
  }
  // Whether the box shows its placeholder whole (text width within the box's inner width).
  function placeholderFits() {
    var style = getComputedStyle(search), canvas = document.createElement("canvas");
    var ctx = canvas.getContext("2d");
    ctx.font = style.fontStyle + " " + style.fontWeight + " " + style.fontSize + " "
      + style.fontFamily;
    var inner = search.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return ctx.measureText(search.placeholder).width <= inner;
  }
  openFragment();
  window.addEventListener("hashchange", openFragment);

  // -- self-test: chart.html#selftest=QUERY writes what it saw into #selftest ---------------
  var hash = fragment().key + (location.hash.indexOf("=") >= 0 ? "=" + fragment().value : "");
  if (hash.indexOf("relmap=") === 0) {   // open one account's relationship map, report it
    var wanted = A.id.indexOf(hash.slice(7)), seenMap = { account: hash.slice(7), found: wanted >= 0 };
    if (wanted >= 0 && reveal(wanted, false)) {
      var mapped = toggleMap(wanted, accLi[wanted].querySelector(".row"));
      if (mapped) {
        seenMap.contacts = mapped.querySelectorAll(".card.contact").length;
        seenMap.owners = mapped.querySelectorAll(".card.person").length;
        seenMap.links = +mapped.dataset.links;
        seenMap.roles = Array.prototype.map.call(mapped.querySelectorAll(".role .relmap-head"),
          function (h) { return h.textContent; });
        seenMap.primary = mapped.querySelectorAll(".card.primary").length;
        seenMap.personal = mapped.querySelectorAll(".personal").length;
        var topRow = wanted;
        while (A.parent[topRow] >= 0) topRow = A.parent[topRow];
        Array.prototype.forEach.call(accRoot.children, function (li) {
          if (li.classList.contains("node") && +li.dataset.i !== topRow) li.style.display = "none"; });
        mapped.scrollIntoView({ block: "start" });
        drawLinks(mapped);
      }
    }
    document.getElementById("selftest").textContent = JSON.stringify(seenMap);
  }
  if (hash.indexOf("selftest=") === 0) {
    var query = hash.slice(9);
    var report = { accounts: nA, people: nP, rootsRendered: accRoot.querySelectorAll(":scope > li.node").length };
    search.value = query;
    runSearch();
    report.query = query;
    report.results = hits.length;
    report.firstResult = hits.length ? A.name[hits[0]] : null;
    report.revealed = hits.length ? reveal(hits[0], false) : false;
    report.highlighted = document.querySelectorAll(".row.hit").length;
    report.highlightedName = report.highlighted ? document.querySelector(".row.hit .name").textContent : null;
    close();
    report.nodesRendered = accRoot.querySelectorAll("li.node").length;
    showView("people");
    report.peopleNodesRendered = pplRoot.querySelectorAll("li.node").length;
    showView("accounts");
    report.ok = report.rootsRendered > 0 && report.revealed === true;
    // Keep only the found account's branch on screen, so a screenshot shows it.
    if (hits.length) {
      var top = hits[0];
      while (A.parent[top] >= 0) top = A.parent[top];
      Array.prototype.forEach.call(accRoot.children, function (li) {
        if (li.classList.contains("node") && +li.dataset.i !== top) li.style.display = "none";
      });
      window.scrollTo(0, 0);
    }
    document.getElementById("selftest").textContent = JSON.stringify(report);
  }
})();
