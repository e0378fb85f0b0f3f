"""What the assistant says about itself rather than about a program: the support offer, a part
being down, and the handoff to and from the support team. Said by both servers."""


def offer_support(support_url: str) -> str:
    return (
        "I can answer questions about MicroMasters credit, admission, careers and cost, and a few "
        f"general ones. For anything else, the edX learner-support team can help: {support_url}"
    )


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
