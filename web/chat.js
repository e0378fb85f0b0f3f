// Mounts the chat widget (rasa-webchat, served by web/serve.py) in the bottom-right corner, and adds
// "Helpful? 👍 👎" under the assistant's answers.
// The Rasa server's socket.io URL comes from /config.js, so no port is written into the page.
(function () {
  "use strict";
  var config = window.WEBCHAT_CONFIG || {};
  // The program this page is about (<body data-program-id="...">, a catalog id): sent with every
  // message, so "how much does it cost?" is answered for this program unless another is named.
  var programId = document.body.getAttribute("data-program-id");
  // The browser's language ("es-MX"): the assistant starts the conversation in it when it answers in
  // it (English, Spanish, French, Portuguese); what the learner then writes decides after that.
  var browserLanguage = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  // rasa-webchat's handle (its `innerRef`): sendMessage(payload, text) sends a payload, and with an
  // empty text shows no learner bubble for it.
  var webchat = null;

  // ---- Offline: the learner can keep typing ---------------------------------------------------------
  // rasa-webchat disables its text box until the socket is connected, and again whenever it drops;
  // socket.io-client, meanwhile, keeps every message emitted and sends them, in order, once it has
  // (re)connected, after the widget's session_request. So the box stays usable while the widget is not
  // connected, unless the conversation itself had disabled it before the connection went.
  var connected = false;
  var disabledByConversation = false;

  function keepTextBoxUsable() {
    var box = document.querySelector(".rw-new-message");
    if (!box) {
      return;
    }
    if (connected) {
      disabledByConversation = box.disabled;
    } else if (box.disabled && !disabledByConversation) {
      box.disabled = false;
    }
  }

  function setConnected(now) {
    // Once connected, the box is left to rasa-webchat: it enables it when the server confirms the
    // session, and that change is what is then remembered as the conversation's.
    connected = now;
    if (!now) {
      keepTextBoxUsable();
    }
  }

  new MutationObserver(keepTextBoxUsable).observe(document.body, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["disabled"],
  });

  window.WebChat.default(
    {
      socketUrl: config.socketUrl,
      socketPath: config.socketPath || "/socket.io/",
      initPayload: "/greet", // the greeting when the learner first opens the chat
      title: "MicroMasters assistant",
      subtitle: "Credit, admission, jobs and cost",
      inputTextFieldHint: "Ask about a MicroMasters program…",
      customData: programId
        ? { language: browserLanguage, program_id: programId }
        : { language: browserLanguage },
      // Keep the session id and the conversation in localStorage: a reload brings both back.
      params: { storage: "local" },
      // While the Rasa server is unreachable the widget stays, with this notice under its header:
      // socket.io-client retries with back-off (1 s doubling to 5 s, with jitter) and keeps what the
      // learner sends meanwhile, sending it once the connection is back.
      hideWhenNotConnected: false,
      connectingText: "Connecting to the assistant… If this stays, it is out of reach: we keep trying, " +
        "and what you send now goes out once it is back.",
      onSocketEvent: {
        connect: function () {
          setConnected(true);
        },
        disconnect: function () {
          setConnected(false);
        },
      },
      displayUnreadCount: true,
      mainColor: "#a31f34",
      userBackgroundColor: "#a31f34",
      userTextColor: "#ffffff",
      // The typing indicator shows for this long before each bot message.
      customMessageDelay: function (message) {
        return Math.min(1500, Math.max(400, message.length * 5));
      },
      innerRef: function (handle) {
        if (handle) {
          webchat = handle;
        }
      },
    },
    null
  );

  // ---- Feedback: "Helpful? 👍 👎" under each answer ------------------------------------------------
  // A rating is the payload /feedback{"rating": "up"|"down", "answer": "<the answer's first 80 characters>"};
  // after 👎 an optional comment is a second payload /feedback{"comment": "...", "answer": "..."}.
  // Rasa stores each as a user event (intent feedback) and replies with a short thanks.
  var ANSWER_CHARS = 80;
  var COMMENT_CHARS = 300;
  var LONG_ANSWER = 120; // a reply longer than this is an answer even without a source link
  var STORE_KEY = "micromasters_feedback"; // ratings already given, so a reload shows them as given
  var STORE_LIMIT = 200;
  // Bot messages that are prompts, notices or the thanks itself, not answers: no rating under them.
  var NOT_ANSWERS = [
    "Hi! I answer questions about edX MicroMasters programs",
    "Several programs match.",
    "Sorry, I didn't quite understand.",
    "Thanks, that helps us improve.",
    "I've asked the learner-support team to help",
    "The support team has handed you back to me.",
    "Sorry, nobody from the learner-support team",
  ];
  // While the support team has the conversation, their replies are not the assistant's answers.
  var HANDED_OFF = "I've asked the learner-support team to help";
  var HANDED_BACK = ["The support team has handed you back to me.", "Sorry, nobody from the learner-support team"];
  var formCount = 0;

  function startsWithAny(text, prefixes) {
    return prefixes.some(function (prefix) {
      return text.indexOf(prefix) === 0;
    });
  }

  function firstChars(text, count) {
    return Array.from(text).slice(0, count).join(""); // characters, not UTF-16 halves of an emoji
  }

  function sessionId() {
    try {
      var session = JSON.parse(window.localStorage.getItem("chat_session") || "{}");
      return typeof session.session_id === "string" ? session.session_id : "";
    } catch (error) {
      return "";
    }
  }

  function readRatings() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}");
      return stored && typeof stored === "object" ? stored : {};
    } catch (error) {
      return {};
    }
  }

  function rememberRating(key, rating) {
    var ratings = readRatings();
    delete ratings[key];
    ratings[key] = rating;
    var keys = Object.keys(ratings);
    keys.slice(0, Math.max(0, keys.length - STORE_LIMIT)).forEach(function (old) {
      delete ratings[old];
    });
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(ratings));
    } catch (error) {
      // storage full or refused: the rating was still sent, it just won't show as given after a reload
    }
  }

  function sendFeedback(entities) {
    if (!webchat || typeof webchat.sendMessage !== "function") {
      return false;
    }
    // JSON.stringify escapes quotes, backslashes and control characters: any text stays one JSON value.
    webchat.sendMessage("/feedback" + JSON.stringify(entities), "");
    return true;
  }

  function isAnswer(message, text) {
    if (!text || message.querySelector(".rw-replies") || startsWithAny(text, NOT_ANSWERS)) {
      return false;
    }
    var cited = message.querySelector(".rw-response a[href]") !== null || /\bSources?:/.test(text);
    if (!cited && /\?$/.test(text)) {
      return false; // the assistant asking the learner something ("Which program do you mean?")
    }
    return cited || text.length > LONG_ANSWER;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function keepScrolledDown(container, wasAtBottom) {
    if (container && wasAtBottom) {
      container.scrollTop = container.scrollHeight;
    }
  }

  function atBottom(container) {
    return container && container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  }

  function showRecorded(bar, rating) {
    bar.querySelectorAll(".mm-feedback-button").forEach(function (button) {
      var chosen = button.getAttribute("data-rating") === rating;
      button.disabled = true;
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
      button.classList.toggle("mm-feedback-chosen", chosen);
    });
    var status = bar.querySelector(".mm-feedback-status");
    status.textContent = "Recorded";
    bar.classList.add("mm-feedback-given");
  }

  function commentForm(bar, answer, status) {
    formCount += 1;
    var form = element("form", "mm-feedback-comment");
    form.setAttribute("novalidate", "");
    var inputId = "mm-feedback-comment-" + formCount;
    var label = element("label", "mm-feedback-comment-label", "What was wrong or missing? (optional)");
    label.setAttribute("for", inputId);
    var input = element("input", "mm-feedback-comment-input");
    input.type = "text";
    input.id = inputId;
    input.maxLength = COMMENT_CHARS;
    input.autocomplete = "off";
    var actions = element("div", "mm-feedback-comment-actions");
    var send = element("button", "mm-feedback-send", "Send");
    send.type = "submit";
    var skip = element("button", "mm-feedback-skip", "Skip");
    skip.type = "button";
    actions.appendChild(send);
    actions.appendChild(skip);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(actions);

    function close(message) {
      form.remove();
      status.textContent = message;
      status.focus();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // One line, at most 300 characters: newlines (and other line breaks) become spaces.
      var comment = firstChars(input.value.replace(/[\r\n\u2028\u2029]+/g, " ").trim(), COMMENT_CHARS);
      if (!comment) {
        close("Recorded");
        return;
      }
      close(sendFeedback({ comment: comment, answer: answer }) ? "Recorded, with your comment" : "Could not send the comment");
    });
    skip.addEventListener("click", function () {
      close("Recorded");
    });
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close("Recorded");
      }
    });
    return form;
  }

  function feedbackBar(message, text, key, given) {
    var answer = firstChars(text, ANSWER_CHARS);
    var bar = element("div", "mm-feedback");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Was this answer helpful?");
    bar.appendChild(element("span", "mm-feedback-label", "Helpful?"));
    [
      ["up", "👍", "Helpful"],
      ["down", "👎", "Not helpful"],
    ].forEach(function (choice) {
      var button = element("button", "mm-feedback-button", choice[1]);
      button.type = "button";
      button.setAttribute("data-rating", choice[0]);
      button.setAttribute("aria-label", choice[2]);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        if (button.disabled || bar.classList.contains("mm-feedback-given")) {
          return;
        }
        var container = message.closest(".rw-messages-container");
        var wasAtBottom = atBottom(container);
        if (!sendFeedback({ rating: choice[0], answer: answer })) {
          bar.querySelector(".mm-feedback-status").textContent = "Could not send: try again";
          return;
        }
        rememberRating(key, choice[0]);
        showRecorded(bar, choice[0]);
        var status = bar.querySelector(".mm-feedback-status");
        if (choice[0] === "down") {
          var form = commentForm(bar, answer, status);
          bar.appendChild(form);
          form.querySelector("input").focus();
        } else {
          status.focus();
        }
        keepScrolledDown(container, wasAtBottom);
      });
      bar.appendChild(button);
    });
    var status = element("span", "mm-feedback-status");
    status.setAttribute("role", "status");
    status.setAttribute("tabindex", "-1");
    bar.appendChild(status);
    if (given === "up" || given === "down") {
      showRecorded(bar, given);
    }
    // rasa-webchat turns some mouse-ups into focus changes; keep them inside the bar.
    bar.addEventListener("mouseup", function (event) {
      event.stopPropagation();
    });
    return bar;
  }

  function decorate() {
    var container = document.querySelector(".rw-messages-container");
    if (!container) {
      return;
    }
    var wasAtBottom = atBottom(container);
    var session = sessionId();
    var ratings = readRatings();
    var handedOff = false;
    var added = false;
    // Every shown message, in order: its position is stable (messages are only ever appended) and,
    // with the session id, names it across reloads.
    container.querySelectorAll(".rw-group-message > .rw-message").forEach(function (message, index) {
      var group = message.parentNode;
      if (!group.classList.contains("rw-from-response")) {
        return;
      }
      var textNode = message.querySelector(".rw-message-text") || message.querySelector(".rw-response");
      var text = textNode ? textNode.textContent.trim() : "";
      if (text.indexOf(HANDED_OFF) === 0) {
        handedOff = true;
      } else if (startsWithAny(text, HANDED_BACK)) {
        handedOff = false;
      }
      if (handedOff || message.querySelector(".mm-feedback") || !isAnswer(message, text)) {
        return;
      }
      var key = session + "|" + index + "|" + firstChars(text, 40);
      message.appendChild(feedbackBar(message, text, key, ratings[key]));
      added = true;
    });
    if (added) {
      keepScrolledDown(container, wasAtBottom);
    }
  }

  var scheduled = false;
  new MutationObserver(function () {
    if (!scheduled) {
      scheduled = true;
      window.setTimeout(function () {
        scheduled = false;
        decorate();
      }, 0);
    }
  }).observe(document.body, { childList: true, subtree: true });
})();
