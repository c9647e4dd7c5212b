"""The challenge page: a short proof of work in the browser, then back to the page asked for.

Both pages speak the language they are given (see :mod:`guard.i18n`); the script's status
texts come from the catalogue too, JSON-escaped so no text can end the script early.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from guard.i18n import CATALOGUE, known_language, markup, text

VERIFY_PATH = "/guard/challenge/verify"


@dataclass(frozen=True, slots=True)
class ChallengeTicket:
    """A signed proof-of-work challenge to put on the page.

    Args:
        token: the signed challenge token the page's form posts back.
        difficulty: leading zero bits the proof of work needs.
    """

    token: str
    difficulty: int


_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; background: #fff; }}
progress {{ width: 100%; height: 1.25rem; }}
</style>
</head>
<body>
<main>
<h1>{heading}</h1>
<p>{intro}</p>
<form id="guard-challenge" method="post" action="{verify}">
<input type="hidden" name="token" value="{token}">
<input type="hidden" name="counter" value="">
<label for="guard-progress">{progress}</label>
<progress id="guard-progress" max="100" value="0"></progress>
<p id="guard-status" role="status" aria-live="polite">{checking}</p>
<noscript>
<p>{noscript}</p>
</noscript>
</form>
{incident}</main>
<script>
(async () => {{
  const text = {script_text};
  const form = document.getElementById("guard-challenge");
  const status = document.getElementById("guard-status");
  const bar = document.getElementById("guard-progress");
  if (!(window.crypto && crypto.subtle)) {{
    status.textContent = text.insecure;
    return;
  }}
  const token = form.elements.token.value, bits = {difficulty};
  const encoder = new TextEncoder(), expected = 2 ** bits, batch = 256;
  const zeroBits = (digest) => {{
    let count = 0;
    for (const byte of digest) {{
      if (byte !== 0) return count + Math.clz32(byte) - 24;
      count += 8;
    }}
    return count;
  }};
  for (let start = 0; ; start += batch) {{
    const work = [];
    for (let n = start; n < start + batch; n++) {{
      work.push(crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + n)));
    }}
    const digests = await Promise.all(work);
    for (let i = 0; i < batch; i++) {{
      if (zeroBits(new Uint8Array(digests[i])) >= bits) {{
        form.elements.counter.value = String(start + i);
        status.textContent = text.done;
        bar.value = 100;
        form.submit();
        return;
      }}
    }}
    bar.value = Math.min(95, (100 * start) / expected);
  }}
}})();
</script>
</body>
</html>
"""

_FAILED = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title></head>
<body><main><h1>{heading}</h1>
<p>{message}</p>
<p><a href="{back}">{again}</a></p></main></body>
</html>
"""


def challenge_page(
    token: str, difficulty: int, language: str = "en", incident: str | None = None
) -> str:
    """The HTML of a challenge for ``token`` at ``difficulty`` leading zero bits.

    Args:
        token: the signed challenge token the form posts back.
        difficulty: leading zero bits the proof of work needs.
        language: a catalogue language; one not shipped gets English.
        incident: the id to quote to support, for a person who cannot pass the check.
    """
    lang = known_language(language)

    def say(key: str) -> str:
        return html.escape(text(lang, key))

    script_text = {
        "insecure": text(lang, "challenge.insecure"),
        "done": text(lang, "challenge.done"),
    }
    return _PAGE.format(
        lang=lang,
        title=say("challenge.title"),
        heading=say("challenge.heading"),
        intro=say("challenge.intro"),
        progress=say("challenge.progress"),
        checking=say("challenge.checking"),
        noscript=markup(
            lang,
            "challenge.noscript",
            title=f"<strong>{say('challenge.noscript.title')}</strong>",
            body=say("challenge.noscript.body"),
        ),
        script_text=script_json(script_text),
        verify=VERIFY_PATH,
        token=html.escape(token),
        difficulty=int(difficulty),
        incident=(
            f"<p><small>{say('refusal.support')} "
            f"{html.escape(text(lang, 'refusal.incident', incident=incident))}</small></p>\n"
            if incident
            else ""
        ),
    )


def failed_page(problem_key: str, back: str, language: str = "en") -> str:
    """The HTML shown when a solution is refused, with a link to start over.

    Args:
        problem_key: why, as a ``challenge.problem.*`` catalogue key; other text is shown
            (escaped) as it is.
        back: the same-site path the "try again" link returns to.
        language: a catalogue language; one not shipped gets English.
    """
    lang = known_language(language)
    known = problem_key.startswith("challenge.problem.") and problem_key in CATALOGUE[lang]
    message = text(lang, problem_key) if known else problem_key
    return _FAILED.format(
        lang=lang,
        title=html.escape(text(lang, "challenge.failed.title")),
        heading=html.escape(text(lang, "challenge.failed.heading")),
        message=html.escape(message),
        back=html.escape(back),
        again=html.escape(text(lang, "challenge.failed.again")),
    )


def script_json(value: object) -> str:
    """``value`` as a JavaScript literal safe inside an inline ``<script>``.

    ``json.dumps`` with ASCII output already escapes U+2028 and U+2029; escaping ``<``, ``>``
    and ``&`` as well means no text can close the script element or open a comment in it.
    """
    encoded = json.dumps(value, ensure_ascii=True)
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
