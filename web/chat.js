// Mounts the chat widget (rasa-webchat, served by web/serve.py) in the bottom-right corner.
// The Rasa server's socket.io URL comes from /config.js, so no port is written into the page.
(function () {
  "use strict";
  var config = window.WEBCHAT_CONFIG || {};
  // The program this page is about (<body data-program-id="...">, a catalog id): sent with every
  // message, so "how much does it cost?" is answered for this program unless another is named.
  var programId = document.body.getAttribute("data-program-id");
  window.WebChat.default(
    {
      socketUrl: config.socketUrl,
      socketPath: config.socketPath || "/socket.io/",
      initPayload: "/greet", // the greeting when the learner first opens the chat
      title: "MicroMasters assistant",
      subtitle: "Credit, admission, jobs and cost",
      inputTextFieldHint: "Ask about a MicroMasters program…",
      customData: programId ? { language: "en", program_id: programId } : { language: "en" },
      // Keep the session id and the conversation in localStorage: a reload brings both back.
      params: { storage: "local" },
      // Hidden while the Rasa server is unreachable; socket.io reconnects and the widget comes back.
      hideWhenNotConnected: true,
      displayUnreadCount: true,
      mainColor: "#a31f34",
      userBackgroundColor: "#a31f34",
      userTextColor: "#ffffff",
      // The typing indicator shows for this long before each bot message.
      customMessageDelay: function (message) {
        return Math.min(1500, Math.max(400, message.length * 5));
      },
    },
    null
  );
})();
