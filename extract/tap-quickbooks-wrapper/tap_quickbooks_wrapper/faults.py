"""QuickBooks' Fault answers as one line of text, for the wrapper's own streams' error messages."""


def fault_text(answer: dict) -> str | None:
    """The Fault an answer carries, as "a Fault: <message> (code <code>[, <detail>])", or None
    when it carries none. QuickBooks sends an object with a list of errors; anything else in
    its place (a string, a list) is quoted as it came, so the message still names it."""
    fault = answer.get("Fault") or answer.get("fault")
    if not fault:
        return None
    if not isinstance(fault, dict):
        return f"a Fault: {str(fault)[:200]!r}"
    errors = fault.get("Error") or fault.get("error")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    message = first.get("Message") or first.get("message") or fault.get("type") or "no message"
    detail = first.get("Detail") or first.get("detail")
    return f"a Fault: {message} (code {first.get('code', '?')}{', ' + str(detail) if detail else ''})"
