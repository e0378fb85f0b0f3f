/* The staff dashboard's page: draws /api/report for the chosen period with Chart.js, and sends reviews.
 *
 * Learner text (unanswered messages, comments) is only ever set with textContent, never as HTML. Each
 * chart's canvas carries its numbers in data-values (JSON), each headline tile its raw value in
 * data-value, so the browser test can check what was drawn.
 */
(function () {
  "use strict";

  var DEFAULT_DAYS = 28;
  var EXAMPLES_SHOWN = 3; // messages shown per group; the rest behind "Show N more"
  var csrf = meta("csrf-token");
  var intents = meta("review-intents").split(" ").filter(Boolean);
  var charts = {};
  var period = { start: "", end: "" };
  var CHANNEL_NAMES = { socketio: "web chat", rest: "REST", slack: "Slack" };
  var COLORS = ["#1f5fa8", "#d0661d", "#2f8a4c", "#8a3ea8", "#b3263b", "#5e6b78", "#c9a400", "#17838f"];

  function meta(name) {
    var tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.getAttribute("content") || "" : "";
  }

  /* An element with attributes and text (textContent: never parsed as HTML). */
  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function status(text) {
    document.getElementById("status").textContent = text;
  }

  function isoDay(value) {
    return value.toISOString().slice(0, 10);
  }

  function defaultPeriod() {
    var end = new Date();
    var start = new Date(end.getTime() - (DEFAULT_DAYS - 1) * 86400000);
    return { start: isoDay(start), end: isoDay(end) };
  }

  function shorten(label) {
    return label.length > 26 ? label.slice(0, 25) + "…" : label;
  }

  function percent(share) {
    return share === null || share === undefined ? "–" : (share * 100).toFixed(1) + " %";
  }

  function duration(ms) {
    if (ms === null || ms === undefined) { return "–"; }
    return ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
  }

  /* ---- headline tiles ---- */

  function tiles(totals) {
    var contained = totals.conversations - totals.handed_off;
    return [
      ["conversations", "Conversations", totals.conversations, String(totals.conversations),
        "learners' chats with at least one message"],
      ["messages", "Learner messages", totals.messages, String(totals.messages), "questions and replies to the assistant"],
      ["containment", "Containment", totals.containment, percent(totals.containment),
        contained + " of " + totals.conversations + " conversations without a handoff"],
      ["handoff_rate", "Handoff rate", totals.handoff_rate, percent(totals.handoff_rate),
        totals.handed_off + " handed to the support team"],
      ["fallback_rate", "Fallback rate", totals.fallback_rate, percent(totals.fallback_rate),
        totals.fallbacks + " of " + totals.messages + " messages not understood"],
      ["out_of_scope_rate", "Out-of-scope rate", totals.out_of_scope_rate, percent(totals.out_of_scope_rate),
        totals.out_of_scope + " of " + totals.messages + " messages beyond the four topics"],
      ["thumbs_up_rate", "Thumbs-up 👍 rate", totals.thumbs_up_rate, percent(totals.thumbs_up_rate),
        "👍 " + totals.thumbs_up + " up · 👎 " + totals.thumbs_down + " down"],
      ["median_reply_ms", "Median reply time", totals.median_reply_ms, duration(totals.median_reply_ms),
        "from a learner message to the assistant's reply"],
      ["rate_limited", "Refused by rate limits", totals.rate_limited, String(totals.rate_limited),
        "messages not read (too many a minute); handoffs not opened at the desk's hourly cap: " + totals.desk_busy]
    ];
  }

  function drawTiles(totals) {
    var box = document.getElementById("tiles");
    clear(box);
    tiles(totals).forEach(function (tile) {
      var node = el("div", { "class": "tile", "data-tile": tile[0], "data-value": JSON.stringify(tile[2]) });
      node.appendChild(el("p", { "class": "tile-name" }, tile[1]));
      node.appendChild(el("p", { "class": "tile-value" }, tile[3]));
      node.appendChild(el("p", { "class": "tile-detail" }, tile[4]));
      box.appendChild(node);
    });
  }

  /* ---- charts ---- */

  function draw(name, config, values) {
    var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
    canvas.setAttribute("data-values", JSON.stringify(values));
    if (charts[name]) { charts[name].destroy(); }
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
    charts[name] = new window.Chart(canvas, config);
  }

  function drawCharts(report) {
    if (!window.Chart) { status("The charts could not load (Chart.js is missing: npm ci --prefix web)."); return; }
    var days = report.daily.map(function (day) { return day.day; });
    var conversations = report.daily.map(function (day) { return day.conversations; });
    var messages = report.daily.map(function (day) { return day.messages; });
    var containment = report.daily.map(function (day) { return day.containment; });
    draw("daily", {
      type: "bar",
      data: {
        labels: days,
        datasets: [
          { type: "line", label: "Conversations", data: conversations, borderColor: COLORS[1],
            backgroundColor: COLORS[1], tension: 0.2 },
          { type: "bar", label: "Learner messages", data: messages, backgroundColor: COLORS[0] }
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    }, { labels: days, conversations: conversations, messages: messages });
    draw("containment", {
      type: "line",
      data: {
        labels: days,
        datasets: [{ label: "Containment %", borderColor: COLORS[2], backgroundColor: COLORS[2], spanGaps: false,
          data: containment.map(function (share) { return share === null ? null : Math.round(share * 1000) / 10; }) }]
      },
      options: { scales: { y: { min: 0, max: 100 } } }
    }, { labels: days, containment: containment });
    var channels = report.totals.channels || {};
    var channelNames = Object.keys(channels).sort();
    var channelCounts = channelNames.map(function (name) { return channels[name]; });
    draw("channels", {
      type: "doughnut",
      data: { labels: channelNames.map(function (name) { return CHANNEL_NAMES[name] || name; }), datasets: [{ label: "Messages", data: channelCounts,
        backgroundColor: channelNames.map(function (_, i) { return COLORS[i % COLORS.length]; }) }] }
    }, { labels: channelNames, values: channelCounts });
    var programs = report.top_programs.map(function (row) { return row.program; });
    var programAnswers = report.top_programs.map(function (row) { return row.answers; });
    draw("top_programs", {
      type: "bar",
      data: { labels: programs, datasets: [{ label: "Answers", data: programAnswers, backgroundColor: COLORS[0] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { ticks: { callback: function (value) { return shorten(this.getLabelForValue(value)); } } } } }
    }, { labels: programs, values: programAnswers, ids: report.top_programs.map(function (row) { return row.program_id; }) });
    var topics = report.top_topics.map(function (row) { return row.topic; });
    var topicAnswers = report.top_topics.map(function (row) { return row.answers; });
    draw("top_topics", {
      type: "bar",
      data: { labels: topics, datasets: [{ label: "Answers", data: topicAnswers, backgroundColor: COLORS[3] }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    }, { labels: topics, values: topicAnswers });
  }

  /* ---- unanswered questions and their review ---- */

  function reviewControl(message) {
    var box = el("div", { "class": "review" });
    var id = "review-" + message.event_id;
    box.appendChild(el("label", { "for": id }, "Label"));
    var select = el("select", { id: id });
    select.appendChild(el("option", { value: "" }, "Choose…"));
    var group = el("optgroup", { label: "The intent it should have had" });
    intents.forEach(function (intent) { group.appendChild(el("option", { value: "intent:" + intent }, intent)); });
    select.appendChild(group);
    select.appendChild(el("option", { value: "new_faq" }, "Needs a new FAQ answer"));
    select.appendChild(el("option", { value: "ignore" }, "Ignore"));
    var save = el("button", { type: "button", "class": "save" }, "Save");
    save.addEventListener("click", function () { sendReview(message, select, save); });
    box.appendChild(select);
    box.appendChild(save);
    return box;
  }

  function sendReview(message, select, save) {
    var choice = select.value;
    if (!choice) { status("Choose a label first."); select.focus(); return; }
    var body = choice.indexOf("intent:") === 0
      ? { event_id: message.event_id, label: "intent", intent: choice.slice("intent:".length) }
      : { event_id: message.event_id, label: choice };
    save.disabled = true;
    fetch("/api/reviews", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { throw new Error(answer.error || "HTTP " + response.status); }
        removeMessage(message.event_id);
        status("Saved: " + (body.intent ? "intent " + body.intent : select.options[select.selectedIndex].text) + ".");
      });
    }).catch(function (problem) {
      save.disabled = false;
      status("Not saved: " + problem.message);
    });
  }

  function removeMessage(eventId) {
    var item = document.querySelector('li.message[data-event-id="' + eventId + '"]');
    if (!item) { return; }
    var group = item.closest("li.group");
    var next = item.nextElementSibling || (group && group.nextElementSibling);
    item.remove();
    if (group) {
      var left = group.querySelectorAll("li.message").length;
      if (left === 0) { group.remove(); } else { group.querySelector(".count").textContent = left + "×"; }
    }
    var remaining = document.querySelectorAll("#unanswered li.message").length;
    document.getElementById("unanswered-count").textContent = "(" + remaining + " messages)";
    var focusable = next && next.querySelector("select");
    (focusable || document.getElementById("h-unanswered")).focus();
  }

  function drawUnanswered(groups) {
    var list = document.getElementById("unanswered");
    clear(list);
    var count = 0;
    groups.forEach(function (group) {
      var item = el("li", { "class": "group" });
      var head = el("p", { "class": "group-head" });
      head.appendChild(el("strong", { "class": "count" }, group.count + "×"));
      head.appendChild(el("span", { "class": "reasons" }, group.reasons.join(" · ")));
      head.appendChild(el("span", { "class": "quiet" }, "last " + group.last_day));
      item.appendChild(head);
      var shown = el("ul", { "class": "messages" });
      var more = el("ul", { "class": "messages" });
      group.messages.forEach(function (message, index) {
        count += 1;
        var row = el("li", { "class": "message", "data-event-id": String(message.event_id) });
        row.appendChild(el("q", { "class": "text" }, message.text));
        row.appendChild(el("span", { "class": "quiet meta" }, message.day + " · " + message.reason));
        if (message.comment) { row.appendChild(el("p", { "class": "comment" }, "Comment: " + message.comment)); }
        row.appendChild(reviewControl(message));
        (index < EXAMPLES_SHOWN ? shown : more).appendChild(row);
      });
      item.appendChild(shown);
      if (more.children.length) {
        var details = el("details", { "class": "more" });
        details.appendChild(el("summary", {}, "Show " + more.children.length + " more like these"));
        details.appendChild(more);
        item.appendChild(details);
      }
      list.appendChild(item);
    });
    if (!groups.length) { list.appendChild(el("li", { "class": "empty" }, "Nothing unanswered in this period.")); }
    document.getElementById("unanswered-count").textContent = "(" + count + " messages)";
    var heading = document.getElementById("h-unanswered");
    heading.setAttribute("tabindex", "-1");
  }

  /* ---- stale facts ---- */

  function safeUrl(url) {
    try {
      var parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (problem) {
      return null;
    }
  }

  function drawStaleFacts(facts) {
    var body = document.querySelector("#stale-facts tbody");
    clear(body);
    facts.forEach(function (fact) {
      var row = el("tr");
      [fact.program, fact.topic, fact.served, fact.as_of || "not dated",
        fact.age_years === null ? "–" : fact.age_years, fact.priority === null ? "not dated" : fact.priority
      ].forEach(function (value) { row.appendChild(el("td", {}, value)); });
      var sources = el("td", { "class": "sources" });
      fact.sources.forEach(function (source) {
        var url = safeUrl(source.url);
        var link = url ? el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, source.title || url)
          : el("span", {}, source.title || "(no link)");
        sources.appendChild(link);
      });
      row.appendChild(sources);
      body.appendChild(row);
    });
    if (!facts.length) {
      var empty = el("tr");
      empty.appendChild(el("td", { colspan: "7" }, "No catalog answers in this period."));
      body.appendChild(empty);
    }
  }

  /* ---- the period and loading ---- */

  function updateCsvLinks() {
    var query = "?start=" + encodeURIComponent(period.start) + "&end=" + encodeURIComponent(period.end);
    document.querySelectorAll("a[data-csv]").forEach(function (link) {
      link.setAttribute("href", "/export/" + link.getAttribute("data-csv") + ".csv" + query);
    });
  }

  function load() {
    status("Loading " + period.start + " to " + period.end + "…");
    var query = new URLSearchParams({ start: period.start, end: period.end });
    return fetch("/api/report?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (report) {
          if (response.status === 401) { throw new Error("your sign-in has expired: ask in Slack for a new link"); }
          if (!response.ok) { throw new Error(report.error || "HTTP " + response.status); }
          return report;
        });
      })
      .then(function (report) {
        document.getElementById("period-label").textContent =
          "(" + report.period.start + " to " + report.period.end + ")";
        drawTiles(report.totals);
        drawCharts(report);
        drawUnanswered(report.unanswered);
        drawStaleFacts(report.stale_facts);
        updateCsvLinks();
        document.body.setAttribute("data-loaded", report.period.start + "/" + report.period.end);
        status("Showing " + report.period.start + " to " + report.period.end + " (UTC days).");
      })
      .catch(function (problem) { status("Could not load the report: " + problem.message); });
  }

  function start() {
    var params = new URLSearchParams(window.location.search);
    var fallback = defaultPeriod();
    period = { start: params.get("start") || fallback.start, end: params.get("end") || fallback.end };
    var startInput = document.getElementById("start");
    var endInput = document.getElementById("end");
    startInput.value = period.start;
    endInput.value = period.end;
    document.getElementById("period").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!startInput.value || !endInput.value) { status("Choose both dates."); return; }
      if (startInput.value > endInput.value) { status("The period must start before it ends."); return; }
      period = { start: startInput.value, end: endInput.value };
      window.history.replaceState(null, "", "/?start=" + period.start + "&end=" + period.end);
      load();
    });
    document.getElementById("sign-out").addEventListener("click", function () {
      fetch("/signout", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: "{}" })
        .then(function () { window.location.assign("/"); });
    });
    updateCsvLinks();
    load();
  }

  start();
}());
