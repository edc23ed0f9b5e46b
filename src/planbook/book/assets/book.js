// planbook HTML book: offline full-text search over window.PB_SEARCH_INDEX (search-index.js,
// loaded with a <script> tag so it works from file://).
(function () {
  "use strict";
  // On a phone the navigation collapses behind a button, so the content comes first.
  // Without JavaScript the class is never set and the navigation simply stays open.
  document.documentElement.classList.add("pb-js");
  var side = document.getElementById("pb-sidebar");
  var nav = document.getElementById("pb-nav");
  if (!side || !nav) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "pb-nav-toggle";
  button.setAttribute("aria-controls", "pb-nav");
  button.setAttribute("aria-expanded", "false");
  button.textContent = "目录 ▾";
  button.addEventListener("click", function () {
    var open = side.classList.toggle("pb-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "收起目录 ▴" : "目录 ▾";
  });
  nav.parentNode.insertBefore(button, nav);
})();

// A table or chart wider than its box scrolls sideways inside it (a phone): the box gets
// .pb-more (a shaded right edge) and the line after it says so, while content lies hidden.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".pb-table-wrap, .pb-figure-scroll, .pb-output");
  var cues = [];
  for (var i = 0; i < boxes.length; i++) {
    var cue = document.createElement("p");
    cue.className = "pb-scroll-cue";
    cue.setAttribute("aria-hidden", "true");
    cue.textContent = "← 可左右滑动查看全部 →";
    boxes[i].parentNode.insertBefore(cue, boxes[i].nextSibling);
    cues.push(cue);
  }
  function update() {
    for (var k = 0; k < boxes.length; k++) {
      var box = boxes[k];
      var more = box.scrollWidth > box.clientWidth + 1 &&
        box.scrollLeft + box.clientWidth < box.scrollWidth - 1;
      box.classList.toggle("pb-more", box.scrollWidth > box.clientWidth + 1);
      box.classList.toggle("pb-end", !more);
    }
  }
  for (var j = 0; j < boxes.length; j++) { boxes[j].addEventListener("scroll", update); }
  window.addEventListener("resize", update);
  update();
})();

(function () {
  "use strict";
  var input = document.getElementById("pb-search-input");
  var list = document.getElementById("pb-search-results");
  if (!input || !list) { return; }
  var LIMIT = 20;

  function normalise(s) { return (s || "").toLowerCase(); }

  function snippet(text, q) {
    var i = normalise(text).indexOf(q);
    if (i < 0) { return document.createTextNode(text.slice(0, 80)); }
    var start = Math.max(0, i - 30);
    var span = document.createElement("span");
    span.appendChild(document.createTextNode((start > 0 ? "…" : "") + text.slice(start, i)));
    var mark = document.createElement("mark");
    mark.textContent = text.slice(i, i + q.length);
    span.appendChild(mark);
    span.appendChild(document.createTextNode(text.slice(i + q.length, i + q.length + 50) + "…"));
    return span;
  }

  function search(q) {
    var index = window.PB_SEARCH_INDEX || [];
    var hits = [];
    for (var k = 0; k < index.length && hits.length < LIMIT; k++) {
      var e = index[k];
      if (normalise(e.s).indexOf(q) >= 0 || normalise(e.x).indexOf(q) >= 0) { hits.push(e); }
    }
    return hits;
  }

  function show(q) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    q = normalise(q.trim());
    if (!q) { list.hidden = true; return; }
    var hits = search(q);
    if (!hits.length) {
      var none = document.createElement("li");
      none.className = "pb-no-hit";
      none.textContent = "未找到“" + q + "”";
      list.appendChild(none);
    }
    hits.forEach(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = e.p + (e.a ? "#" + encodeURIComponent(e.a) : "");
      var title = document.createElement("span");
      title.className = "pb-hit-title";
      title.textContent = e.t + (e.s && e.s !== e.t ? " › " + e.s : "");
      var text = document.createElement("span");
      text.className = "pb-hit-text";
      text.appendChild(snippet(normalise(e.s).indexOf(q) >= 0 && normalise(e.x).indexOf(q) < 0 ? e.s : e.x, q));
      a.appendChild(title);
      a.appendChild(text);
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { show(input.value); }, 120);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      show(input.value);
      var first = list.querySelector("a");
      if (first) { window.location.href = first.href; }
    } else if (ev.key === "Escape") {
      input.value = ""; show("");
    }
  });
  document.addEventListener("click", function (ev) {
    if (!list.contains(ev.target) && ev.target !== input) { list.hidden = true; }
  });
})();
