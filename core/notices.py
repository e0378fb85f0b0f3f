"""What the assistant says about itself rather than about a program: the support offer, a part
being down, and the handoff to and from the support team. Said by both servers."""


_OFFER_SUPPORT = {
    "en": "I can answer questions about MicroMasters credit, admission, careers and cost, and a few "
          "general ones. For anything else, the edX learner-support team can help: {url}",
    "es": "Respondo preguntas sobre créditos, admisión, empleo y costo de los MicroMasters, y algunas "
          "generales. Para todo lo demás, el equipo de soporte de edX puede ayudarte: {url}",
    "fr": "Je réponds aux questions sur les crédits, l'admission, l'emploi et le coût des MicroMasters, et à "
          "quelques questions générales. Pour le reste, l'équipe d'assistance d'edX peut vous aider : {url}",
    "pt": "Respondo a perguntas sobre créditos, admissão, emprego e custo dos MicroMasters, e algumas "
          "gerais. Para o resto, a equipe de suporte do edX pode ajudar: {url}",
}
# A message in a language the assistant does not answer: said in that language where we have the
# words (written for the project, one line each), then in English.
_NOT_ANSWERED = {
    "en": "Sorry, I can only answer in English, Spanish, French or Portuguese. "
          "The edX learner-support team can help: {url}",
    "de": "Leider antworte ich nur auf Englisch, Spanisch, Französisch und Portugiesisch. "
          "Das Support-Team von edX hilft Ihnen weiter: {url}",
    "it": "Mi dispiace, rispondo solo in inglese, spagnolo, francese e portoghese. "
          "Il team di assistenza di edX può aiutarti: {url}",
    "tr": "Üzgünüm, yalnızca İngilizce, İspanyolca, Fransızca ve Portekizce yanıt verebiliyorum. "
          "edX destek ekibi yardımcı olabilir: {url}",
    "ru": "Извините, я отвечаю только на английском, испанском, французском и португальском. "
          "Служба поддержки edX поможет вам: {url}",
    "ar": "عذرًا، أستطيع الرد بالإنجليزية والإسبانية والفرنسية والبرتغالية فقط. يمكن لفريق دعم edX مساعدتك: {url}",
    "hi": "क्षमा करें, मैं केवल अंग्रेज़ी, स्पेनिश, फ़्रेंच और पुर्तगाली में जवाब दे सकता हूँ। "
          "edX की सहायता टीम आपकी मदद कर सकती है: {url}",
    "zh": "抱歉，我只能用英语、西班牙语、法语和葡萄牙语回答。edX 支持团队可以帮助您：{url}",
    "ja": "申し訳ありませんが、英語・スペイン語・フランス語・ポルトガル語でのみお答えできます。"
          "edX のサポートチームがお手伝いします：{url}",
    "ko": "죄송합니다. 영어, 스페인어, 프랑스어, 포르투갈어로만 답변할 수 있습니다. edX 지원팀이 도와드립니다: {url}",
}


def offer_support(support_url: str, language: str = "en") -> str:
    return _OFFER_SUPPORT.get(language, _OFFER_SUPPORT["en"]).format(url=support_url)


def language_not_answered(support_url: str, language: str) -> str:
    """The honest reply to a message in a language the assistant does not answer."""
    english = _NOT_ANSWERED["en"].format(url=support_url)
    if language not in _NOT_ANSWERED or language == "en":
        return english
    own = _NOT_ANSWERED[language].format(url=support_url)
    return f"{own}\n{english.split(' The edX', 1)[0]}"


def temporarily_unavailable(support_url: str) -> str:
    """When a part of the assistant is down: said within seconds, never an empty reply."""
    return (
        "Sorry, I can't look that up right now. Please try again in a minute, or ask the edX "
        f"learner-support team: {support_url}"
    )


def handoff_started() -> str:
    return (
        "I've asked the learner-support team to help; a person will answer you here in this chat. "
        "Anything you write now goes to them."
    )


def handoff_delayed(support_url: str) -> str:
    return (
        "I couldn't reach the learner-support team just now. I've kept your question and will pass it "
        f"on as soon as I can; you can also contact them directly: {support_url}"
    )


def handoff_unavailable(support_url: str) -> str:
    return (
        "I can't pass this to the learner-support team from here right now. Please contact them "
        f"directly: {support_url}. Meanwhile I'm happy to answer questions about credit, admission, jobs or cost."
    )


def handoff_timed_out(support_url: str) -> str:
    return (
        "Sorry, nobody from the learner-support team was free to pick this up in time. Please contact "
        f"them directly: {support_url}. I'm back, and happy to answer questions about credit, admission, "
        "jobs or cost."
    )


def handoff_closed() -> str:
    return "The support team has handed you back to me. Ask me about credit, admission, jobs or cost any time."


def too_many_messages() -> str:
    """A learner over the message rate limit (`channels.limits`): their message was not read."""
    return ("You're sending messages faster than I can read them, so I skipped the last one. Please wait "
            "a minute, then ask again.")


def too_many_commands() -> str:
    """A staff member over the rate limit for slash commands (`channels.limits`)."""
    return "That is more commands than I take in a minute; please wait a minute and try again."


def support_desk_busy(support_url: str) -> str:
    """Over HANDOFFS_PER_HOUR: the support team gets no new handoff from here for now."""
    return ("The learner-support team is receiving a lot of requests right now, so I can't pass yours on "
            f"from here. Please contact them directly: {support_url}. Meanwhile I'm happy to answer questions "
            "about credit, admission, jobs or cost.")
